-- The stamp of a person's tasks now covers what My Tasks' list shows of them, not only
-- what its filter values count: a new stamp also when a task's title, tool, due date or
-- link changes. An instance keeps the last unfiltered page of the list it read for a
-- person under the stamp it read before it (services/kept.rs), as it keeps the filter
-- values, and reads the page again when the person's statement brings another stamp.
CREATE OR REPLACE FUNCTION task_stamps_touch() RETURNS trigger LANGUAGE plpgsql AS $$
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
              WHERE (o.user_id, o.archived, o.project, o.status,
                     o.provider, o.title, o.due_on, o.url)
                    IS DISTINCT FROM (n.user_id, n.archived, n.project, n.status,
                                      n.provider, n.title, n.due_on, n.url)) AS people
        ON CONFLICT (user_id) DO UPDATE SET stamp = EXCLUDED.stamp;
    END IF;
    RETURN NULL;
END
$$;
