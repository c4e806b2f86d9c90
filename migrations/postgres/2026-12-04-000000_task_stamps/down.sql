DROP TRIGGER task_stamps_delete ON tasks;
DROP TRIGGER task_stamps_update ON tasks;
DROP TRIGGER task_stamps_insert ON tasks;
DROP FUNCTION task_stamps_touch();
DROP TABLE task_stamps;
