//! Mail waiting to go out, written in the same transaction as what it tells about;
//! without an SMTP server it stays here as the outbox owners and admins read.

use crate::domain::CompanyId;
use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::schema::mail_outbox;

/// Who may read a mail's body in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Readers {
    /// Owners and admins.
    Managers,
    /// Owners only: a password reset link for an owner or admin, which an admin must
    /// not be able to use to take the account over.
    Owners,
}

impl Readers {
    /// Owners only when `sensitive` (the mail would let an admin take more than they
    /// have), owners and admins otherwise.
    pub fn owners_if(sensitive: bool) -> Self {
        if sensitive {
            Readers::Owners
        } else {
            Readers::Managers
        }
    }

    pub fn as_text(self) -> &'static str {
        match self {
            Readers::Managers => "managers",
            Readers::Owners => "owners",
        }
    }

    pub fn from_text(text: &str) -> Option<Self> {
        [Readers::Managers, Readers::Owners]
            .into_iter()
            .find(|r| r.as_text() == text)
    }
}

text_column!(Readers);

/// Where a mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for the mailer.
    Queued,
    /// Claimed by a mailer until `next_try_at` (another instance takes it over after).
    Sending,
    Sent,
    /// Given up after the last try.
    Failed,
    /// No SMTP server is set: kept in the outbox, never sent later.
    Held,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::Held => "held",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "sending" => Status::Sending,
            "sent" => Status::Sent,
            "failed" => Status::Failed,
            "held" => Status::Held,
            _ => Status::Queued,
        }
    }
}

/// A mail to write: plain text.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = mail_outbox)]
pub struct NewMail<'a> {
    pub company_id: i64,
    #[diesel(column_name = to_address)]
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// A path in the app, put under the body as a full link.
    pub link: Option<&'a str>,
    pub readers: Readers,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
pub struct Mail {
    pub id: i64,
    pub company_id: i64,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub link: Option<String>,
    pub readers: String,
    pub status: String,
    pub attempts: i32,
    pub next_try_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

impl Mail {
    /// The text as sent: the body, then the link in full.
    pub fn text(&self, base_url: &url::Url) -> String {
        match self.link.as_deref().and_then(|l| base_url.join(l).ok()) {
            Some(link) => format!("{}\n\n{link}\n", self.body.trim_end()),
            None => format!("{}\n", self.body.trim_end()),
        }
    }

    pub fn status(&self) -> Status {
        Status::parse(&self.status)
    }
}

pub fn enqueue(conn: &mut DbConn, mail: NewMail<'_>) -> QueryResult<()> {
    diesel::insert_into(mail_outbox::table)
        .values((
            mail,
            mail_outbox::status.eq(Status::Queued.as_str()),
            mail_outbox::attempts.eq(0),
            mail_outbox::next_try_at.eq(now()),
            mail_outbox::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Mails due now: queued, or claimed by a mailer whose claim ran out.
pub fn due(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<i64>> {
    mail_outbox::table
        .filter(mail_outbox::status.eq_any([Status::Queued.as_str(), Status::Sending.as_str()]))
        .filter(mail_outbox::next_try_at.le(now()))
        .order(mail_outbox::id.asc())
        .limit(limit)
        .select(mail_outbox::id)
        .load(conn)
}

/// Takes a due mail for `secs`; `None` when another mailer took it first. A
/// conditional update, so one instance sends each mail (on both backends).
pub fn claim(conn: &mut DbConn, id: i64, secs: i64) -> QueryResult<Option<Mail>> {
    let taken = diesel::update(
        mail_outbox::table
            .filter(mail_outbox::id.eq(id))
            .filter(mail_outbox::status.eq_any([Status::Queued.as_str(), Status::Sending.as_str()]))
            .filter(mail_outbox::next_try_at.le(now())),
    )
    .set((
        mail_outbox::status.eq(Status::Sending.as_str()),
        mail_outbox::next_try_at.eq(now() + secs),
        mail_outbox::attempts.eq(mail_outbox::attempts + 1),
    ))
    .execute(conn)?;
    if taken == 0 {
        return Ok(None);
    }
    mail_outbox::table
        .find(id)
        .select(Mail::as_select())
        .first(conn)
        .optional()
}

/// Sent: the body goes (it may hold a link that signs someone in); the record stays.
pub fn mark_sent(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::status.eq(Status::Sent.as_str()),
            mail_outbox::sent_at.eq(now()),
            mail_outbox::body.eq(""),
            mail_outbox::link.eq(None::<String>),
            mail_outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// A try failed: again at `retry_at`, or given up (`None`), the body dropped.
pub fn mark_failed(
    conn: &mut DbConn,
    id: i64,
    error: &str,
    retry_at: Option<i64>,
) -> QueryResult<()> {
    let target = mail_outbox::table.find(id);
    match retry_at {
        Some(at) => diesel::update(target)
            .set((
                mail_outbox::status.eq(Status::Queued.as_str()),
                mail_outbox::next_try_at.eq(at),
                mail_outbox::last_error.eq(error),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                mail_outbox::status.eq(Status::Failed.as_str()),
                mail_outbox::last_error.eq(error),
                mail_outbox::body.eq(""),
                mail_outbox::link.eq(None::<String>),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Without a mail server: everything queued stays in the outbox for good.
pub fn hold_queued(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::update(mail_outbox::table.filter(mail_outbox::status.eq(Status::Queued.as_str())))
        .set(mail_outbox::status.eq(Status::Held.as_str()))
        .execute(conn)
}

/// A company's latest mails, newest first.
pub fn for_company(conn: &mut DbConn, company_id: CompanyId, limit: i64) -> QueryResult<Vec<Mail>> {
    mail_outbox::table
        .filter(mail_outbox::company_id.eq(company_id))
        .order(mail_outbox::id.desc())
        .limit(limit)
        .select(Mail::as_select())
        .load(conn)
}
