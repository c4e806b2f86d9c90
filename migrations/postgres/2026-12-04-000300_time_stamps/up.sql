-- A stamp of each person's time entries: a new random value whenever an entry of theirs
-- is added, changed or removed, set by the triggers below in the same transaction as
-- the change (one statement per statement on time_entries, over its transition
-- tables). With the stamp of their tasks (whose archived state the week shows), it
-- keys the finished entries of a Timesheet week an instance keeps (services/kept.rs);
-- the person's statement reads both. Random rather than a counter, as task_stamps.
CREATE TABLE time_stamps (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    stamp BIGINT NOT NULL
);

CREATE FUNCTION time_stamps_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO time_stamps (user_id, stamp)
        SELECT user_id, (random() * 9.2e18)::bigint
        FROM (SELECT DISTINCT user_id FROM new_rows) AS people
        ON CONFLICT (user_id) DO UPDATE SET stamp = EXCLUDED.stamp;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE time_stamps SET stamp = (random() * 9.2e18)::bigint
        WHERE user_id IN (SELECT user_id FROM old_rows);
    ELSE
        INSERT INTO time_stamps (user_id, stamp)
        SELECT person, (random() * 9.2e18)::bigint
        FROM (SELECT DISTINCT person
              FROM old_rows o JOIN new_rows n ON n.id = o.id,
                   LATERAL (VALUES (o.user_id), (n.user_id)) AS changed (person)) AS people
        ON CONFLICT (user_id) DO UPDATE SET stamp = EXCLUDED.stamp;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER time_stamps_insert AFTER INSERT ON time_entries
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION time_stamps_touch();

CREATE TRIGGER time_stamps_update AFTER UPDATE ON time_entries
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION time_stamps_touch();

CREATE TRIGGER time_stamps_delete AFTER DELETE ON time_entries
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION time_stamps_touch();

-- People who tracked time before this migration.
INSERT INTO time_stamps (user_id, stamp)
SELECT user_id, (random() * 9.2e18)::bigint
FROM (SELECT DISTINCT user_id FROM time_entries) AS people;
