-- One person, several companies: what belongs to the human (the email they sign in
-- with, the password, the email's confirmation) moves to `logins`; `users` stays one
-- row per person in a company (role, disabled, tasks, time), now with its login.
-- Each existing person gets a login with their own id, so known ids keep meaning.
CREATE TABLE logins (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    email_verified_at BIGINT,
    -- The company (its `users` row) the person used last: signing in lands there.
    last_user_id BIGINT,
    created_at BIGINT NOT NULL
);
INSERT INTO logins (id, email, password_hash, email_verified_at, last_user_id, created_at)
    SELECT id, email, password_hash, email_verified_at, id, created_at FROM users;
SELECT setval(pg_get_serial_sequence('logins', 'id'),
              COALESCE((SELECT MAX(id) FROM logins), 0) + 1, false);

ALTER TABLE users ADD COLUMN login_id BIGINT REFERENCES logins(id) ON DELETE CASCADE;
UPDATE users SET login_id = id;
ALTER TABLE users ALTER COLUMN login_id SET NOT NULL;
ALTER TABLE users DROP COLUMN email, DROP COLUMN password_hash, DROP COLUMN email_verified_at;
ALTER TABLE users ADD CONSTRAINT users_one_per_company UNIQUE (company_id, login_id);
CREATE INDEX users_login ON users(login_id);
