//! One catalogue of what people are told when something fails: every error code a
//! sync run, a problem page or the Help page shows, with its title, cause and fix, and
//! the words of the problem pages that follow a failed "Turn it on".

/// The Salesforce editions with API access, and those without (a macro so that the
/// sentences below can be built from it at compile time).
macro_rules! editions_with_api {
    () => {
        "Enterprise, Unlimited, Performance and Developer"
    };
}
macro_rules! editions_without_api {
    () => {
        "Group, Essentials and Contact Manager"
    };
}

/// Which Salesforce editions have API access: edition, access. Shown beside the
/// problem of an org without it.
pub const SALESFORCE_EDITIONS: [(&str, &str); 3] = [
    (editions_with_api!(), "Yes"),
    ("Professional", "Only with the API add-on"),
    (editions_without_api!(), "No"),
];

/// A code's explanation for the people who see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub title: &'static str,
    pub cause: &'static str,
    pub fix: &'static str,
}

/// Every code a person can be shown: the tools' failures and the sync engine's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    AuthExpired,
    AuthRevoked,
    TokenInvalid,
    RateLimited,
    SalesforceRequestLimit,
    SalesforceApiDisabled,
    ToolDown,
    ToolSlow,
    ToolUnreachable,
    ToolGarbage,
    ToolTooLarge,
    AccessDenied,
    NotFound,
    PageGone,
    ClientRejected,
    NotConfigured,
    ToolError,
    Internal,
    LeaseLost,
    Interrupted,
    CredentialsUnreadable,
}

impl ErrorCode {
    /// Every code, in the order the Help page lists them.
    pub const ALL: [ErrorCode; 21] = [
        ErrorCode::AuthExpired,
        ErrorCode::AuthRevoked,
        ErrorCode::TokenInvalid,
        ErrorCode::RateLimited,
        ErrorCode::SalesforceRequestLimit,
        ErrorCode::SalesforceApiDisabled,
        ErrorCode::ToolDown,
        ErrorCode::ToolSlow,
        ErrorCode::ToolUnreachable,
        ErrorCode::ToolGarbage,
        ErrorCode::ToolTooLarge,
        ErrorCode::AccessDenied,
        ErrorCode::NotFound,
        ErrorCode::PageGone,
        ErrorCode::ClientRejected,
        ErrorCode::NotConfigured,
        ErrorCode::ToolError,
        ErrorCode::Internal,
        ErrorCode::LeaseLost,
        ErrorCode::Interrupted,
        ErrorCode::CredentialsUnreadable,
    ];

    /// The stable code shown to people and stored with sync runs.
    pub fn as_str(self) -> &'static str {
        self.info().code
    }

    /// The code recorded as `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Its title, cause and fix.
    pub fn info(self) -> &'static ErrorInfo {
        &ENTRIES[self as usize]
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Every entry, for the Help page, in the order of [`ErrorCode::ALL`].
pub fn entries() -> &'static [ErrorInfo] {
    &ENTRIES
}

/// The entry for a recorded code.
pub fn info(code: &str) -> Option<&'static ErrorInfo> {
    ErrorCode::parse(code).map(ErrorCode::info)
}

