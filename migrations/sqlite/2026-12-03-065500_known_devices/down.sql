DROP INDEX sign_in_failures_pair;
ALTER TABLE sign_in_failures DROP COLUMN device_id;
DROP TABLE known_devices;
