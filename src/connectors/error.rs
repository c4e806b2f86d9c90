//! What can go wrong talking to a task tool, with a stable code, a cause and a fix.

use std::time::Duration;

use crate::catalogue::{ErrorCode, ErrorInfo};

/// The longest wait a tool's `Retry-After` gets: past it, the tool is asked again.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// A failure talking to a task tool; never carries a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The access token expired or was refused (HTTP 401): refresh once, then retry.
    #[error("the tool no longer accepts the access token")]
    Unauthorized,
    /// The refresh token was revoked or expired: the person must connect again.
    #[error("the tool revoked or expired the authorization")]
    InvalidGrant,
    /// The personal API token (Pivotal Tracker) was refused.
    #[error("the tool refused the API token")]
    InvalidToken,
    /// HTTP 429; wait at least `retry_after` when the tool said how long.
    #[error("the tool asked us to slow down")]
    RateLimited { retry_after: Option<Duration> },
    /// Salesforce `REQUEST_LIMIT_EXCEEDED`: the org used up its API allocation.
    #[error("the Salesforce org has used up its API requests")]
    RequestLimitExceeded,
    /// Salesforce `API_DISABLED_FOR_ORG`: the org's edition has no API access.
    #[error("the Salesforce org has no API access{}", edition_suffix(.edition))]
    ApiDisabled { edition: Option<String> },
    /// The tool answered with a 5xx.
    #[error("the tool answered with a server error (HTTP {status})")]
    Server { status: u16 },
    /// The tool did not answer within the client's timeout.
    #[error("the tool did not answer in time")]
    Timeout,
    /// The tool could not be reached at all.
    #[error("could not reach the tool: {0}")]
    Network(String),
    /// The tool answered something taskbridge cannot understand.
    #[error("the tool's answer could not be understood: {0}")]
    BadResponse(String),
    /// The tool's answer was larger than taskbridge reads (`TASKBRIDGE_TOOL_MAX_RESPONSE_MB`);
    /// reading stopped at the limit.
    #[error("the tool's answer was larger than the {} MiB taskbridge reads", .limit_bytes / (1024 * 1024))]
    TooLarge { limit_bytes: usize },
    /// The tool refused access (HTTP 403, or the person chose "Deny").
    #[error("the tool refused access")]
    AccessDenied,
    /// The tool says the thing asked for does not exist (HTTP 404).
    #[error("the tool could not find what was asked for")]
    NotFound,
    /// The next page of a list could not be read: its link answered 404, or the tool
    /// says the cursor expired (Salesforce `INVALID_QUERY_LOCATOR`). The account is fine;
    /// the list has to be read again from its start.
    #[error("the tool no longer serves the next page of the list")]
    PageGone,
    /// The tool refused taskbridge's OAuth client id or secret.
    #[error("the tool refused taskbridge's OAuth client credentials")]
    ClientRejected,
    /// taskbridge is missing something it needs to talk to this tool.
    #[error("not configured: {0}")]
    NotConfigured(&'static str),
    /// Any other answer the tool gave.
    #[error("the tool answered HTTP {status}: {message}")]
    Other { status: u16, message: String },
}

fn edition_suffix(edition: &Option<String>) -> String {
    match edition {
        Some(e) => format!(" ({e})"),
        None => String::new(),
    }
}

impl ConnectorError {
    /// The stable code shown to people and stored with sync runs.
    pub fn code(&self) -> ErrorCode {
        use ErrorCode as C;
        match self {
            Self::Unauthorized => C::AuthExpired,
            Self::InvalidGrant => C::AuthRevoked,
            Self::InvalidToken => C::TokenInvalid,
            Self::RateLimited { .. } => C::RateLimited,
            Self::RequestLimitExceeded => C::SalesforceRequestLimit,
            Self::ApiDisabled { .. } => C::SalesforceApiDisabled,
            Self::Server { .. } => C::ToolDown,
            Self::Timeout => C::ToolSlow,
            Self::Network(_) => C::ToolUnreachable,
            Self::BadResponse(_) => C::ToolGarbage,
            Self::TooLarge { .. } => C::ToolTooLarge,
            Self::AccessDenied => C::AccessDenied,
            Self::NotFound => C::NotFound,
            Self::PageGone => C::PageGone,
            Self::ClientRejected => C::ClientRejected,
            Self::NotConfigured(_) => C::NotConfigured,
            Self::Other { .. } => C::ToolError,
        }
    }

