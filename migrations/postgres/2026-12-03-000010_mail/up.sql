-- Mail waiting to go out, and (without TASKBRIDGE_SMTP_URL) the outbox owners and
-- admins read in the app. Written in the same transaction as what it tells about.
CREATE TABLE mail_outbox (
    id BIGSERIAL PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- A path in the app, made a full link with TASKBRIDGE_BASE_URL when the mail is read.
    link TEXT,
    -- Who may read the body in the outbox: 'managers' (owners and admins) or 'owners'.
    readers TEXT NOT NULL,
    -- 'queued', 'sending', 'sent' or 'failed'.
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox(status, next_try_at);
CREATE INDEX mail_outbox_company ON mail_outbox(company_id, id);

-- "Forgot password?" links: single use, short lived, only a digest kept.
CREATE TABLE password_resets (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_resets_user ON password_resets(user_id);

-- Every "Forgot password?" request, known address or not, for throttling.
CREATE TABLE password_reset_requests (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    ip TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX password_reset_requests_email ON password_reset_requests(email, created_at);
CREATE INDEX password_reset_requests_ip ON password_reset_requests(ip, created_at);

-- Each person can turn off notification emails (Your settings).
ALTER TABLE users ADD COLUMN email_notices BOOLEAN NOT NULL DEFAULT TRUE;
