-- Time tracking. Days are the person's days: the company has a time zone and a week
-- start, and a person may override the time zone (NULL: the company's).
ALTER TABLE companies ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE companies ADD COLUMN week_start TEXT NOT NULL DEFAULT 'monday';
ALTER TABLE users ADD COLUMN time_zone TEXT;

-- An entry belongs to a person in a company. It keeps the task's title, tool, project
-- and link, so its time stays readable when the task is closed in its tool or removed
-- with a disconnected connection (task_id then becomes NULL). Times are UTC seconds;
-- a running timer has no end.
CREATE TABLE time_entries (
    id BIGSERIAL PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    task_id BIGINT REFERENCES tasks(id) ON DELETE SET NULL,
    provider TEXT,
    project TEXT,
    task_title TEXT,
    task_url TEXT,
    note TEXT NOT NULL DEFAULT '',
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- One running timer per person, enforced by the database: two starts at once leave one.
CREATE UNIQUE INDEX time_entries_one_running ON time_entries(user_id) WHERE ended_at IS NULL;
-- A person's week (Timesheet, overlap checks) and a company's range (Reports).
CREATE INDEX time_entries_person ON time_entries(company_id, user_id, started_at);
CREATE INDEX time_entries_company ON time_entries(company_id, started_at);
-- Time per task on My Tasks, and the SET NULL when a task goes.
CREATE INDEX time_entries_task ON time_entries(task_id);
