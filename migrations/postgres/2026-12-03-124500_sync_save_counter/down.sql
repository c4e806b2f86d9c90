ALTER TABLE connections DROP COLUMN lease_saves;
