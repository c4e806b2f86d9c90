-- The saves of the pass under the lease held (models/sync_pass.rs): taking the lease
-- sets it to 0, every save of the pass compares it with the run's own count and bumps
-- it. On PostgreSQL a page's save commits without waiting for the disk, so a crash of
-- the database may lose saves the run was told had landed; the count on the row then
-- falls behind the run's, and the run's next save is refused as if its lease were lost.
ALTER TABLE connections ADD COLUMN lease_saves BIGINT NOT NULL DEFAULT 0;
