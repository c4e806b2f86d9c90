-- Back to one company a person: each login keeps its first company only, and what
-- was theirs in the others goes (time entries by hand: they do not cascade).
DELETE FROM time_entries WHERE user_id IN
    (SELECT id FROM users WHERE id NOT IN (SELECT MIN(id) FROM users GROUP BY login_id));
DELETE FROM users WHERE id NOT IN (SELECT MIN(id) FROM users GROUP BY login_id);
ALTER TABLE users ADD COLUMN email TEXT, ADD COLUMN password_hash TEXT,
    ADD COLUMN email_verified_at BIGINT;
UPDATE users u SET email = l.email, password_hash = l.password_hash,
    email_verified_at = l.email_verified_at
    FROM logins l WHERE l.id = u.login_id;
ALTER TABLE users ALTER COLUMN email SET NOT NULL, ALTER COLUMN password_hash SET NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
ALTER TABLE users DROP COLUMN login_id;
DROP TABLE logins;
