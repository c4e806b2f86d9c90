//! Diesel queries, one module per table family. Everything here runs inside `db::run`.

pub mod api_token;
pub mod audit;
pub mod company;
pub mod integration;
pub mod invite;
pub mod notification;
pub mod sync;
pub mod task;
pub mod time_entry;
pub mod user;
