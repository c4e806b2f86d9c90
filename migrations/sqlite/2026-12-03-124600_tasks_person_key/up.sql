-- PostgreSQL drops tasks.user_id's foreign key here (see its up.sql): every page a
-- sync writes checks it once a row, for nothing the key on tasks.connection_id does not
-- guard. SQLite keeps it: dropping a key means rebuilding the table, whose implicit
-- delete would fire time_entries' ON DELETE SET NULL, and its check is cheap here.
SELECT 1;
