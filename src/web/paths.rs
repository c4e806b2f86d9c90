//! Every URL of the UI in one place, so links and redirects are never scattered literals.

pub const HOME: &str = "/";
pub const SIGN_UP: &str = "/signup";
pub const LOG_IN: &str = "/login";
pub const LOG_OUT: &str = "/logout";
pub const MY_TASKS: &str = "/tasks";
pub const NOTIFICATIONS: &str = "/notifications";
pub const NOTIFICATIONS_READ: &str = "/notifications/read";
pub const USERS: &str = "/company/users";
pub const INVITE_CREATE: &str = "/company/users/invite";
pub const COMPANY_SETTINGS: &str = "/company/settings";
pub const COMPANY_LOGO: &str = "/company/logo";
pub const COMPANY_LOGO_REMOVE: &str = "/company/logo/remove";
pub const COMPANY_INTEGRATIONS: &str = "/company/integrations";
pub const INTEGRATION_SETTINGS: &str = "/integrations";
pub const HEALTHZ: &str = "/healthz";

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

pub fn invite_accept(token: &str) -> String {
    format!("/invite/{token}")
}
