-- Browsers a person has signed in from: a long-lived cookie holds a random token,
-- kept here as its SHA-256 only. A correct password from a known browser is not held
-- back by sign-in failures from elsewhere.
CREATE TABLE known_devices (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);
CREATE INDEX known_devices_user ON known_devices(user_id);

-- A failed sign-in from a known browser counts against that browser, not its address.
ALTER TABLE sign_in_failures ADD COLUMN device_id BIGINT;
CREATE INDEX sign_in_failures_pair ON sign_in_failures(email, ip, created_at);
