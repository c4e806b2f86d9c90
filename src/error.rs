//! One error type at the HTTP boundary. What a person sees is an explicit variant
//! with a safe message; causes are logged, never shown.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("sign-in required")]
    SignInRequired,
    #[error("{0}")]
    BadRequest(String),
    /// Sent with `Retry-After: 60`; a page that knows the wait sets its own.
    #[error("{0}")]
    TooManyRequests(String),
    /// A body over the limit for its route.
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A failure the person cannot act on; the chain of causes is logged.
    #[error("unexpected: {0:#}")]
    Unexpected(#[from] anyhow::Error),
    #[error("database error: {0}")]
    Database(diesel::result::Error),
    #[error("template error: {0}")]
    Template(#[from] askama::Error),
    /// Why the server will not start, in one line for whoever runs it.
    #[error("{0}")]
    Startup(String),
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            // The one place a missing row becomes a 404.
            diesel::result::Error::NotFound => AppError::NotFound,
            other => AppError::Database(other),
        }
    }
}

impl AppError {
    /// A state that should not happen, named for the log.
    pub fn unexpected(what: &'static str) -> Self {
        AppError::Unexpected(anyhow::anyhow!(what))
    }
}

/// Turns any error into `AppError::Unexpected` with what was being done, keeping the
/// cause's chain for the log: `session.insert(k, v).unexpected("saving the session")?`.
pub trait Unexpected<T> {
    fn unexpected(self, doing: &'static str) -> AppResult<T>;
}

impl<T, E> Unexpected<T> for Result<T, E>
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn unexpected(self, doing: &'static str) -> AppResult<T> {
        self.map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context(doing)))
    }
}

impl From<diesel::r2d2::Error> for AppError {
    fn from(e: diesel::r2d2::Error) -> Self {
        AppError::Unavailable(e.to_string())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl AppError {
    fn title_and_message(&self) -> (&'static str, String) {
        match self {
            AppError::NotFound => (
                "Page not found",
                "There is nothing here. The link may be old, or the page belongs to another company.".into(),
            ),
            AppError::Forbidden => (
                "Not allowed",
                "Your role does not give you access to this page. Ask your company's owner or admin if you need it."
                    .into(),
            ),
            AppError::SignInRequired => ("Please log in", "Log in to continue.".into()),
            AppError::BadRequest(m) => ("That did not work", m.clone()),
            AppError::TooManyRequests(m) => ("Too many attempts", m.clone()),
            AppError::PayloadTooLarge => (
                "Too much to send",
                "That was more than taskbridge accepts in one go. Go back, shorten what you typed or choose a smaller file, and try again.".into(),
            ),
            AppError::Unavailable(_) => (
                "Temporarily unavailable",
                "taskbridge cannot reach its database right now. Please try again in a minute.".into(),
            ),
            AppError::Unexpected(_)
            | AppError::Database(_)
            | AppError::Template(_)
            | AppError::Startup(_) => (
                "Something went wrong",
                "An unexpected error happened on our side. It has been logged; please try again.".into(),
            ),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::SignInRequired => StatusCode::SEE_OTHER,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unexpected(_)
            | AppError::Database(_)
            | AppError::Template(_)
            | AppError::Startup(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::SignInRequired = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, crate::urls::LOG_IN))
                .finish();
        }
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = error_page(status, self.title_and_message());
        if status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(60));
        }
        response
    }
}

/// Renders the error page for a status; used by the default 404 handler too.
pub fn error_page(status: StatusCode, (title, message): (&str, String)) -> HttpResponse {
    let page = ErrorPage {
        status: status.as_u16(),
        title,
        message: &message,
    };
    let body = page.render().unwrap_or_else(|_| {
        format!(
            "<!doctype html><title>{}</title><h1>{}</h1>",
            status.as_u16(),
            status.as_u16()
        )
    });
    let mut response = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body);
    response.extensions_mut().insert(ShownError {
        title: title.to_owned(),
        message,
    });
    response
}

/// What an error page said, kept on the response so that a signed-in person gets it
/// inside the app's layout (see `web::shell::errors_in_app_layout`).
#[derive(Debug, Clone)]
pub struct ShownError {
    pub title: String,
    pub message: String,
}

pub async fn not_found() -> HttpResponse {
    error_page(
        StatusCode::NOT_FOUND,
        AppError::NotFound.title_and_message(),
    )
}

pub type AppResult<T> = Result<T, AppError>;
