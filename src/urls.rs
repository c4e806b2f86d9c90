//! Every path of the application in one place, below the web layer: the route table,
//! handlers, templates, redirects, services and the sync engine all take their paths
//! from here, so a link or a redirect is never a scattered literal.
//!
//! Constants are the route patterns as well as the links where a path has no
//! parameter; a path with parameters has a function that fills them in and a
//! `*_ROUTE` pattern for the route table.

use std::fmt::Display;

use crate::connectors::ProviderKind;

pub const HOME: &str = "/";
pub const HEALTHZ: &str = "/healthz";
pub const STATIC_ROUTE: &str = "/static/{file}";
pub const SIGN_UP: &str = "/signup";
pub const LOG_IN: &str = "/login";
pub const LOG_OUT: &str = "/logout";
pub const INVITE_ROUTE: &str = "/invite/{token}";
/// "Log in to join": an invite accepted with the account the person already has.
pub const INVITE_LOG_IN_ROUTE: &str = "/invite/{token}/login";
/// "Forgot password?": the form asking for the email.
pub const PASSWORD_FORGOT: &str = "/password/forgot";
/// The mailed link: "choose a new password". Its token rides in the query string,
/// which the request log never records.
pub const PASSWORD_RESET: &str = "/password/reset";
/// The mailed link that confirms a new account's email (token in the query string).
pub const SIGN_UP_VERIFY: &str = "/signup/verify";
/// "Send the link again", from log-in of an account whose email is not confirmed.
pub const SIGN_UP_RESEND: &str = "/signup/resend";
pub const HELP_ERRORS: &str = "/help/errors";

pub const MY_TASKS: &str = "/tasks";
pub const SYNC_NOW: &str = "/tasks/sync";
pub const CHECKLIST_DISMISS: &str = "/tasks/checklist/dismiss";
pub const SYNC_STATUS: &str = "/tasks/sync/status";
pub const NOTIFICATIONS: &str = "/notifications";
pub const NOTIFICATIONS_READ: &str = "/notifications/read";

/// The company report for owners, admins and managers; "My report" for everyone else.
pub const REPORTS: &str = "/reports";
/// The same report's entries as a CSV file.
pub const REPORTS_CSV: &str = "/reports.csv";

pub const INTEGRATION_SETTINGS: &str = "/integrations";
pub const PERSONAL_ON_ROUTE: &str = "/integrations/{tool}/on";
pub const PERSONAL_OFF_ROUTE: &str = "/integrations/{tool}/off";
pub const PERSONAL_FORGET_TOKEN_ROUTE: &str = "/integrations/{tool}/token/delete";
pub const PERSONAL_CONNECTED_ROUTE: &str = "/integrations/{tool}/connected";
pub const PROBLEM_ROUTE: &str = "/integrations/{tool}/problem";
pub const OAUTH_CALLBACK_ROUTE: &str = "/oauth/{tool}/callback";
pub const OAUTH_CHOOSE_ROUTE: &str = "/oauth/{tool}/choose";

/// The company menu: everything under it is for the company's managers.
pub const COMPANY_SCOPE: &str = "/company";
pub const USERS: &str = "/company/users";
pub const INVITE_CREATE: &str = "/company/users/invite";
pub const USER_ROLE_ROUTE: &str = "/company/users/{id}/role";
pub const USER_DISABLE_ROUTE: &str = "/company/users/{id}/disable";
pub const USER_ENABLE_ROUTE: &str = "/company/users/{id}/enable";
pub const INVITE_REVOKE_ROUTE: &str = "/company/invites/{id}/revoke";
pub const INVITE_RESEND_ROUTE: &str = "/company/invites/{id}/resend";
/// Mail the app wrote: without an SMTP server, where it waits to be read.
pub const OUTBOX: &str = "/company/outbox";
pub const HEALTH: &str = "/company/health";
pub const CONNECTION_HISTORY_ROUTE: &str = "/company/health/connections/{id}";
pub const COMPANY_SETTINGS: &str = "/company/settings";
pub const COMPANY_LOGO: &str = "/company/logo";
pub const COMPANY_LOGO_REMOVE: &str = "/company/logo/remove";
pub const COMPANY_INTEGRATIONS: &str = "/company/integrations";
pub const COMPANY_DETAILS_ROUTE: &str = "/company/integrations/{tool}";
pub const COMPANY_ON_ROUTE: &str = "/company/integrations/{tool}/on";
pub const COMPANY_OFF_ROUTE: &str = "/company/integrations/{tool}/off";
/// Whether the company's GitHub brings in pull requests.
pub const COMPANY_GITHUB_PULL_REQUESTS: &str = "/company/integrations/github/pull-requests";
pub const COMPANY_CONNECTED_ROUTE: &str = "/company/integrations/{tool}/connected";

