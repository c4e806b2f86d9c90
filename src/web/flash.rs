//! One-shot messages carried across a redirect.

use actix_session::Session;
use serde::{Deserialize, Serialize};

const KEY: &str = "flash";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub kind: FlashKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum FlashKind {
    Success,
    Error,
}

impl Flash {
    pub fn css(&self) -> &'static str {
        match self.kind {
            FlashKind::Success => "flash flash-success",
            FlashKind::Error => "flash flash-error",
        }
    }
}

pub fn success(session: &Session, message: impl Into<String>) {
    set(session, FlashKind::Success, message.into());
}

pub fn error(session: &Session, message: impl Into<String>) {
    set(session, FlashKind::Error, message.into());
}

fn set(session: &Session, kind: FlashKind, message: String) {
    // Losing a flash message is harmless; the action itself already happened.
    let _ = session.insert(KEY, Flash { kind, message });
}

pub fn take(session: &Session) -> Option<Flash> {
    // Only a present flash is removed: removing marks the session changed, and a
    // changed session is written back.
    if !session.contains_key(KEY) {
        return None;
    }
    session.remove_as::<Flash>(KEY).and_then(Result::ok)
}