static ENTRIES: [ErrorInfo; 21] = [
    ErrorInfo {
        code: "TB-AUTH-EXPIRED",
        title: "Your sign-in to the tool expired",
        cause: "The tool no longer accepts the access it gave taskbridge, and renewing it did not help.",
        fix: "Press Reconnect (on My Tasks or in Integration Settings) and sign in to the tool once more.",
    },
    ErrorInfo {
        code: "TB-AUTH-REVOKED",
        title: "Access to the tool was revoked",
        cause: "The access you gave taskbridge was withdrawn or has expired: someone removed the app in the tool, changed your password, or the tool ended the session.",
        fix: "Press Reconnect (on My Tasks or in Integration Settings), sign in to the tool and choose \"Allow\".",
    },
    ErrorInfo {
        code: "TB-TOKEN-INVALID",
        title: "The API token was refused",
        cause: "The tool does not recognise the API token you entered, or it was regenerated since.",
        fix: "Copy the API token from your profile page in the tool and paste it under Reconnect in Integration Settings.",
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
        cause: concat!(
            "Salesforce only lets apps read data in ",
            editions_with_api!(),
            " editions, and in Professional Edition with the API add-on. ",
            editions_without_api!(),
            " editions have no API access."
        ),
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
        code: "TB-TOOL-TOO-LARGE",
        title: "The tool sent more than taskbridge reads at once",
        cause: "One answer from the task tool was larger than the limit taskbridge reads per page, so taskbridge stopped reading it and saved nothing from it.",
        fix: "taskbridge tries again later by itself. If it keeps happening, ask the person running taskbridge to raise TASKBRIDGE_TOOL_MAX_RESPONSE_MB, or check the tool's address in taskbridge's settings.",
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
        code: "TB-PAGE-GONE",
        title: "A page of the tool's list could not be read",
        cause: "The tool no longer served the next page of the list taskbridge was reading (the link to it broke or expired), so the sync stopped part way. Your account in the tool is fine, and the tasks read before that page are kept.",
        fix: "Nothing to do: the next sync reads the list again from its start. If it keeps happening, tell your administrator the error code.",
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
    ErrorInfo {
        code: "TB-TOOL-ERROR",
        title: "The tool refused the request",
        cause: "The task tool answered with an error taskbridge does not know how to handle.",
        fix: "Try \"Sync now\" again later. If it keeps happening, disconnect and connect again, or tell your administrator the error code.",
    },
    ErrorInfo {
        code: "TB-INTERNAL",
        title: "taskbridge could not finish the sync",
        cause: "Something went wrong on taskbridge's side (for example the database was unavailable) while syncing.",
        fix: "Nothing to do: the sync is tried again within a minute. If it keeps happening, tell the person running taskbridge.",
    },
    ErrorInfo {
        code: "TB-LEASE-LOST",
        title: "A newer sync took this one over",
        cause: "This sync took longer than its lease, or the connection was reconnected while it ran, so a newer sync carried on in its place.",
        fix: "Nothing to do: the newer sync finishes the work.",
    },
    ErrorInfo {
        code: "TB-SYNC-INTERRUPTED",
        title: "The sync was interrupted",
        cause: "This sync stopped before its end: the taskbridge server running it was stopped or restarted, or the sync stalled and a newer one took over.",
        fix: "Nothing to do: the next sync carries on where this one stopped, and nothing synced before is lost.",
    },
    ErrorInfo {
        code: "TB-CREDENTIALS-UNREADABLE",
        title: "taskbridge cannot read the stored sign-in",
        cause: "The access taskbridge keeps for this connection could not be decrypted: it was damaged or copied from elsewhere, or the server now runs with another secret key.",
        fix: "Press Reconnect (on My Tasks or in Integration Settings) and connect again. If it happens to everyone, tell the person running taskbridge that TASKBRIDGE_SECRET_KEY may have changed.",
    },
];

/// What a run that stopped part way says, after pages were saved: how many tasks were
/// kept and which page of the tool's list failed (`page` counts from the run's first
/// page; `None` when the run carried on a pass an earlier run began).
pub fn partly_synced(code: ErrorCode, kept: i64, page: Option<u32>) -> String {
    let tasks = if kept == 1 { "task" } else { "tasks" };
    let which = match page {
        Some(n) => format!("page {n} of the tool's list"),
        None => "a later page of the tool's list".to_owned(),
    };
    let mut said = format!("Partly synced: {kept} {tasks} kept, then {which} could not be read");
    if code != ErrorCode::PageGone {
        said.push_str(": ");
        said.push_str(code.info().title);
    }
    said.push('.');
    said
}

/// How a wait's words name its next try (pages that show the next try themselves look
/// for it, so as not to say it twice).
pub const NEXT_TRY: &str = "Next try";

/// What a run the tool told to wait says: why, and when the next try is (`until`, Unix
/// seconds, shown in UTC to the minute).
pub fn waiting_until(code: ErrorCode, until: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    let when = time::OffsetDateTime::from_unix_timestamp(until)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "later".to_owned());
    format!("{}. {NEXT_TRY} {when}.", code.info().title)
}

/// What a person is told on the page after a "Turn it on" that did not work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Told {
    pub title: String,
    pub message: String,
    pub fix: String,
    /// The code of the tool's failure, where the tool failed.
    pub code: Option<ErrorCode>,
    /// Whether to show which Salesforce editions have API access.
    pub editions: bool,
}

/// The tool a problem is about, in the words its problems need.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub name: &'a str,
    /// The variables of the OAuth client registered with it, for a tool that has one.
    pub client_vars: Option<(String, String)>,
    /// What a sign-in that reaches no account is told, for a tool whose people must
    /// reach one (a Basecamp account, a Jira site).
    pub no_accounts: Option<&'a str>,
}

/// Why a "Turn it on" did not work, as far as the person is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem<'a> {
    ConsentDenied,
    BadState,
    AlreadyLinked {
        other: &'a str,
    },
    NotEnabled,
    NoAccounts,
    NotConfigured,
    EmptyToken,
    /// The tool failed, with this code.
    Tool(ErrorCode),
    Unexpected,
}

