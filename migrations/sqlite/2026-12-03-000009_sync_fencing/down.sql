DROP INDEX sync_runs_running;
DROP TABLE key_check;
DROP TABLE sync_workers;
ALTER TABLE connections DROP COLUMN sync_now_at;
ALTER TABLE connections DROP COLUMN sync_requested;
ALTER TABLE connections DROP COLUMN lease_generation;
