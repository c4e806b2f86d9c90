-- A stamp of what each person's connection cards on My Tasks show: a new random value
-- whenever one of their connections changes, a sync of one starts, moves or ends, or
-- their company turns a tool on or off, set by the triggers below in the same
-- transaction as the change. An instance keeps the cards it read under the stamp they
-- were read with (services/cards.rs) and reads them again when the person's statement
-- brings another stamp. Random, as `task_stamps` is, so that a change a crash lost and
-- the next one cannot both end on the same stamp.
CREATE TABLE card_stamps (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    stamp BIGINT NOT NULL
);

CREATE TRIGGER card_stamps_connection_insert AFTER INSERT ON connections
BEGIN
    INSERT INTO card_stamps (user_id, stamp) VALUES (NEW.user_id, random())
    ON CONFLICT (user_id) DO UPDATE SET stamp = excluded.stamp;
END;

CREATE TRIGGER card_stamps_connection_update AFTER UPDATE ON connections
BEGIN
    INSERT INTO card_stamps (user_id, stamp) VALUES (NEW.user_id, random())
    ON CONFLICT (user_id) DO UPDATE SET stamp = excluded.stamp;
    UPDATE card_stamps SET stamp = random()
    WHERE user_id = OLD.user_id AND OLD.user_id IS NOT NEW.user_id;
END;

CREATE TRIGGER card_stamps_connection_delete AFTER DELETE ON connections
BEGIN
    UPDATE card_stamps SET stamp = random() WHERE user_id = OLD.user_id;
END;

CREATE TRIGGER card_stamps_run_insert AFTER INSERT ON sync_runs
BEGIN
    INSERT INTO card_stamps (user_id, stamp)
    SELECT user_id, random() FROM connections WHERE id = NEW.connection_id
    ON CONFLICT (user_id) DO UPDATE SET stamp = excluded.stamp;
END;

CREATE TRIGGER card_stamps_run_update AFTER UPDATE ON sync_runs
BEGIN
    INSERT INTO card_stamps (user_id, stamp)
    SELECT user_id, random() FROM connections
    WHERE id IN (OLD.connection_id, NEW.connection_id)
    ON CONFLICT (user_id) DO UPDATE SET stamp = excluded.stamp;
END;

CREATE TRIGGER card_stamps_run_delete AFTER DELETE ON sync_runs
BEGIN
    UPDATE card_stamps SET stamp = random()
    WHERE user_id IN (SELECT user_id FROM connections WHERE id = OLD.connection_id);
END;

CREATE TRIGGER card_stamps_tool_insert AFTER INSERT ON company_integrations
BEGIN
    INSERT INTO card_stamps (user_id, stamp)
    SELECT id, random() FROM users WHERE company_id = NEW.company_id
    ON CONFLICT (user_id) DO UPDATE SET stamp = excluded.stamp;
END;

CREATE TRIGGER card_stamps_tool_update AFTER UPDATE ON company_integrations
BEGIN
    INSERT INTO card_stamps (user_id, stamp)
    SELECT id, random() FROM users WHERE company_id IN (OLD.company_id, NEW.company_id)
    ON CONFLICT (user_id) DO UPDATE SET stamp = excluded.stamp;
END;

CREATE TRIGGER card_stamps_tool_delete AFTER DELETE ON company_integrations
BEGIN
    UPDATE card_stamps SET stamp = random()
    WHERE user_id IN (SELECT id FROM users WHERE company_id = OLD.company_id);
END;

-- People who had connections before this migration.
INSERT INTO card_stamps (user_id, stamp)
SELECT user_id, random() FROM (SELECT DISTINCT user_id FROM connections);
