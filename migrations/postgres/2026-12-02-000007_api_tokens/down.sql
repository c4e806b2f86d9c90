DROP INDEX time_entries_client_id;
ALTER TABLE time_entries DROP COLUMN client_id;
DROP TABLE api_tokens;
