//! CSRF: a per-session token on every state-changing request, whatever its body, plus
//! an Origin check.

use actix_session::{Session, SessionExt};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};

use crate::config::Settings;
use crate::crypto::{random_token, same_secret};
use crate::error::{error_page, AppError, Unexpected};

/// Finding the token field in the part of a multipart body read so far.
mod multipart;

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

/// Checks a token a handler read itself (the guard has checked it already).
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

/// The sandbox's control endpoints (`/sandbox/_control/…`, `/sandbox/<tool>/_control/…`):
/// for demos and tests, not for a page another site shows.
fn is_sandbox_control(path: &str) -> bool {
    path.strip_prefix("/sandbox/").is_some_and(|rest| {
        rest.starts_with("_control/")
            || rest
                .split_once('/')
                .is_some_and(|(_, after)| after.starts_with("_control/"))
    })
}

/// A control request must say `Content-Type: application/json`, which no form and no
/// cross-site request without a CORS preflight (never granted here) can send, and must
/// not come from another origin.
fn sandbox_control_allowed(req: &ServiceRequest) -> bool {
    let json = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.essence_str() == "application/json");
    json && same_origin(req)
}

/// Middleware: refuses unsafe requests from another origin or without the token.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && is_sandbox_control(req.path()) && !sandbox_control_allowed(&req) {
        let problem = "The sandbox's controls take JSON from this site only.".to_owned();
        let response = error_page(StatusCode::FORBIDDEN, ("Request refused", problem));
        return Ok(req.into_response(response).map_into_right_body());
    }
    if safe || is_exempt(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    if let Err(refusal) = check(&mut req).await {
        let response = match refusal {
            Refusal::TooLarge => AppError::PayloadTooLarge.error_response(),
            Refusal::Forbidden(problem) => {
                error_page(StatusCode::FORBIDDEN, ("Request refused", problem))
            }
        };
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

enum Refusal {
    Forbidden(String),
    TooLarge,
}

/// The header a script may send the token in, whatever the body.
pub const HEADER: &str = "x-csrf-token";

/// How far into a multipart body the token field is looked for: past a logo (1 MB)
/// sent before it, no further.
const MULTIPART_SCAN_LIMIT: usize = 2 * 1024 * 1024;

async fn check(req: &mut ServiceRequest) -> Result<(), Refusal> {
    if !same_origin(req) {
        return Err(Refusal::Forbidden(
            "This request came from another site and was refused.".into(),
        ));
    }
    // The token is checked whatever the body: from the header, else from the body's
    // `csrf_token` field, url-encoded or multipart. A request with neither `Origin`
    // nor `Referer` passes only with it.
    let from_header = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let presented = match from_header {
        Some(token) => Some(token),
        None => match multipart_boundary(req) {
            Some(boundary) => multipart_token(req, &boundary).await?,
            None => urlencoded_token(req).await?,
        },
    };
    let session = req.get_session();
    match (presented, session.get::<String>(SESSION_KEY)) {
        (Some(presented), Ok(Some(expected))) if same_secret(&expected, &presented) => Ok(()),
        _ => Err(Refusal::Forbidden(expired_form().to_string())),
    }
}

/// Whether `Origin` (else `Referer`) names this site; a request with neither passes
/// here and must still bring the token.
fn same_origin(req: &ServiceRequest) -> bool {
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
}

async fn urlencoded_token(req: &mut ServiceRequest) -> Result<Option<String>, Refusal> {
    let body = req
        .extract::<web::Bytes>()
        .await
        .map_err(|_| Refusal::TooLarge)?;
    let presented = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v.into_owned());
    req.set_payload(actix_web::dev::Payload::from(body));
    Ok(presented)
}

fn multipart_boundary(req: &ServiceRequest) -> Option<String> {
    let mime = req.mime_type().ok().flatten()?;
    if mime.essence_str() != "multipart/form-data" {
        return None;
    }
    // A multipart body without a boundary has no fields: an empty one finds none.
    Some(
        mime.get_param("boundary")
            .map(|b| b.as_str().to_owned())
            .unwrap_or_default(),
    )
}

/// Reads a multipart body only as far as its `csrf_token` field (the app's forms put
/// it first), then hands everything read back to the handler, unchanged.
async fn multipart_token(
    req: &mut ServiceRequest,
    boundary: &str,
) -> Result<Option<String>, Refusal> {
    use futures_util::StreamExt;
    let mut payload = req.take_payload();
    let mut read = web::BytesMut::new();
    let found = loop {
        match multipart::scan(&read, boundary) {
            multipart::Scan::Found(token) => break Some(token),
            multipart::Scan::Absent => break None,
            multipart::Scan::More if read.len() > MULTIPART_SCAN_LIMIT => break None,
            multipart::Scan::More => {}
        }
        match payload.next().await {
            Some(Ok(chunk)) => read.extend_from_slice(&chunk),
            Some(Err(_)) | None => break None,
        }
    };
    let Some(token) = found else {
        return Ok(None);
    };
    let head = futures_util::stream::once(std::future::ready(Ok(read.freeze())));
    type Chunks = std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>>,
    >;
    let whole: Chunks = Box::pin(head.chain(payload));
    req.set_payload(actix_web::dev::Payload::from(whole));
    Ok(Some(token))
}

/// The origin of the host the request was addressed to (tests bind port 0).
fn same_host_origin(req: &ServiceRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}
