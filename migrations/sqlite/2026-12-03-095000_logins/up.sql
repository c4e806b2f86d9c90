-- One person, several companies: what belongs to the human (the email they sign in
-- with, the password, the email's confirmation) moves to `logins`; `users` stays one
-- row per person in a company (role, disabled, tasks, time), now with its login.
-- Each existing person gets a login with their own id, so known ids keep meaning.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE logins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    email_verified_at BIGINT,
    -- The company (its `users` row) the person used last: signing in lands there.
    last_user_id BIGINT,
    created_at BIGINT NOT NULL
);
INSERT INTO logins (id, email, password_hash, email_verified_at, last_user_id, created_at)
    SELECT id, email, password_hash, email_verified_at, id, created_at FROM users;

CREATE TABLE users_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    login_id BIGINT NOT NULL REFERENCES logins(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    time_zone TEXT,
    checklist_dismissed_at BIGINT,
    email_notices BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (company_id, login_id)
);
INSERT INTO users_new (id, company_id, login_id, name, role, disabled, created_at,
                       time_zone, checklist_dismissed_at, email_notices)
    SELECT id, company_id, id, name, role, disabled, created_at,
           time_zone, checklist_dismissed_at, email_notices FROM users;
-- Ids of deleted people are not handed out again.
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'users')
    WHERE name IN ('users_new', 'logins')
      AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'users');
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_company ON users(company_id);
CREATE INDEX users_login ON users(login_id);

COMMIT;
PRAGMA foreign_keys = ON;
