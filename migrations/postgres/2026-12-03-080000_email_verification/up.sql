-- An account is usable once its email is confirmed by a mailed link. Accounts made
-- before this count as confirmed.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
UPDATE users SET email_verified_at = created_at;

-- The mailed links: only a SHA-256 of each is kept; single use, short lived.
CREATE TABLE email_verifications (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_verifications_user ON email_verifications(user_id);

-- Mails sign-up sends (a link again, "someone tried to sign up with your email"),
-- counted for throttling whether or not the address has an account.
CREATE TABLE email_verification_requests (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    ip TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX email_verification_requests_email ON email_verification_requests(email, created_at);
CREATE INDEX email_verification_requests_ip ON email_verification_requests(ip, created_at);
