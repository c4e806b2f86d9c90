//! "Are you sure?" before a form post that loses something. With the script, the
//! browser's own dialog asks (the form's `data-confirm`) and adds `confirmed=yes`;
//! without it, the post answers a page that asks, whose button posts again with
//! `confirmed=yes`. Nothing is lost on one click either way.

use actix_web::HttpResponse;
use askama::Template;
use serde::Deserialize;

use crate::error::AppResult;
use crate::web::render;
use crate::web::shell::{Action, Nav, Shell, Signed};

/// The `confirmed` field of a form that loses something.
#[derive(Debug, Default, Deserialize)]
pub struct Confirmation {
    #[serde(default)]
    confirmed: Option<String>,
}

impl Confirmation {
    pub fn given(&self) -> bool {
        self.confirmed.as_deref() == Some("yes")
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub shell: Shell,
    pub title: String,
    pub message: String,
    pub action: String,
    pub button: &'static str,
    pub back: String,
}

/// What to ask, and where the answer goes.
pub struct Question {
    pub title: String,
    pub message: String,
    /// The form's own action, posted again with `confirmed=yes`.
    pub action: String,
    pub button: &'static str,
    /// Where "Cancel" goes.
    pub back: String,
}

/// The page that asks, for a browser that posted without the script's dialog.
pub fn ask<U: Signed>(act: &Action<U>, nav: Nav, q: Question) -> AppResult<HttpResponse> {
    render(&ConfirmPage {
        shell: act.shell(nav),
        title: q.title,
        message: q.message,
        action: q.action,
        button: q.button,
        back: q.back,
    })
}
