-- Fencing per lease (models/connection.rs): every lease taken, and every reconnect,
-- bumps the generation; a run's writes land only while it is still the one it took.
ALTER TABLE connections ADD COLUMN lease_generation BIGINT NOT NULL DEFAULT 0;
-- "Sync now" asked for and not yet picked up: the run that picks it up is manual.
ALTER TABLE connections ADD COLUMN sync_requested BOOLEAN NOT NULL DEFAULT FALSE;
-- When the person last asked for "Sync now", for its cooldown.
ALTER TABLE connections ADD COLUMN sync_now_at BIGINT;

-- The sync engines alive: each beats every few seconds, so a lease held by one that
-- stopped beating (a killed process) is free at once, before it runs out.
CREATE TABLE sync_workers (
    owner TEXT PRIMARY KEY NOT NULL,
    seen_at BIGINT NOT NULL
);

-- A known value sealed with the secret key, so that a server started with another
-- key refuses to start instead of failing every sync.
CREATE TABLE key_check (
    id BIGINT PRIMARY KEY NOT NULL,
    sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

-- Runs still marked running: few, read on every sync status poll and at every lease.
CREATE INDEX sync_runs_running ON sync_runs(connection_id) WHERE status = 'running';
