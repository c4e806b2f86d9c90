//! Diesel queries, one module per table (and `sync_pass` for the sync's transactions
//! over several). Everything here runs inside `db::run`.

pub mod audit;
pub mod company;
pub mod company_integration;
pub mod connection;
pub mod invite;
pub mod notification;
pub mod sync_page;
pub mod sync_pass;
pub mod sync_run;
pub mod task;
pub mod time_entry;
pub mod user;

/// The names `web/tasks.rs` still uses from before the models were split by table
/// (that file is being changed on `main`); remove once it imports the table modules.
pub mod integration {
    pub use super::company_integration::enabled_providers;
    pub use super::connection::{for_user, Connection, STATUS_NEEDS_RECONNECT};
}

/// See [`integration`]: the old name of what `web/tasks.rs` reads of sync runs.
pub mod sync {
    pub use super::connection::make_due;
    pub use super::sync_run::running_for_user;
}
