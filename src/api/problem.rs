//! The API's errors: RFC 9457 problem details with a stable `code` from one catalogue.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::services::time::TimeError;

/// Every code the API answers with: the one catalogue clients match on. The
/// `/api/docs` page lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Unauthorized,
    NotFound,
    Invalid,
    NothingRunning,
    Overlap,
    TaskClosed,
    NothingToSync,
    RateLimited,
    Unavailable,
    Internal,
}

impl Code {
    pub const ALL: [Code; 10] = [
        Code::Unauthorized,
        Code::NotFound,
        Code::Invalid,
        Code::NothingRunning,
        Code::Overlap,
        Code::TaskClosed,
        Code::NothingToSync,
        Code::RateLimited,
        Code::Unavailable,
        Code::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unauthorized => "TB-API-UNAUTHORIZED",
            Code::NotFound => "TB-API-NOT-FOUND",
            Code::Invalid => "TB-API-INVALID",
            Code::NothingRunning => "TB-API-NOTHING-RUNNING",
            Code::Overlap => "TB-API-OVERLAP",
            Code::TaskClosed => "TB-API-TASK-CLOSED",
            Code::NothingToSync => "TB-API-NOTHING-TO-SYNC",
            Code::RateLimited => "TB-API-RATE-LIMITED",
            Code::Unavailable => "TB-API-UNAVAILABLE",
            Code::Internal => "TB-API-INTERNAL",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            Code::NothingRunning | Code::Overlap | Code::TaskClosed | Code::NothingToSync => {
                StatusCode::CONFLICT
            }
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Code::Unauthorized => "A valid API token is required",
            Code::NotFound => "Not found",
            Code::Invalid => "Invalid input",
            Code::NothingRunning => "No timer is running",
            Code::Overlap => "The entry overlaps another",
            Code::TaskClosed => "The task is closed",
            Code::NothingToSync => "Nothing to sync",
            Code::RateLimited => "Too many requests",
            Code::Unavailable => "Temporarily unavailable",
            Code::Internal => "Something went wrong",
        }
    }

    /// When a client gets it, and what to do.
    pub fn meaning(self) -> &'static str {
        match self {
            Code::Unauthorized => "401: no bearer token, or one that is unknown or revoked, or its person is disabled. Create a token on the API tokens page.",
            Code::NotFound => "404: no such task or entry among yours (another company's ids answer this too).",
            Code::Invalid => "422: the input is wrong; `field` names the field at fault.",
            Code::NothingRunning => "409: stopping the timer when none is running.",
            Code::Overlap => "409: the entry's times overlap another entry of yours, named by `entry_id`. Change the times, or edit that entry.",
            Code::TaskClosed => "409: the task was closed in its tool or is gone, so no timer starts on it.",
            Code::NothingToSync => "409: Sync now with no integration connected.",
            Code::RateLimited => "429: this token sent more than its rate (TASKBRIDGE_API_RATE_PER_MINUTE, per instance); wait the seconds in Retry-After.",
            Code::Unavailable => "503: the database cannot be reached; retry later.",
            Code::Internal => "500: an error on the server; it has been logged.",
        }
    }

    /// The problem `type`: this code's entry on the API's page.
    pub fn type_uri(self) -> String {
        format!("{}#{}", crate::urls::API_DOCS, self.as_str())
    }
}

/// An RFC 9457 problem details body (`application/problem+json`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// The code's entry on `/api/docs`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The stable code, e.g. `TB-API-NOT-FOUND`.
    pub code: String,
    /// The input field at fault (`TB-API-INVALID`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The entry that the new times overlap (`TB-API-OVERLAP`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<i64>,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unauthorized")]
    Unauthorized,
    #[error("not found")]
    NotFound,
    #[error("invalid {field}: {detail}")]
    Invalid { field: String, detail: String },
    #[error("{0}")]
    NothingRunning(String),
    #[error("{detail}")]
    Overlap { entry_id: i64, detail: String },
    #[error("{0}")]
    TaskClosed(String),
    #[error("nothing to sync")]
    NothingToSync,
    #[error("rate limited")]
    RateLimited { retry_after: u64 },
    #[error(transparent)]
    App(#[from] AppError),
}

