ALTER TABLE connections ADD COLUMN next_sync_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN lease_owner TEXT;
ALTER TABLE connections ADD COLUMN lease_until BIGINT;
ALTER TABLE connections ADD COLUMN sync_cursor TEXT;
ALTER TABLE connections ADD COLUMN pass_id BIGINT;
ALTER TABLE connections ADD COLUMN last_sync_at BIGINT;
ALTER TABLE connections ADD COLUMN last_error TEXT;
CREATE INDEX connections_due ON connections(next_sync_at);

CREATE TABLE tasks (
    id BIGSERIAL PRIMARY KEY,
    connection_id BIGINT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    external_id TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    project TEXT NOT NULL,
    due_on TEXT,
    url TEXT,
    content_hash TEXT NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    seen_pass BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (connection_id, external_id)
);
CREATE INDEX tasks_mine ON tasks(user_id, archived, provider, project, due_on);

CREATE TABLE sync_runs (
    id BIGSERIAL PRIMARY KEY,
    connection_id BIGINT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    trigger TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    fetched BIGINT NOT NULL DEFAULT 0,
    added BIGINT NOT NULL DEFAULT 0,
    updated BIGINT NOT NULL DEFAULT 0,
    archived BIGINT NOT NULL DEFAULT 0,
    error_code TEXT,
    error_message TEXT
);
CREATE INDEX sync_runs_connection ON sync_runs(connection_id, id);