impl Problem<'_> {
    /// What the person is told about this problem with `subject`.
    pub fn told(self, subject: Subject<'_>) -> Told {
        let tool = subject.name;
        let plain = |title: String, message: String, fix: String| Told {
            title,
            message,
            fix,
            code: None,
            editions: false,
        };
        match self {
            Problem::ConsentDenied => plain(
                format!("You did not allow access to {tool}"),
                format!("{tool} was not connected because access was denied on its consent page. Nothing was saved."),
                "To connect, choose \"Turn it on\" again and choose Allow on the consent page.".into(),
            ),
            Problem::BadState => plain(
                "That sign-in could not be finished".into(),
                format!("The answer from {tool} did not match a sign-in started here: it was already used, is too old, or was started in another browser or for another tool. Nothing was saved."),
                "Start again with \"Turn it on\".".into(),
            ),
            Problem::AlreadyLinked { other } => plain(
                format!("This {tool} account is already linked to {other}"),
                format!("One account in {tool} can be linked to one person in your company only, and this one belongs to {other}. Nothing was changed."),
                format!("Sign in to {tool} with your own account. If this account really is yours, ask {other} to disconnect it in Integration Settings first."),
            ),
            Problem::NotEnabled => plain(
                format!("{tool} is not turned on for your company"),
                format!("Your company's owner or admin has not turned on {tool}, or turned it off."),
                format!("Ask your company's owner or admin to turn on {tool} in Company Integrations."),
            ),
            Problem::NoAccounts => plain(
                format!("No {tool} account to sync"),
                match subject.no_accounts {
                    Some(said) => said.into(),
                    None => format!("The {tool} login you used does not reach any account to sync."),
                },
                format!("Sign in with a login that belongs to your company's {tool} account."),
            ),
            Problem::NotConfigured => plain(
                format!("{tool} is not set up on this server"),
                format!("taskbridge has no OAuth client registered with {tool}."),
                match &subject.client_vars {
                    Some((id, secret)) => format!("The person running taskbridge must set {id} and {secret}, or turn on the sandbox."),
                    None => format!("The person running taskbridge must set {tool} up, or turn on the sandbox."),
                },
            ),
            Problem::EmptyToken => plain(
                "Enter your API token".into(),
                format!("{tool} needs your API token to connect. Nothing was saved."),
                "Copy the API token from the bottom of your Profile page in Tracker and paste it in the API token field.".into(),
            ),
            Problem::Tool(code) => tool_failed(tool, code),
            Problem::Unexpected => plain(
                "Something went wrong".into(),
                "An unexpected error happened on our side.".into(),
                "Please try again.".into(),
            ),
        }
    }
}

/// What a person is told when `tool` itself failed with `code`.
fn tool_failed(tool: &str, code: ErrorCode) -> Told {
    let plain = |title: String, message: String, fix: String| Told {
        title,
        message,
        fix,
        code: Some(code),
        editions: false,
    };
    match code {
        ErrorCode::TokenInvalid => plain(
            format!("{tool} did not accept that API token"),
            format!("{tool} refused the token, so nothing was saved."),
            "Copy the API token again from the bottom of your Profile page in Tracker (it is 32 characters) and paste it in the API token field.".into(),
        ),
        ErrorCode::SalesforceApiDisabled => Told {
            editions: true,
            ..plain(
                code.info().title.into(),
                "Salesforce answered that the REST API is not enabled for your organization (API_DISABLED_FOR_ORG), so taskbridge cannot read your tasks. Nothing was saved.".into(),
                concat!(
                    "API access comes with ",
                    editions_with_api!(),
                    " Edition, and with Professional Edition when the API add-on is bought. ",
                    editions_without_api!(),
                    " editions have none. Ask your Salesforce administrator to upgrade or add API access, and make sure your user has the \"API Enabled\" permission; then turn it on again."
                )
                .into(),
            )
        },
        _ => {
            let info = code.info();
            plain(
                format!("{tool}: {}", info.title),
                format!("{} Nothing was saved.", info.cause),
                info.fix.into(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_entry_in_order() {
        assert_eq!(entries().len(), ErrorCode::ALL.len());
        for (i, code) in ErrorCode::ALL.into_iter().enumerate() {
            assert_eq!(code as usize, i);
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            let e = code.info();
            assert!(e.code.starts_with("TB-"));
            assert!(!e.title.is_empty() && !e.cause.is_empty() && !e.fix.is_empty());
        }
    }

    #[test]
    fn partial_runs_say_what_was_kept_and_where_they_stopped() {
        assert_eq!(
            partly_synced(ErrorCode::PageGone, 15, Some(2)),
            "Partly synced: 15 tasks kept, then page 2 of the tool's list could not be read."
        );
        let down = partly_synced(ErrorCode::ToolDown, 1, None);
        assert!(down.starts_with("Partly synced: 1 task kept, then a later page"));
        assert!(down.contains(ErrorCode::ToolDown.info().title));
    }

    #[test]
    fn a_wait_says_when_the_next_try_is() {
        let said = waiting_until(ErrorCode::RateLimited, 1_800_000_000);
        assert!(said.ends_with("Next try 2027-01-15 08:00 UTC."), "{said}");
    }

    #[test]
    fn the_editions_are_named_alike_everywhere() {
        let cause = ErrorCode::SalesforceApiDisabled.info().cause;
        let fix = Problem::Tool(ErrorCode::SalesforceApiDisabled)
            .told(Subject {
                name: "Salesforce",
                client_vars: None,
                no_accounts: None,
            })
            .fix;
        for (editions, _) in SALESFORCE_EDITIONS {
            if editions != "Professional" {
                assert!(
                    cause.contains(editions) && fix.contains(editions),
                    "{editions}"
                );
            }
        }
    }
}
