//! Diesel queries, one module per table (and `sync_pass` for the sync's transactions
//! over several). Everything here runs inside `db::run`.

pub mod api_token;
pub mod audit;
pub mod company;
pub mod company_integration;
pub mod connection;
pub mod email_verification;
pub mod first_run;
pub mod invite;
pub mod key_check;
pub mod known_device;
pub mod login;
pub mod notification;
pub mod outbox;
pub mod password_reset;
pub mod report;
pub mod sync_page;
pub mod sync_pass;
pub mod sync_run;
pub mod sync_worker;
pub mod task;
pub mod time_entry;
pub mod user;
