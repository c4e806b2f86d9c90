DROP TRIGGER time_stamps_delete;
DROP TRIGGER time_stamps_update;
DROP TRIGGER time_stamps_insert;
DROP TABLE time_stamps;
