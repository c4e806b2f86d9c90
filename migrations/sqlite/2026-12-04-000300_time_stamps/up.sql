-- A stamp of each person's time entries: a new random value whenever an entry of theirs
-- is added, changed or removed, set by the triggers below in the same transaction as
-- the change. With the stamp of their tasks (whose archived state the week shows), it
-- keys the finished entries of a Timesheet week an instance keeps (services/kept.rs);
-- the person's statement reads both. Random rather than a counter, as task_stamps.
CREATE TABLE time_stamps (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    stamp BIGINT NOT NULL
);

CREATE TRIGGER time_stamps_insert AFTER INSERT ON time_entries
BEGIN
    INSERT INTO time_stamps (user_id, stamp) VALUES (NEW.user_id, random())
    ON CONFLICT (user_id) DO UPDATE SET stamp = excluded.stamp;
END;

CREATE TRIGGER time_stamps_update AFTER UPDATE ON time_entries
BEGIN
    INSERT INTO time_stamps (user_id, stamp) VALUES (NEW.user_id, random())
    ON CONFLICT (user_id) DO UPDATE SET stamp = excluded.stamp;
    UPDATE time_stamps SET stamp = random() WHERE user_id = OLD.user_id;
END;

CREATE TRIGGER time_stamps_delete AFTER DELETE ON time_entries
BEGIN
    UPDATE time_stamps SET stamp = random() WHERE user_id = OLD.user_id;
END;

-- People who tracked time before this migration.
INSERT INTO time_stamps (user_id, stamp)
SELECT user_id, random() FROM (SELECT DISTINCT user_id FROM time_entries);
