-- A stamp of what each person's connection cards on My Tasks show: a new random value
-- whenever one of their connections changes, a sync of one starts, moves or ends, or
-- their company turns a tool on or off, set by the triggers below in the same
-- transaction as the change (one statement per statement, over its transition tables).
-- An instance keeps the cards it read under the stamp they were read with
-- (services/cards.rs) and reads them again when the person's statement brings another
-- stamp. Random, as `task_stamps` is, so that a change a crash lost and the next one
-- cannot both end on the same stamp.
CREATE TABLE card_stamps (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    stamp BIGINT NOT NULL
);

-- Gives each person in `people` a new stamp (a person gone meanwhile is skipped), in
-- the order of their ids, so that two statements renewing the same people take their
-- rows' locks in the same order.
CREATE FUNCTION card_stamps_renew(people BIGINT[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO card_stamps (user_id, stamp)
    SELECT users.id, (random() * 9.2e18)::bigint
    FROM users WHERE users.id = ANY (people)
    ORDER BY users.id
    ON CONFLICT (user_id) DO UPDATE SET stamp = EXCLUDED.stamp;
$$;

CREATE FUNCTION card_stamps_connections() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM card_stamps_renew(ARRAY(SELECT DISTINCT user_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM card_stamps_renew(ARRAY(SELECT DISTINCT user_id FROM old_rows));
    ELSE
        PERFORM card_stamps_renew(ARRAY(
            SELECT user_id FROM new_rows UNION SELECT user_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION card_stamps_runs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM card_stamps_renew(ARRAY(
            SELECT connections.user_id FROM connections
            WHERE connections.id IN (SELECT connection_id FROM new_rows)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM card_stamps_renew(ARRAY(
            SELECT connections.user_id FROM connections
            WHERE connections.id IN (SELECT connection_id FROM old_rows)));
    ELSE
        PERFORM card_stamps_renew(ARRAY(
            SELECT connections.user_id FROM connections
            WHERE connections.id IN (SELECT connection_id FROM new_rows
                                     UNION SELECT connection_id FROM old_rows)));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION card_stamps_tools() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM card_stamps_renew(ARRAY(
            SELECT users.id FROM users
            WHERE users.company_id IN (SELECT company_id FROM new_rows)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM card_stamps_renew(ARRAY(
            SELECT users.id FROM users
            WHERE users.company_id IN (SELECT company_id FROM old_rows)));
    ELSE
        PERFORM card_stamps_renew(ARRAY(
            SELECT users.id FROM users
            WHERE users.company_id IN (SELECT company_id FROM new_rows
                                       UNION SELECT company_id FROM old_rows)));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER card_stamps_connection_insert AFTER INSERT ON connections
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION card_stamps_connections();
CREATE TRIGGER card_stamps_connection_update AFTER UPDATE ON connections
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION card_stamps_connections();
CREATE TRIGGER card_stamps_connection_delete AFTER DELETE ON connections
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION card_stamps_connections();

CREATE TRIGGER card_stamps_run_insert AFTER INSERT ON sync_runs
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION card_stamps_runs();
CREATE TRIGGER card_stamps_run_update AFTER UPDATE ON sync_runs
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION card_stamps_runs();
CREATE TRIGGER card_stamps_run_delete AFTER DELETE ON sync_runs
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION card_stamps_runs();

CREATE TRIGGER card_stamps_tool_insert AFTER INSERT ON company_integrations
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION card_stamps_tools();
CREATE TRIGGER card_stamps_tool_update AFTER UPDATE ON company_integrations
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION card_stamps_tools();
CREATE TRIGGER card_stamps_tool_delete AFTER DELETE ON company_integrations
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION card_stamps_tools();

-- People who had connections before this migration.
INSERT INTO card_stamps (user_id, stamp)
SELECT user_id, (random() * 9.2e18)::bigint
FROM (SELECT DISTINCT user_id FROM connections) AS people;
