#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! The browser suite: real pages in headless Chromium through chromedriver (Debian's
//! `chromium` and `chromium-driver`). Without them it says so in one line and passes,
//! except under CI=true, where a suite that cannot run fails.

#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

#[path = "../api/smtp_sink.rs"]
#[allow(dead_code)]
mod smtp_sink;

mod account;
mod confirmations;
mod driver;
mod flows;
mod integrations;
mod jira;
mod mail;
mod phone;
mod reports;
mod sync;
mod time;
