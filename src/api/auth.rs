//! `ApiUser`: the person a bearer token acts for, checked on every request.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::api::problem::ApiError;
use crate::api::rate::RateLimiter;
use crate::db::Pool;
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

impl FromRequest for ApiUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let token = bearer(req);
        let pool = req.app_data::<web::Data<Pool>>().cloned();
        let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
        Box::pin(async move {
            let token = token.ok_or(ApiError::Unauthorized)?;
            let pool = pool.ok_or_else(|| {
                ApiError::App(crate::error::AppError::unexpected(
                    "no database pool in the app data",
                ))
            })?;
            let person = api_tokens::authenticate(&pool, &token)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            if let Some(limiter) = limiter {
                limiter
                    .check(person.token_id)
                    .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
            }
            Ok(ApiUser(person))
        })
    }
}