impl ApiError {
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: field.to_owned(),
            detail: detail.into(),
        }
    }

    /// A time service's refusal; `field` names the input when the error does not.
    pub fn from_time(e: TimeError, field: &str) -> Self {
        let named = e.field().unwrap_or(field);
        match e {
            TimeError::NotFound => ApiError::NotFound,
            TimeError::App(app) => ApiError::App(app),
            TimeError::NothingRunning => ApiError::NothingRunning(e.to_string()),
            TimeError::Overlap { id, .. } => ApiError::Overlap {
                entry_id: id,
                detail: e.to_string(),
            },
            TimeError::TaskClosed(_) | TimeError::TaskGone => ApiError::TaskClosed(e.to_string()),
            shown => ApiError::invalid(named, shown.to_string()),
        }
    }

    fn code(&self) -> Code {
        match self {
            ApiError::Unauthorized => Code::Unauthorized,
            ApiError::NotFound => Code::NotFound,
            ApiError::Invalid { .. } => Code::Invalid,
            ApiError::NothingRunning(_) => Code::NothingRunning,
            ApiError::Overlap { .. } => Code::Overlap,
            ApiError::TaskClosed(_) => Code::TaskClosed,
            ApiError::NothingToSync => Code::NothingToSync,
            ApiError::RateLimited { .. } => Code::RateLimited,
            ApiError::App(AppError::NotFound) => Code::NotFound,
            ApiError::App(AppError::Unavailable(_)) => Code::Unavailable,
            ApiError::App(_) => Code::Internal,
        }
    }

    pub fn problem(&self) -> Problem {
        let code = self.code();
        let detail = match self {
            ApiError::Unauthorized => {
                "Send a valid personal API token: `Authorization: Bearer tb_…`.".to_owned()
            }
            ApiError::NotFound | ApiError::App(AppError::NotFound) => {
                "There is no such item among yours.".to_owned()
            }
            ApiError::Invalid { detail, .. } => detail.clone(),
            ApiError::NothingRunning(d) | ApiError::TaskClosed(d) => d.clone(),
            ApiError::Overlap { detail, .. } => detail.clone(),
            ApiError::NothingToSync => {
                "There is nothing to sync yet: turn on an integration in Integration Settings."
                    .to_owned()
            }
            ApiError::RateLimited { retry_after } => {
                format!("This token sent too many requests; try again in {retry_after} s.")
            }
            ApiError::App(_) => code.meaning().to_owned(),
        };
        Problem {
            kind: code.type_uri(),
            title: code.title().to_owned(),
            status: code.status().as_u16(),
            detail,
            code: code.as_str().to_owned(),
            field: match self {
                ApiError::Invalid { field, .. } => Some(field.clone()),
                _ => None,
            },
            entry_id: match self {
                ApiError::Overlap { entry_id, .. } => Some(*entry_id),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code().status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "API request failed");
        }
        let mut response = HttpResponse::build(status);
        response
            .content_type(PROBLEM_JSON)
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"taskbridge\""));
        }
        if let ApiError::RateLimited { retry_after } = self {
            response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

/// A JSON body, query or path that did not parse: 422 naming the field where serde
/// says which.
pub fn unparsed(e: actix_web::Error, fallback: &str) -> ApiError {
    let message = e.to_string();
    let field = message
        .split('`')
        .nth(1)
        .filter(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(fallback)
        .to_owned();
    ApiError::Invalid {
        field,
        detail: message,
    }
}

/// For unknown paths under the API's scope.
pub async fn not_found() -> HttpResponse {
    ApiError::NotFound.error_response()
}
