CREATE TABLE company_integrations (
    id BIGSERIAL PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    changed_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    changed_at BIGINT NOT NULL,
    UNIQUE (company_id, provider)
);

CREATE TABLE connections (
    id BIGSERIAL PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    status TEXT NOT NULL,
    external_user_id TEXT NOT NULL,
    external_account_id TEXT NOT NULL,
    account_name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT,
    api_base TEXT,
    credentials BYTEA,
    last_error_code TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (company_id, user_id, provider),
    UNIQUE (company_id, provider, external_account_id, external_user_id)
);
CREATE INDEX connections_user ON connections(user_id);
