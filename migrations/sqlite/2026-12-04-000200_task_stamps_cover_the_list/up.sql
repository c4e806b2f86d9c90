-- The stamp of a person's tasks now covers what My Tasks' list shows of them, not only
-- what its filter values count: a new stamp also when a task's title, tool, due date or
-- link changes. An instance keeps the last unfiltered page of the list it read for a
-- person under the stamp it read before it (services/kept.rs), as it keeps the filter
-- values, and reads the page again when the person's statement brings another stamp.
DROP TRIGGER task_stamps_update;

CREATE TRIGGER task_stamps_update AFTER UPDATE OF user_id, archived, project, status, provider, title, due_on, url ON tasks
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.archived IS NOT NEW.archived
  OR OLD.project IS NOT NEW.project OR OLD.status IS NOT NEW.status
  OR OLD.provider IS NOT NEW.provider OR OLD.title IS NOT NEW.title
  OR OLD.due_on IS NOT NEW.due_on OR OLD.url IS NOT NEW.url
BEGIN
    INSERT INTO task_stamps (user_id, stamp) VALUES (NEW.user_id, random())
    ON CONFLICT (user_id) DO UPDATE SET stamp = excluded.stamp;
    UPDATE task_stamps SET stamp = random() WHERE user_id = OLD.user_id;
END;
