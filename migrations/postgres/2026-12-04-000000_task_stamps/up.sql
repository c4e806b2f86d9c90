-- A stamp of each person's open tasks as My Tasks' filter values see them: a new random
-- value whenever a task of theirs is added, removed, or changes person, project, status
-- or archived, set by the triggers below in the same transaction as the change (one
-- statement per statement on tasks, over its transition tables, so a page of a sync
-- costs one more statement, not one per task). An instance keeps the filter values it
-- read under the stamp they were read with (services/facets.rs) and reads them again
-- when the person's statement brings another stamp. A random value rather than a
-- counter: a page save commits without waiting for the disk, and a change a crash lost
-- and the next one cannot both end on the same stamp.
CREATE TABLE task_stamps (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    stamp BIGINT NOT NULL
);

CREATE FUNCTION task_stamps_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_stamps (user_id, stamp)
        SELECT user_id, (random() * 9.2e18)::bigint
        FROM (SELECT DISTINCT user_id FROM new_rows) AS people
        ON CONFLICT (user_id) DO UPDATE SET stamp = EXCLUDED.stamp;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE task_stamps SET stamp = (random() * 9.2e18)::bigint
        WHERE user_id IN (SELECT user_id FROM old_rows);
    ELSE
        INSERT INTO task_stamps (user_id, stamp)
        SELECT person, (random() * 9.2e18)::bigint
        FROM (SELECT DISTINCT person
              FROM old_rows o JOIN new_rows n ON n.id = o.id,
                   LATERAL (VALUES (o.user_id), (n.user_id)) AS changed (person)
              WHERE (o.user_id, o.archived, o.project, o.status)
                    IS DISTINCT FROM (n.user_id, n.archived, n.project, n.status)) AS people
        ON CONFLICT (user_id) DO UPDATE SET stamp = EXCLUDED.stamp;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER task_stamps_insert AFTER INSERT ON tasks
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION task_stamps_touch();

CREATE TRIGGER task_stamps_update AFTER UPDATE ON tasks
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION task_stamps_touch();

CREATE TRIGGER task_stamps_delete AFTER DELETE ON tasks
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION task_stamps_touch();

-- People who had tasks before this migration.
INSERT INTO task_stamps (user_id, stamp)
SELECT user_id, (random() * 9.2e18)::bigint FROM (SELECT DISTINCT user_id FROM tasks) AS people;
