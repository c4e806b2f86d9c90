DROP TABLE sign_in_failures;
DROP TABLE audit_log;
DROP TABLE notifications;
DROP TABLE sessions;
DROP TABLE invites;
DROP TABLE users;
DROP TABLE companies;
