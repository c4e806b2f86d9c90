DROP TRIGGER time_stamps_delete ON time_entries;
DROP TRIGGER time_stamps_update ON time_entries;
DROP TRIGGER time_stamps_insert ON time_entries;
DROP FUNCTION time_stamps_touch();
DROP TABLE time_stamps;
