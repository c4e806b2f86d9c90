//! What taskbridge tells people by email. Each mail is written to the outbox in the
//! same transaction as what it tells about; the mailer (`crate::mail`) sends it, or,
//! without an SMTP server, owners and admins read it on the Outbox page.

use diesel::QueryResult;

use crate::connectors::ProviderKind;
use crate::db::DbConn;
use crate::domain::Role;
use crate::models::outbox::{self, NewMail, Readers};
use crate::models::{email_verification, invite, notification, password_reset, user};
use crate::urls;

/// The line under every notice sent by email.
const NOTICE_FOOTER: &str =
    "You get this email because notices by email are on. Turn them off under Your settings in taskbridge.";

/// An invite's link, by email, to the person invited.
pub fn invite(
    conn: &mut DbConn,
    company_id: i64,
    to: &str,
    company_name: &str,
    inviter: &str,
    role: Role,
    token: &str,
) -> QueryResult<()> {
    let days = invite::VALID_FOR_SECS / 86_400;
    let body = format!(
        "Hello,\n\n{inviter} invited you to join {company_name} on taskbridge as {role}.\n\n\
         Open the link below to set your name and a password; if this email already has \
         a taskbridge account, log in with it there instead, and {company_name} joins the \
         companies you can switch between. The link works once, for {days} days.",
        role = role.label().to_lowercase(),
    );
    let subject = format!("Join {company_name} on taskbridge");
    let link = urls::invite_accept(token);
    // An admin reading the outbox must not become an owner through it.
    let readers = Readers::owners_if(role == Role::Owner);
    outbox::enqueue(
        conn,
        NewMail {
            company_id,
            to,
            subject: &subject,
            body: &body,
            link: Some(&link),
            readers,
        },
    )
}

/// A "Forgot password?" link, by email, to the person it signs in. In the outbox only
/// owners may read one addressed to an owner or admin.
pub fn password_reset(conn: &mut DbConn, person: &user::User, token: &str) -> QueryResult<()> {
    let minutes = password_reset::VALID_FOR_SECS / 60;
    let body = format!(
        "Hello {name},\n\nSomeone (we hope you) asked to reset the password of your taskbridge account.\n\n\
         Open the link below within {minutes} minutes to choose a new one. It works once. \
         When you use it, every other place you are signed in is signed out.\n\n\
         If you did not ask, ignore this email: your password stays as it is.",
        name = person.name,
    );
    let link = urls::password_reset(token);
    let readers = Readers::owners_if(person.role().manages_company());
    outbox::enqueue(
        conn,
        NewMail {
            company_id: person.company_id,
            to: &person.email,
            subject: "Reset your taskbridge password",
            body: &body,
            link: Some(&link),
            readers,
        },
    )
}

/// The link that confirms a new account's email, to the person who signed up.
pub fn verify_email(conn: &mut DbConn, person: &user::User, token: &str) -> QueryResult<()> {
    let hours = email_verification::VALID_FOR_SECS / 3600;
    let body = format!(
        "Hello {name},\n\nWelcome to taskbridge. Open the link below to confirm this is your \
         email address and start using your account. It works once, for {hours} hours.\n\n\
         If you did not sign up, ignore this email: the account stays unusable.",
        name = person.name,
    );
    let link = urls::verify_email(token);
    outbox::enqueue(
        conn,
        NewMail {
            company_id: person.company_id,
            to: &person.email,
            subject: "Confirm your email for taskbridge",
            body: &body,
            link: Some(&link),
            readers: Readers::Owners,
        },
    )
}

/// Someone tried to sign up with the email of an existing account: its owner is told,
/// and the page said what it says for a new email.
pub fn sign_up_attempted(conn: &mut DbConn, person: &user::User) -> QueryResult<()> {
    let body = format!(
        "Hello {name},\n\nSomeone tried to sign up for taskbridge with this email, \
         which already has an account. If it was you, log in instead, or use \
         \"Forgot password?\" on the log-in page to choose a new password.\n\n\
         If it was not you, you need do nothing: nothing was changed.",
        name = person.name,
    );
    outbox::enqueue(
        conn,
        NewMail {
            company_id: person.company_id,
            to: &person.email,
            subject: "Someone tried to sign up with your email",
            body: &body,
            link: Some(urls::LOG_IN),
            readers: Readers::Owners,
        },
    )
}

/// What a notice says: the email's subject, the message (in the app and the email)
/// and where it leads.
pub struct Notice<'a> {
    pub subject: &'a str,
    pub message: &'a str,
    pub link: Option<&'a str>,
}

impl<'a> Notice<'a> {
    pub fn new(subject: &'a str, message: &'a str, link: Option<&'a str>) -> Self {
        Notice {
            subject,
            message,
            link,
        }
    }
}

/// Emails a notice to each of `user_ids` who has not turned notices by email off
/// (the in-app notice is the caller's).
pub fn email_notice(conn: &mut DbConn, user_ids: &[i64], notice: &Notice) -> QueryResult<()> {
    let body = format!("Hello,\n\n{}\n\n{NOTICE_FOOTER}", notice.message);
    for (company_id, to) in user::notice_recipients(conn, user_ids)? {
        outbox::enqueue(
            conn,
            NewMail {
                company_id,
                to: &to,
                subject: notice.subject,
                body: &body,
                link: notice.link,
                readers: Readers::Managers,
            },
        )?;
    }
    Ok(())
}

/// An in-app notice for each of `user_ids`, and the same by email to those who want it.
pub fn tell(conn: &mut DbConn, user_ids: &[i64], notice: &Notice) -> QueryResult<()> {
    notification::notify(conn, user_ids, notice.message, notice.link)?;
    email_notice(conn, user_ids, notice)
}

/// A tool turned on for the company, told to `user_ids`.
pub fn tool_on(conn: &mut DbConn, user_ids: &[i64], kind: ProviderKind) -> QueryResult<()> {
    let subject = format!("{} is on for your company", kind.name());
    let message = active_notice(kind);
    let to = Some(urls::INTEGRATION_SETTINGS);
    tell(conn, user_ids, &Notice::new(&subject, &message, to))
}

/// A tool turned off for the company, told to the people it affects.
pub fn tool_off(
    conn: &mut DbConn,
    user_ids: &[i64],
    kind: ProviderKind,
    by: &str,
) -> QueryResult<()> {
    let tool = kind.name();
    let subject = format!("{tool} was turned off for your company");
    let message = format!(
        "{by} turned {tool} off for your company. Your {tool} tasks no longer sync; \
         what was synced stays on My Tasks, and your time entries are kept."
    );
    let to = Some(urls::MY_TASKS);
    tell(conn, user_ids, &Notice::new(&subject, &message, to))
}

/// A connection that stopped syncing and needs its person: emailed beside the in-app
/// notice the sync engine writes.
pub fn needs_attention(
    conn: &mut DbConn,
    user_id: i64,
    tool: &str,
    message: &str,
) -> QueryResult<()> {
    let subject = format!("{tool} needs your attention in taskbridge");
    let to = Some(urls::INTEGRATION_SETTINGS);
    email_notice(conn, &[user_id], &Notice::new(&subject, message, to))
}

/// The in-app notice that a tool is active for the company.
pub fn active_notice(kind: ProviderKind) -> String {
    format!(
        "{} is now active for your company. Turn on your own {} integration in Integration Settings to see your tasks.",
        kind.name(),
        kind.name()
    )
}
