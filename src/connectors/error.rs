//! What can go wrong talking to a task tool, with a stable code, a cause and a fix.

use std::time::Duration;

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
    /// The tool refused access (HTTP 403, or the person chose "Deny").
    #[error("the tool refused access")]
    AccessDenied,
    /// The tool says the thing asked for does not exist (HTTP 404).
    #[error("the tool could not find what was asked for")]
    NotFound,
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

/// A code's explanation for the people who see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub title: &'static str,
    pub cause: &'static str,
    pub fix: &'static str,
}

impl ConnectorError {
    /// The stable code shown to people and stored with sync runs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "TB-AUTH-EXPIRED",
            Self::InvalidGrant => "TB-AUTH-REVOKED",
            Self::InvalidToken => "TB-TOKEN-INVALID",
            Self::RateLimited { .. } => "TB-RATE-LIMITED",
            Self::RequestLimitExceeded => "TB-SF-REQUEST-LIMIT",
            Self::ApiDisabled { .. } => "TB-SF-API-DISABLED",
            Self::Server { .. } => "TB-TOOL-DOWN",
            Self::Timeout => "TB-TOOL-SLOW",
            Self::Network(_) => "TB-TOOL-UNREACHABLE",
            Self::BadResponse(_) => "TB-TOOL-GARBAGE",
            Self::AccessDenied => "TB-ACCESS-DENIED",
            Self::NotFound => "TB-NOT-FOUND",
            Self::ClientRejected => "TB-CLIENT-REJECTED",
            Self::NotConfigured(_) => "TB-NOT-CONFIGURED",
            Self::Other { .. } => "TB-TOOL-ERROR",
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

    /// How long the tool asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// The catalogue entry for this error's code.
    pub fn info(&self) -> &'static ErrorInfo {
        let code = self.code();
        CATALOGUE.iter().find(|i| i.code == code).unwrap_or(&OTHER)
    }
}

const OTHER: ErrorInfo = ErrorInfo {
    code: "TB-TOOL-ERROR",
    title: "The tool refused the request",
    cause: "The task tool answered with an error taskbridge does not know how to handle.",
    fix: "Try \"Sync now\" again later. If it keeps happening, disconnect and connect again, or tell your administrator the error code.",
};

