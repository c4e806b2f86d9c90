-- Personal API tokens for desktop clients. Only the SHA-256 of a token is kept; the
-- token itself is shown once. Revoked tokens stay listed (revoked_at), and go with
-- their person.
CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- A client-made id (a UUID) on entries posted through the API: the same id posted
-- again finds the entry already made. NULLs are distinct, so page-made entries are
-- unaffected.
ALTER TABLE time_entries ADD COLUMN client_id TEXT;
CREATE UNIQUE INDEX time_entries_client_id ON time_entries(user_id, client_id);
