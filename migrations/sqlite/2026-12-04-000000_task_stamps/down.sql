DROP TRIGGER task_stamps_delete;
DROP TRIGGER task_stamps_update;
DROP TRIGGER task_stamps_insert;
DROP TABLE task_stamps;
