-- The stamp as it was: only what the filter values count.
DROP TRIGGER task_stamps_update;

CREATE TRIGGER task_stamps_update AFTER UPDATE OF user_id, archived, project, status ON tasks
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.archived IS NOT NEW.archived
  OR OLD.project IS NOT NEW.project OR OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO task_stamps (user_id, stamp) VALUES (NEW.user_id, random())
    ON CONFLICT (user_id) DO UPDATE SET stamp = excluded.stamp;
    UPDATE task_stamps SET stamp = random() WHERE user_id = OLD.user_id;
END;