    /// Whether trying the same call again later, unchanged, may succeed.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::RequestLimitExceeded
                | Self::Server { .. }
                | Self::Timeout
                | Self::Network(_)
        )
    }

    /// Whether this failure, met on a page asked for by a cursor kept from an earlier
    /// run, may be the cursor's fault (expired, moved, no longer served): the pass then
    /// starts again from the first page instead of failing on the same cursor for good.
    /// Not so for what the cursor cannot cause: credentials, rate limits, the org's
    /// edition or allowance, our own configuration, an unreachable tool.
    pub fn may_be_the_cursor(&self) -> bool {
        matches!(
            self,
            Self::PageGone
                | Self::NotFound
                | Self::BadResponse(_)
                | Self::Other { .. }
                | Self::Server { .. }
                | Self::Timeout
                | Self::TooLarge { .. }
        )
    }

    /// How long to wait, in whole seconds from 1 to [`MAX_WAIT`], when the tool said:
    /// a wait too long to count is a day, not an overflow into the past.
    pub fn capped_wait_secs(&self) -> Option<i64> {
        self.retry_after()
            .map(|d| d.min(MAX_WAIT).as_secs().max(1) as i64)
    }

    /// How long the tool asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// The catalogue entry for this error's code.
    pub fn info(&self) -> &'static ErrorInfo {
        self.code().info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_variant() -> Vec<ConnectorError> {
        vec![
            ConnectorError::Unauthorized,
            ConnectorError::InvalidGrant,
            ConnectorError::InvalidToken,
            ConnectorError::RateLimited { retry_after: None },
            ConnectorError::RequestLimitExceeded,
            ConnectorError::ApiDisabled { edition: None },
            ConnectorError::Server { status: 500 },
            ConnectorError::Timeout,
            ConnectorError::Network("x".into()),
            ConnectorError::BadResponse("x".into()),
            ConnectorError::TooLarge { limit_bytes: 1 },
            ConnectorError::AccessDenied,
            ConnectorError::NotFound,
            ConnectorError::PageGone,
            ConnectorError::ClientRejected,
            ConnectorError::NotConfigured("x"),
            ConnectorError::Other {
                status: 418,
                message: "x".into(),
            },
        ]
    }

    #[test]
    fn every_failure_has_its_own_code() {
        let codes: std::collections::HashSet<_> =
            every_variant().iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), every_variant().len());
        for e in every_variant() {
            assert_eq!(e.info().code, e.code().as_str());
        }
    }

    #[test]
    fn only_transient_failures_are_retryable() {
        assert!(ConnectorError::Timeout.retryable());
        assert!(ConnectorError::Server { status: 503 }.retryable());
        assert!(!ConnectorError::InvalidGrant.retryable());
        assert!(!ConnectorError::ApiDisabled { edition: None }.retryable());
    }

    #[test]
    fn only_what_a_cursor_can_cause_restarts_a_pass() {
        assert!(ConnectorError::PageGone.may_be_the_cursor());
        assert!(ConnectorError::Other {
            status: 400,
            message: "x".into()
        }
        .may_be_the_cursor());
        assert!(!ConnectorError::RateLimited { retry_after: None }.may_be_the_cursor());
        assert!(!ConnectorError::InvalidGrant.may_be_the_cursor());
        assert!(!ConnectorError::Unauthorized.may_be_the_cursor());
    }

    #[test]
    fn waits_are_capped_at_a_day_and_never_negative() {
        let wait = |secs: u64| {
            ConnectorError::RateLimited {
                retry_after: Some(Duration::from_secs(secs)),
            }
            .capped_wait_secs()
        };
        assert_eq!(wait(u64::MAX), Some(86_400));
        assert_eq!(wait(90_000), Some(86_400));
        assert_eq!(wait(0), Some(1));
        assert_eq!(wait(30), Some(30));
        assert_eq!(
            ConnectorError::RateLimited { retry_after: None }.capped_wait_secs(),
            None
        );
    }

    #[test]
    fn too_large_names_the_limit_in_mib() {
        let e = ConnectorError::TooLarge {
            limit_bytes: 8 * 1024 * 1024,
        };
        assert!(e.to_string().contains("8 MiB"), "{e}");
    }

    #[test]
    fn api_disabled_names_the_edition() {
        let e = ConnectorError::ApiDisabled {
            edition: Some("Team Edition".into()),
        };
        assert!(e.to_string().contains("Team Edition"));
    }
}
