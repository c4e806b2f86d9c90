//! CSRF: a per-session token on every state-changing form, plus an Origin check.

use actix_session::{Session, SessionExt};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use crate::config::Settings;
use crate::crypto::{random_token, same_secret};
use crate::error::{error_page, AppError, Unexpected};

pub const SESSION_KEY: &str = "csrf";
pub const FIELD: &str = "csrf_token";

/// The session's token, created on first use.
pub fn token(session: &Session) -> Result<String, AppError> {
    if let Ok(Some(existing)) = session.get::<String>(SESSION_KEY) {
        return Ok(existing);
    }
    let fresh = random_token();
    session
        .insert(SESSION_KEY, &fresh)
        .unexpected("saving the CSRF token in the session")?;
    Ok(fresh)
}

/// Checks a token presented outside a url-encoded form (multipart uploads).
pub fn verify(session: &Session, presented: &str) -> Result<(), AppError> {
    match session.get::<String>(SESSION_KEY) {
        Ok(Some(expected)) if same_secret(&expected, presented) => Ok(()),
        _ => Err(expired_form()),
    }
}

fn expired_form() -> AppError {
    AppError::BadRequest(
        "This form has expired or did not come from taskbridge. Go back, reload the page and try again.".into(),
    )
}

fn is_exempt(path: &str) -> bool {
    // The emulated tools are other parties: they answer server-to-server calls and
    // run their own consent forms. The JSON API authenticates by bearer token only and
    // never reads the session cookie, so a cross-site request to it carries no
    // authority to forge.
    path.starts_with("/sandbox/")
        || path
            .strip_prefix(crate::urls::API_SCOPE)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Middleware: refuses unsafe requests from another origin or without the token.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || is_exempt(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    if let Some(problem) = check(&mut req).await {
        let response = error_page(StatusCode::FORBIDDEN, ("Request refused", problem));
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

async fn check(req: &mut ServiceRequest) -> Option<String> {
    let origin_ok = {
        let expected = req
            .app_data::<web::Data<Settings>>()
            .map(|s| s.origin())
            .unwrap_or_default();
        let headers = req.headers();
        let from_origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let from_referer = headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| {
                url::Url::parse(r)
                    .ok()
                    .map(|u| u.origin().ascii_serialization())
            });
        match from_origin.map(str::to_owned).or(from_referer) {
            Some(origin) => origin == expected || origin == same_host_origin(req),
            None => true,
        }
    };
    if !origin_ok {
        return Some("This request came from another site and was refused.".into());
    }
    let multipart = req.content_type().starts_with("multipart/form-data");
    if multipart {
        // Multipart handlers check the token field themselves (see `verify`).
        return None;
    }
    let body = match req.extract::<web::Bytes>().await {
        Ok(body) => body,
        Err(_) => return Some("The form was too large.".into()),
    };
    let presented = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v.into_owned());
    req.set_payload(actix_web::dev::Payload::from(body));
    let session = req.get_session();
    match (presented, session.get::<String>(SESSION_KEY)) {
        (Some(presented), Ok(Some(expected))) if same_secret(&expected, &presented) => None,
        _ => Some(expired_form().to_string()),
    }
}

/// The origin of the host the request was addressed to (tests bind port 0).
fn same_host_origin(req: &ServiceRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}
