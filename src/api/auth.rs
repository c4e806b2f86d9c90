//! `ApiUser`: the person a bearer token acts for, checked on every request.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::api::problem::ApiError;
use crate::api::rate::RateLimiter;
use crate::db::{self, DbConn, Pool};
use crate::error::AppError;
use crate::services::api_tokens::{self, ApiPerson};

/// The person behind `Authorization: Bearer <token>`. A missing, unknown or revoked
/// token, or a disabled person, is a 401 problem; a token over its rate, a 429. The
/// session is never read.
pub struct ApiUser(pub ApiPerson);

impl std::ops::Deref for ApiUser {
    type Target = ApiPerson;

    fn deref(&self) -> &ApiPerson {
        &self.0
    }
}

/// The token from the Authorization header (scheme case-insensitive).
fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The bearer token of a request, not yet checked: a handler that reads the database
/// anyway checks it in the same trip ([`Bearer::check`]). A missing token is a 401
/// here already.
pub struct Bearer {
    token: String,
    limiter: Option<web::Data<RateLimiter>>,
}

impl Bearer {
    /// The person the token acts for, inside the caller's trip to the database: a
    /// token that opens nothing is a 401, one over its rate a 429.
    pub fn check(&self, conn: &mut DbConn) -> Result<Result<ApiPerson, ApiError>, AppError> {
        let Some(person) = api_tokens::authenticate_in(conn, &self.token)? else {
            return Ok(Err(ApiError::Unauthorized));
        };
        if let Some(limiter) = &self.limiter {
            if let Err(retry_after) = limiter.check(person.token_id) {
                return Ok(Err(ApiError::RateLimited { retry_after }));
            }
        }
        Ok(Ok(person))
    }
}

impl FromRequest for Bearer {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
        std::future::ready(
            bearer(req)
                .map(|token| Bearer { token, limiter })
                .ok_or(ApiError::Unauthorized),
        )
    }
}

impl FromRequest for ApiUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let bearer = Bearer::from_request(req, payload).into_inner();
        let pool = req.app_data::<web::Data<Pool>>().cloned();
        Box::pin(async move {
            let bearer = bearer?;
            let pool = pool.ok_or_else(|| {
                ApiError::App(AppError::unexpected("no database pool in the app data"))
            })?;
            let person = db::run(&pool, move |conn| bearer.check(conn)).await??;
            Ok(ApiUser(person))
        })
    }
}
