-- A stamp of each person's open tasks as My Tasks' filter values see them: a new random
-- value whenever a task of theirs is added, removed, or changes person, project, status
-- or archived, set by the triggers below in the same transaction as the change. An
-- instance keeps the filter values it read under the stamp they were read with
-- (services/facets.rs) and reads them again when the person's statement brings another
-- stamp. A random value rather than a counter: a change a crash lost and the next one
-- cannot both end on the same stamp.
CREATE TABLE task_stamps (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    stamp BIGINT NOT NULL
);

CREATE TRIGGER task_stamps_insert AFTER INSERT ON tasks
BEGIN
    INSERT INTO task_stamps (user_id, stamp) VALUES (NEW.user_id, random())
    ON CONFLICT (user_id) DO UPDATE SET stamp = excluded.stamp;
END;

CREATE TRIGGER task_stamps_update AFTER UPDATE OF user_id, archived, project, status ON tasks
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.archived IS NOT NEW.archived
  OR OLD.project IS NOT NEW.project OR OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO task_stamps (user_id, stamp) VALUES (NEW.user_id, random())
    ON CONFLICT (user_id) DO UPDATE SET stamp = excluded.stamp;
    UPDATE task_stamps SET stamp = random() WHERE user_id = OLD.user_id;
END;

CREATE TRIGGER task_stamps_delete AFTER DELETE ON tasks
BEGIN
    UPDATE task_stamps SET stamp = random() WHERE user_id = OLD.user_id;
END;

-- People who had tasks before this migration.
INSERT INTO task_stamps (user_id, stamp)
SELECT user_id, random() FROM (SELECT DISTINCT user_id FROM tasks);
