#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

//! The HTTP suite: the real application on port 0, a database of its own per test
//! (a temporary SQLite file, or with TEST_DATABASE_URL a fresh PostgreSQL database),
//! and a cookie-keeping client that does not follow redirects.

mod helpers;

mod accounts;
mod accounts_hardening;
mod api_v1;
mod asana;
mod companies;
mod company;
mod confirmations;
mod connector_limits;
mod faults;
mod first_run;
mod github;
mod hardening;
mod instances;
mod integrations;
mod jira;
mod mail;
mod migrations;
mod my_tasks;
mod oauth_walk;
mod paging;
mod people;
mod replay;
mod reports;
mod roles;
mod security;
mod smtp_sink;
mod sync;
mod sync_fencing;
mod time;
mod verification;
