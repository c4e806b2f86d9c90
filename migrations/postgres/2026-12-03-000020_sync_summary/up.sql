-- What the last finished sync brought, for "Synced just now · 3 new, 1 closed".
ALTER TABLE connections ADD COLUMN last_added BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN last_closed BIGINT NOT NULL DEFAULT 0;