static CATALOGUE: [ErrorInfo; 15] = [
    ErrorInfo {
        code: "TB-AUTH-EXPIRED",
        title: "Your sign-in to the tool expired",
        cause: "The tool no longer accepts the access it gave taskbridge, and renewing it did not help.",
        fix: "Turn your integration off and on again to sign in to the tool once more.",
    },
    ErrorInfo {
        code: "TB-AUTH-REVOKED",
        title: "Access to the tool was revoked",
        cause: "The access you gave taskbridge was withdrawn or has expired: someone removed the app in the tool, changed your password, or the tool ended the session.",
        fix: "Connect again: turn your integration off and on, sign in to the tool and choose \"Allow\".",
    },
    ErrorInfo {
        code: "TB-TOKEN-INVALID",
        title: "The API token was refused",
        cause: "The tool does not recognise the API token you entered, or it was regenerated since.",
        fix: "Copy the API token from your profile page in the tool and paste it again in Integration Settings.",
    },
    ErrorInfo {
        code: "TB-RATE-LIMITED",
        title: "The tool asked us to slow down",
        cause: "Too many requests reached the tool in a short time, so it paused answering for a while.",
        fix: "Nothing to do: taskbridge waits as long as the tool asks and tries again by itself.",
    },
    ErrorInfo {
        code: "TB-SF-REQUEST-LIMIT",
        title: "Your Salesforce org used up its API requests",
        cause: "Salesforce allows each org a number of API requests per 24 hours, and the org has used them all (or too many long requests run at once).",
        fix: "Wait until Salesforce's allowance renews; taskbridge tries again later. A Salesforce administrator can see usage under Setup > Company Information, or buy more requests.",
    },
    ErrorInfo {
        code: "TB-SF-API-DISABLED",
        title: "Your Salesforce edition has no API access",
        cause: "Salesforce only lets apps read data in Enterprise, Unlimited, Performance and Developer editions, and in Professional Edition with the API add-on. Group, Essentials and Contact Manager editions have no API access.",
        fix: "Ask your Salesforce administrator to upgrade the edition or buy the API add-on, and make sure your user has the \"API Enabled\" permission. Then connect again.",
    },
    ErrorInfo {
        code: "TB-TOOL-DOWN",
        title: "The tool is having problems",
        cause: "The task tool answered with a server error; the problem is on its side.",
        fix: "Nothing to do: taskbridge tries again later by itself. If it lasts, check the tool's status page.",
    },
    ErrorInfo {
        code: "TB-TOOL-SLOW",
        title: "The tool did not answer in time",
        cause: "The task tool took too long to answer, so taskbridge gave up waiting.",
        fix: "Nothing to do: taskbridge tries again later by itself. If it lasts, check the tool's status page.",
    },
    ErrorInfo {
        code: "TB-TOOL-UNREACHABLE",
        title: "The tool could not be reached",
        cause: "taskbridge could not open a connection to the task tool: the network is down or the tool's address is wrong.",
        fix: "taskbridge tries again later by itself. If it lasts, ask your administrator to check the tool's address in taskbridge's settings.",
    },
    ErrorInfo {
        code: "TB-TOOL-GARBAGE",
        title: "The tool's answer made no sense",
        cause: "The task tool answered with something taskbridge could not read, perhaps an error page or a changed format.",
        fix: "Try \"Sync now\" again later. If it keeps happening, tell your administrator the error code.",
    },
    ErrorInfo {
        code: "TB-ACCESS-DENIED",
        title: "The tool refused access",
        cause: "Access was denied: \"Deny\" was chosen on the tool's consent page, or your account in the tool may not see these tasks.",
        fix: "Connect again and choose \"Allow\". If it still fails, ask the tool's administrator for access.",
    },
    ErrorInfo {
        code: "TB-NOT-FOUND",
        title: "The account is gone from the tool",
        cause: "The tool no longer knows the linked account: it was deleted, suspended, its trial ended, or you lost access to it.",
        fix: "Check that you can still open the account in the tool, then disconnect and connect again, choosing an account you can use.",
    },
    ErrorInfo {
        code: "TB-CLIENT-REJECTED",
        title: "The tool does not recognise taskbridge",
        cause: "The tool refused taskbridge's registered app (client id or secret).",
        fix: "Ask your taskbridge administrator to check the tool's client id and secret in taskbridge's settings.",
    },
    ErrorInfo {
        code: "TB-NOT-CONFIGURED",
        title: "taskbridge is not set up for this tool",
        cause: "Something taskbridge needs to talk to this tool is missing from its settings or from the connection.",
        fix: "Ask your taskbridge administrator to check this tool's settings, then connect again.",
    },
    OTHER,
];

/// Every error code with its title, cause and fix, for help pages.
pub fn catalogue() -> &'static [ErrorInfo] {
    &CATALOGUE
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
            ConnectorError::AccessDenied,
            ConnectorError::NotFound,
            ConnectorError::ClientRejected,
            ConnectorError::NotConfigured("x"),
            ConnectorError::Other {
                status: 418,
                message: "x".into(),
            },
        ]
    }

    #[test]
    fn every_code_is_in_the_catalogue_once() {
        for e in every_variant() {
            let n = catalogue().iter().filter(|i| i.code == e.code()).count();
            assert_eq!(n, 1, "{}", e.code());
            assert_eq!(e.info().code, e.code());
        }
        assert_eq!(catalogue().len(), every_variant().len());
        for i in catalogue() {
            assert!(i.code.starts_with("TB-"));
            assert!(!i.title.is_empty() && !i.cause.is_empty() && !i.fix.is_empty());
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
    fn api_disabled_names_the_edition() {
        let e = ConnectorError::ApiDisabled {
            edition: Some("Team Edition".into()),
        };
        assert!(e.to_string().contains("Team Edition"));
    }
}
