-- Back to one company a person: each login keeps its first company only, and what
-- was theirs in the others goes (time entries by hand: they do not cascade).
DELETE FROM time_entries WHERE user_id IN
    (SELECT id FROM users WHERE id NOT IN (SELECT MIN(id) FROM users GROUP BY login_id));
DELETE FROM users WHERE id NOT IN (SELECT MIN(id) FROM users GROUP BY login_id);
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE users_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    time_zone TEXT,
    checklist_dismissed_at BIGINT,
    email_notices BOOLEAN NOT NULL DEFAULT TRUE,
    email_verified_at BIGINT
);
INSERT INTO users_old (id, company_id, email, name, password_hash, role, disabled,
                       created_at, time_zone, checklist_dismissed_at, email_notices,
                       email_verified_at)
    SELECT u.id, u.company_id, l.email, u.name, l.password_hash, u.role, u.disabled,
           u.created_at, u.time_zone, u.checklist_dismissed_at, u.email_notices,
           l.email_verified_at
    FROM users u JOIN logins l ON l.id = u.login_id
    WHERE u.id = (SELECT MIN(id) FROM users f WHERE f.login_id = u.login_id);
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
CREATE INDEX users_company ON users(company_id);
DROP TABLE logins;

COMMIT;
PRAGMA foreign_keys = ON;