pub const TIMER_START: &str = "/timer/start";
pub const TIMER_STOP: &str = "/timer/stop";
pub const TIMESHEET: &str = "/timesheet";
pub const TIME_ENTRIES: &str = "/timesheet/entries";
/// "Add time": the form for a manual entry, on a page of its own so the week does not
/// read every open task.
pub const TIME_ENTRY_NEW: &str = "/timesheet/entries/new";
pub const ENTRY_ROUTE: &str = "/timesheet/entries/{id}";
pub const ENTRY_EDIT_ROUTE: &str = "/timesheet/entries/{id}/edit";
pub const ENTRY_DELETE_ROUTE: &str = "/timesheet/entries/{id}/delete";
/// "Your account": change password, log out everywhere else.
pub const ACCOUNT: &str = "/account";
pub const ACCOUNT_PASSWORD: &str = "/account/password";
/// "Log out everywhere else": every other session of the person ends.
pub const ACCOUNT_END_OTHER_SESSIONS: &str = "/account/sessions/end-others";
pub const PREFERENCES: &str = "/account/preferences";
/// Notices by email on or off.
pub const PREFERENCES_EMAIL: &str = "/account/preferences/email";
pub const COMPANY_TIME: &str = "/company/settings/time";
/// "Switch company" (the company menu): the session goes on in another of the person's
/// companies.
pub const SWITCH_COMPANY: &str = "/account/company";
/// "Add a company": a new company of the person's own, beside those they are in.
pub const ADD_COMPANY: &str = "/account/companies/new";
/// Another of the person's companies' logo, for the switcher.
pub const MEMBER_LOGO_ROUTE: &str = "/account/companies/{id}/logo";
pub const API_TOKENS: &str = "/account/api-tokens";
pub const API_TOKEN_REVOKE_ROUTE: &str = "/account/api-tokens/{id}/revoke";

/// The JSON API for desktop clients; its routes are relative to this scope.
pub const API_SCOPE: &str = "/api/v1";
pub const API_ME: &str = "/me";
pub const API_TASKS: &str = "/tasks";
pub const API_TIMER: &str = "/timer";
pub const API_TIMER_START: &str = "/timer/start";
pub const API_TIMER_STOP: &str = "/timer/stop";
pub const API_TIME_ENTRIES: &str = "/time-entries";
pub const API_TIME_ENTRY_ROUTE: &str = "/time-entries/{id}";
pub const API_SYNC: &str = "/sync";
pub const API_OPENAPI: &str = "/openapi.json";
/// The API's endpoints for people, from its OpenAPI document.
pub const API_DOCS: &str = "/api/docs";

pub const SANDBOX_PIVOTAL: &str = "/sandbox/pivotal/";

pub fn member_logo(company_id: i64) -> String {
    format!("/account/companies/{company_id}/logo")
}

pub fn api_token_revoke(id: i64) -> String {
    format!("/account/api-tokens/{id}/revoke")
}

/// A full API path, from a path relative to [`API_SCOPE`].
pub fn api(path: &str) -> String {
    format!("{API_SCOPE}{path}")
}

pub fn static_file(name: impl Display) -> String {
    format!("/static/{name}")
}

pub fn user_role(id: i64) -> String {
    format!("/company/users/{id}/role")
}

pub fn user_disable(id: i64) -> String {
    format!("/company/users/{id}/disable")
}

pub fn user_enable(id: i64) -> String {
    format!("/company/users/{id}/enable")
}

pub fn invite_revoke(id: i64) -> String {
    format!("/company/invites/{id}/revoke")
}

pub fn invite_resend(id: i64) -> String {
    format!("/company/invites/{id}/resend")
}

pub fn password_reset(token: &str) -> String {
    format!("{PASSWORD_RESET}?token={token}")
}

pub fn verify_email(token: &str) -> String {
    format!("{SIGN_UP_VERIFY}?token={token}")
}

pub fn invite_accept(token: &str) -> String {
    format!("/invite/{token}")
}

pub fn invite_log_in(token: &str) -> String {
    format!("/invite/{token}/login")
}

pub fn connection_history(id: impl Display) -> String {
    format!("/company/health/connections/{id}")
}

/// The error catalogue, at one code's entry.
pub fn help_error(code: impl Display) -> String {
    format!("{HELP_ERRORS}#{code}")
}

pub fn personal_on(tool: impl Display) -> String {
    format!("/integrations/{tool}/on")
}

pub fn personal_off(tool: impl Display) -> String {
    format!("/integrations/{tool}/off")
}

/// Deletes the API token kept for a tool the person turned off.
pub fn personal_forget_token(tool: impl Display) -> String {
    format!("/integrations/{tool}/token/delete")
}

pub fn personal_connected(tool: ProviderKind) -> String {
    format!("/integrations/{}/connected", tool.slug())
}

pub fn problem(tool: ProviderKind) -> String {
    format!("/integrations/{}/problem", tool.slug())
}

pub fn oauth_callback(tool: ProviderKind) -> String {
    format!("/oauth/{}/callback", tool.slug())
}

pub fn oauth_choose(tool: impl Display) -> String {
    format!("/oauth/{tool}/choose")
}

pub fn company_details(tool: impl Display) -> String {
    format!("/company/integrations/{tool}")
}

pub fn company_on(tool: impl Display) -> String {
    format!("/company/integrations/{tool}/on")
}

pub fn company_off(tool: impl Display) -> String {
    format!("/company/integrations/{tool}/off")
}

pub fn company_connected(tool: ProviderKind) -> String {
    format!("/company/integrations/{}/connected", tool.slug())
}

/// The Timesheet at a week (its first day) and a day of it, for a person when an
/// owner or admin looks at someone else's.
pub fn timesheet(week: impl Display, day: impl Display, person: Option<i64>) -> String {
    match person {
        Some(p) => format!("{TIMESHEET}?week={week}&day={day}&person={p}"),
        None => format!("{TIMESHEET}?week={week}&day={day}"),
    }
}

/// "Add time" with its date filled in.
pub fn new_entry(date: impl Display) -> String {
    format!("{TIME_ENTRY_NEW}?date={date}")
}

pub fn entry(id: impl Display) -> String {
    format!("{TIME_ENTRIES}/{id}")
}

pub fn entry_edit(id: impl Display) -> String {
    format!("{TIME_ENTRIES}/{id}/edit")
}

pub fn entry_delete(id: impl Display) -> String {
    format!("{TIME_ENTRIES}/{id}/delete")
}
