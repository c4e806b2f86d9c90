//! The audit log of security-relevant actions.

use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::schema::audit_log;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignUp,
    SignIn,
    SignInFailed,
    SignOut,
    Invited,
    InviteAccepted,
    RoleChanged,
    UserDisabled,
    UserEnabled,
    CompanySettingsChanged,
    IntegrationOn,
    IntegrationOff,
    ConnectionOn,
    ConnectionOff,
    TimeEntryEdited,
    TimeEntryDeleted,
    ApiTokenCreated,
    ApiTokenRevoked,
    PasswordResetRequested,
    PasswordReset,
    EmailVerified,
    PasswordChanged,
    OtherSessionsEnded,
    CompanySwitched,
}

impl Action {
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::SignUp => "sign_up",
            Action::SignIn => "sign_in",
            Action::SignInFailed => "sign_in_failed",
            Action::SignOut => "sign_out",
            Action::Invited => "invited",
            Action::InviteAccepted => "invite_accepted",
            Action::RoleChanged => "role_changed",
            Action::UserDisabled => "user_disabled",
            Action::UserEnabled => "user_enabled",
            Action::CompanySettingsChanged => "company_settings_changed",
            Action::IntegrationOn => "integration_on",
            Action::IntegrationOff => "integration_off",
            Action::ConnectionOn => "connection_on",
            Action::ConnectionOff => "connection_off",
            Action::TimeEntryEdited => "time_entry_edited",
            Action::TimeEntryDeleted => "time_entry_deleted",
            Action::ApiTokenCreated => "api_token_created",
            Action::ApiTokenRevoked => "api_token_revoked",
            Action::PasswordResetRequested => "password_reset_requested",
            Action::PasswordReset => "password_reset",
            Action::EmailVerified => "email_verified",
            Action::PasswordChanged => "password_changed",
            Action::OtherSessionsEnded => "other_sessions_ended",
            Action::CompanySwitched => "company_switched",
        }
    }
}

pub fn record(
    conn: &mut DbConn,
    company_id: Option<i64>,
    actor_id: Option<i64>,
    action: Action,
    detail: &str,
    ip: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::company_id.eq(company_id),
            audit_log::actor_id.eq(actor_id),
            audit_log::action.eq(action.as_str()),
            audit_log::detail.eq(detail),
            audit_log::ip.eq(ip),
            audit_log::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Queryable)]
pub struct Entry {
    pub action: String,
    pub detail: String,
    pub actor_id: Option<i64>,
    pub created_at: i64,
}

pub fn for_company(conn: &mut DbConn, company_id: i64, limit: i64) -> QueryResult<Vec<Entry>> {
    audit_log::table
        .filter(audit_log::company_id.eq(company_id))
        .order(audit_log::id.desc())
        .limit(limit)
        .select((
            audit_log::action,
            audit_log::detail,
            audit_log::actor_id,
            audit_log::created_at,
        ))
        .load(conn)
}
