DROP TABLE time_entries;
ALTER TABLE users DROP COLUMN time_zone;
ALTER TABLE companies DROP COLUMN week_start;
ALTER TABLE companies DROP COLUMN time_zone;
