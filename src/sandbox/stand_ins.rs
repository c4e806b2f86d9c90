//! The sandbox's list of tools: where each emulated tool lives under `/sandbox/`, the
//! shapes of its sample data, and its routes, side by side.

use actix_web::web;

use super::oauth::{TokenBody, TokenFields};
use super::seed::Tool;
use super::{asana, basecamp, github, intellinote, jira, pivotal, salesforce};
use crate::connectors::ProviderKind;

/// One emulated tool: where it lives under `/sandbox/`, its routes, and the shapes of
/// its sample data; [`stand_in`] is the list of them.
pub(crate) struct StandIn {
    /// The path of the tool's configured URL (its [`crate::connectors::ProviderConfig::base_url`]).
    pub(super) base: &'static str,
    /// The path of its API, where that is not under `base`.
    pub(super) api: Option<&'static str>,
    /// Its sign-in and consent page, mounted by [`super::configure`] for an OAuth tool (without
    /// OAuth, where its tokens are listed).
    pub(super) authorize: &'static str,
    /// Its token endpoint, where it is a standard one that [`super::configure`] mounts:
    /// the path, how it takes its parameters, and the tool's fields of an answer.
    pub(super) token: Option<(&'static str, TokenBody, TokenFields)>,
    /// The status words of open sample tasks (taken in turn), of a task reopened through
    /// the control API, and of a closed one.
    pub(super) open: &'static [&'static str],
    pub(super) reopened: &'static str,
    pub(super) closed: &'static str,
    /// A sample person's id and second id (Basecamp's person id), from their number.
    pub(super) person_ids: fn(usize) -> (String, String),
    /// A sample task's id from its number.
    pub(super) task_id: fn(u64) -> String,
    /// The sample data as of a day.
    pub(super) seed: fn(time::Date) -> Tool,
    pub(super) routes: fn(&mut web::ServiceConfig),
}

/// The emulated tool standing in for `kind`: the sandbox's list of tools.
pub(super) fn stand_in(kind: ProviderKind) -> &'static StandIn {
    match kind {
        ProviderKind::Asana => &ASANA,
        ProviderKind::Basecamp => &BASECAMP,
        ProviderKind::GitHub => &GITHUB,
        ProviderKind::Intellinote => &INTELLINOTE,
        ProviderKind::Jira => &JIRA,
        ProviderKind::PivotalTracker => &PIVOTAL_TRACKER,
        ProviderKind::Salesforce => &SALESFORCE,
    }
}

/// Asana in the sandbox's list of tools.
static ASANA: StandIn = StandIn {
    base: "/sandbox/asana",
    api: None,
    authorize: "/sandbox/asana/-/oauth_authorize",
    token: Some((
        "/sandbox/asana/-/oauth_token",
        TokenBody::Form,
        asana::token_fields,
    )),
    open: &["incomplete"],
    reopened: "incomplete",
    closed: "completed",
    person_ids: |n| (format!("{}", 1_204_000_000_000_001 + n), String::new()),
    task_id: |n| format!("{}", 1_206_000_000_000_000 + n),
    seed: asana::seed,
    routes: asana::routes,
};

/// Basecamp in the sandbox's list of tools.
static BASECAMP: StandIn = StandIn {
    base: "/sandbox/basecamp/launchpad",
    api: None,
    authorize: "/sandbox/basecamp/launchpad/authorization/new",
    token: Some((
        "/sandbox/basecamp/launchpad/authorization/token",
        TokenBody::Form,
        basecamp::token_fields,
    )),
    open: &["active"],
    reopened: "active",
    closed: "completed",
    person_ids: |n| {
        (
            format!("{}", 9_100_001 + n),
            format!("{}", 1_049_715_901 + n),
        )
    },
    task_id: |n| format!("{}", 9_007_199_254_741_000 + n),
    seed: basecamp::seed,
    routes: basecamp::routes,
};

/// Github in the sandbox's list of tools.
static GITHUB: StandIn = StandIn {
    base: "/sandbox/github",
    api: Some("/sandbox/github/api"),
    authorize: "/sandbox/github/login/oauth/authorize",
    token: None,
    open: &["open"],
    reopened: "open",
    closed: "closed",
    person_ids: |n| (format!("{}", 5_830_001 + n), String::new()),
    task_id: |n| format!("{}", 1_800_000_000 + n),
    seed: github::seed,
    routes: github::routes,
};

/// Intellinote in the sandbox's list of tools.
static INTELLINOTE: StandIn = StandIn {
    base: "/sandbox/intellinote/rest",
    api: None,
    authorize: "/sandbox/intellinote/rest/auth/oauth2/authorization",
    token: Some((
        "/sandbox/intellinote/rest/auth/oauth2/access",
        TokenBody::Json,
        intellinote::token_fields,
    )),
    open: &["ACTIVE"],
    reopened: "ACTIVE",
    closed: "ACTIVE",
    person_ids: |n| (format!("user{}", 101 + n), String::new()),
    task_id: |n| format!("{}", 1000 + n),
    seed: intellinote::seed,
    routes: intellinote::routes,
};

/// Jira in the sandbox's list of tools.
static JIRA: StandIn = StandIn {
    base: "/sandbox/jira/auth",
    api: Some("/sandbox/jira/api"),
    authorize: "/sandbox/jira/auth/authorize",
    token: None,
    open: &["To Do", "In Progress", "In Review"],
    reopened: "In Progress",
    closed: "Done",
    person_ids: |n| {
        (
            format!("5b10a2844c2016570{:07x}", 0xede21 + n),
            String::new(),
        )
    },
    task_id: |n| format!("{}", 10_100 + n),
    seed: jira::seed,
    routes: jira::routes,
};

/// Pivotal in the sandbox's list of tools.
static PIVOTAL_TRACKER: StandIn = StandIn {
    base: "/sandbox/pivotal/services/v5",
    api: None,
    authorize: "/sandbox/pivotal/",
    token: None,
    open: &[
        "started",
        "unstarted",
        "finished",
        "delivered",
        "rejected",
        "unscheduled",
    ],
    reopened: "started",
    closed: "accepted",
    person_ids: |n| (format!("{}", 3_000_001 + n), String::new()),
    task_id: |n| format!("{}", 170_000_000 + n),
    seed: pivotal::seed,
    routes: pivotal::routes,
};

/// Salesforce in the sandbox's list of tools.
static SALESFORCE: StandIn = StandIn {
    base: "/sandbox/salesforce/login",
    api: None,
    authorize: "/sandbox/salesforce/login/services/oauth2/authorize",
    token: Some((
        "/sandbox/salesforce/login/services/oauth2/token",
        TokenBody::Form,
        salesforce::token_fields,
    )),
    open: &[
        "Not Started",
        "In Progress",
        "Waiting on someone else",
        "Deferred",
    ],
    reopened: "In Progress",
    closed: "Completed",
    person_ids: |n| (format!("0055e{:010}AAA", 1 + n), String::new()),
    task_id: |n| format!("00T5e{:010}AAA", n),
    seed: salesforce::seed,
    routes: salesforce::routes,
};
