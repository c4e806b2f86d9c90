ALTER TABLE users DROP COLUMN email_notices;
DROP TABLE password_reset_requests;
DROP TABLE password_resets;
DROP TABLE mail_outbox;
