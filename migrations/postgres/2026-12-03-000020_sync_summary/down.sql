ALTER TABLE connections DROP COLUMN last_closed;
ALTER TABLE connections DROP COLUMN last_added;
