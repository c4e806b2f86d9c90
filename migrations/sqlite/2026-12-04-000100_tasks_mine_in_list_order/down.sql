DROP INDEX tasks_mine;
CREATE INDEX tasks_mine ON tasks(user_id, archived, provider, project, due_on, status);
