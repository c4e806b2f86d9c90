//! The device cookie: a random token a browser gets when it signs in, so that the
//! throttle knows it as the person's own browser next time (see `throttle::Source`).
//! Only its SHA-256 is stored (`models::known_device`).

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::{web, HttpRequest};

use crate::config::Settings;

pub const COOKIE: &str = "taskbridge_device";

/// How long a browser keeps its device cookie.
pub const LIFETIME_SECS: i64 = crate::models::known_device::FORGET_AFTER_SECS;

/// A cookie's name as this deployment sets it: `__Host-` in front under https, so that
/// neither a subdomain nor plain http can plant or overwrite it.
pub fn cookie_name(base: &str, tls: bool) -> String {
    if tls {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

fn tls(req: &HttpRequest) -> bool {
    req.app_data::<web::Data<Settings>>()
        .is_some_and(|s| s.served_over_tls())
}

/// The device token this browser presents, if any.
pub fn presented(req: &HttpRequest) -> Option<String> {
    req.cookie(&cookie_name(COOKIE, tls(req)))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The cookie that makes this browser known.
pub fn cookie(req: &HttpRequest, token: String) -> Cookie<'static> {
    let tls = tls(req);
    Cookie::build(cookie_name(COOKIE, tls), token)
        .path("/")
        .http_only(true)
        .secure(tls)
        .same_site(SameSite::Lax)
        .max_age(Duration::seconds(LIFETIME_SECS))
        .finish()
}
