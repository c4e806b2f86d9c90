//! Who is signed in, what they may do, and the guards on every request.

pub mod csrf;
pub mod device;
pub mod password;
mod person_statement;
pub mod session_store;
pub mod throttle;

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::{web, FromRequest, HttpRequest};
use diesel::prelude::*;

use crate::db::{self, now, Pool};
use crate::domain::{CompanyId, Role, UserId};
use crate::error::{AppError, Unexpected};
use crate::models::first_run::Facts;

pub use session_store::{SESSION_ROW, USER_ID};

/// An invite's token kept while the person it is for logs in ("Log in to join"): log-in
/// goes back to it.
pub const PENDING_INVITE: &str = "pending_invite";
/// When the person signed in; sessions older than [`ABSOLUTE_TIMEOUT_SECS`] end.
pub const SIGNED_IN_AT: &str = "signed_in_at";
/// A session idle this long ends (the cookie and the row expire together).
pub const IDLE_TIMEOUT_SECS: i64 = 2 * 60 * 60;
/// A session ends this long after sign-in, however active.
pub const ABSOLUTE_TIMEOUT_SECS: i64 = 12 * 60 * 60;

/// The signed-in person, loaded fresh on every request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The person's place in the company they are using now (a `users` row).
    pub id: UserId,
    /// Who signs in: the same in every company the person is in.
    pub login_id: i64,
    pub company_id: CompanyId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub company_name: String,
    pub company_has_logo: bool,
    pub unread_notifications: i64,
    /// The person's connections that need them (a Reconnect), for the menu's badge.
    pub needs_attention: i64,
    pub csrf_token: String,
    /// The person's own time zone; `None` follows the company's.
    pub own_time_zone: Option<String>,
    pub company_time_zone: String,
    pub week_start: String,
    /// The running timer, shown in the app shell on every page.
    pub running: Option<crate::models::time_entry::TimeEntry>,
    /// A timer running longer than this is flagged ("still running since …").
    pub timer_limit_secs: i64,
    /// The other companies the person is active in, for the company menu's switcher.
    pub other_companies: Vec<crate::models::user::Membership>,
}

impl CurrentUser {
    /// The person's days: their time zone (else the company's) and the week start.
    pub fn days(&self) -> crate::days::Days {
        crate::days::Days::new(
            self.own_time_zone
                .as_deref()
                .unwrap_or(&self.company_time_zone),
            &self.week_start,
        )
    }
}

/// The person a session says is signed in, read from the session alone (no query).
/// Nothing is theirs until the session's row is checked: pages that load more data
/// combine [`SignedIn::load`] (which checks it, in the statement that reads the
/// person) with their own queries in one trip to the database; the rest take
/// [`CurrentUser`], which does it for them.
pub struct SignedIn {
    claim: Claim,
    session: Session,
    csrf_token: String,
    timer_limit_secs: i64,
}

/// Who a session says is signed in, and the row that must agree: what
/// [`SignedIn::load`] checks, small enough to move into a database closure.
#[derive(Debug, Clone)]
pub struct Claim {
    pub user_id: i64,
    /// The digest keying the session's row.
    row: String,
}

impl Claim {
    /// A claim for `user_id` on the session row keyed `row` (for tools that time the
    /// statement on a row of their own).
    pub fn new(user_id: i64, row: String) -> Self {
        Self { user_id, row }
    }

    /// The person's statement for this claim, as of now.
    fn statement(&self) -> person_statement::PersonStatement<'_> {
        person_statement::PersonStatement {
            user_id: self.user_id,
            row: &self.row,
            now: now(),
        }
    }
}

/// When the session last showed activity; the sliding expiry moves when this does.
pub const LAST_SEEN: &str = "seen";
/// Activity moves the session's expiry at most this often (one write a minute, not
/// one a request).
pub const TOUCH_EVERY_SECS: i64 = 60;

impl SignedIn {
    pub fn from_request(req: &HttpRequest) -> Result<Self, AppError> {
        let mut signed_in = Self::from_session(req.get_session())?;
        if let Some(settings) = req.app_data::<web::Data<crate::config::Settings>>() {
            signed_in.timer_limit_secs = settings.timer_limit_secs();
        }
        Ok(signed_in)
    }

    pub fn from_session(session: Session) -> Result<Self, AppError> {
        let user_id = session
            .get::<i64>(USER_ID)
            .ok()
            .flatten()
            .ok_or(AppError::SignInRequired)?;
        // Only a session that came with the request has a row to check (one begun in
        // this request is not signed in until the next).
        let row = session
            .get::<String>(SESSION_ROW)
            .ok()
            .flatten()
            .ok_or(AppError::SignInRequired)?;
        let signed_in_at = session.get::<i64>(SIGNED_IN_AT).ok().flatten().unwrap_or(0);
        if now() - signed_in_at > ABSOLUTE_TIMEOUT_SECS {
            session.purge();
            return Err(AppError::SignInRequired);
        }
        let csrf_token = csrf::token(&session)?;
        Ok(Self {
            claim: Claim { user_id, row },
            session,
            csrf_token,
            timer_limit_secs: 12 * 60 * 60,
        })
    }

    /// The person the session names, and its row: for the page's database closure.
    pub fn claim(&self) -> Claim {
        self.claim.clone()
    }

    /// Loads the person (with their company and unread notices) on a connection the
    /// caller already holds, `SignedIn::load(conn, &claim)`, checking the session's
    /// row in the same statement: it must exist, not have expired, and name this
    /// person. `None`: the session has ended (or went on as someone else), or the
    /// person is gone or disabled.
    pub fn load(conn: &mut db::DbConn, claim: &Claim) -> QueryResult<Option<Loaded>> {
        let statement = claim.statement();
        let found: Option<PersonRow> = on_backend!(conn, |c| statement.get_result(c).optional())?;
        match found {
            Some(person) => Self::loaded(conn, person),
            None => Ok(None),
        }
    }

    /// The person from their statement's row, completed.
    fn loaded(
        conn: &mut db::DbConn,
        (row, days, counts, first_run, (tasks, time)): PersonRow,
    ) -> QueryResult<Option<Loaded>> {
        let loaded = complete(conn, row, days, counts)?;
        Ok(loaded.map(|l| Loaded {
            first_run: first_run_of(first_run),
            stamps: Stamps { tasks, time },
            ..l
        }))
    }

    /// [`SignedIn::load`] with My Tasks' connection cards (what
    /// `connection::shown_to` reads) from the same statement.
    pub fn load_with_cards(
        conn: &mut db::DbConn,
        claim: &Claim,
    ) -> QueryResult<Option<(Loaded, Vec<crate::models::connection::Shown>)>> {
        use crate::models::connection::{self, Card};
        let statement = claim.statement().with_cards();
        type CardRow = (Option<Card>, Option<i64>, Option<i64>);
        let rows: Vec<(PersonRow, CardRow)> = on_backend!(conn, |c| statement.load(c))?;
        let mut rows = rows.into_iter();
        let Some((person, first)) = rows.next() else {
            return Ok(None);
        };
        let cards = std::iter::once(first)
            .chain(rows.map(|(_, card)| card))
            .filter_map(|(card, tool, fetched)| card.map(|card| (card, tool, fetched)));
        let cards = connection::shown(cards);
        Ok(Self::loaded(conn, person)?.map(|loaded| (loaded, cards)))
    }

    /// The person is gone or disabled: their session ends here.
    pub fn gone(self) -> AppError {
        self.session.purge();
        AppError::SignInRequired
    }

    /// The person, once their session's row has been found: the row's times decide
    /// the absolute timeout and whether activity is noted (once a minute; a changed
    /// session is written with a fresh expiry, row and cookie, an unchanged one costs
    /// nothing).
    pub fn into_current(self, loaded: Loaded) -> Result<CurrentUser, AppError> {
        let Loaded {
            row,
            days: (own_time_zone, company_time_zone, week_start),
            unread,
            attention,
            running,
            other_companies,
            times,
            first_run: _,
            stamps: _,
        } = loaded;
        let at = now();
        if at - times.signed_in_at > ABSOLUTE_TIMEOUT_SECS {
            return Err(self.gone());
        }
        if at - times.seen >= TOUCH_EVERY_SECS {
            self.session
                .insert(LAST_SEEN, at)
                .unexpected("noting activity in the session")?;
        }
        let (id, company_id, name, email, role, _, company_name, logo_mime, login_id) = row;
        let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("stored role: {e}"))?;
        Ok(CurrentUser {
            id: UserId(id),
            login_id,
            company_id: CompanyId(company_id),
            name,
            email,
            role,
            company_name,
            company_has_logo: logo_mime.is_some(),
            unread_notifications: unread,
            needs_attention: attention,
            csrf_token: self.csrf_token,
            own_time_zone,
            company_time_zone,
            week_start,
            running,
            timer_limit_secs: self.timer_limit_secs,
            other_companies,
        })
    }
}

/// The person's statement's row: the person, their days, what rides along, the
/// checklist's facts and the stamps of their tasks and their time.
type PersonRow = (Row, Days, Counts, FirstRun, (Option<i64>, Option<i64>));
/// The person's own days: their time zone, the company's, and its first day of a week.
type Days = (Option<String>, String, String);
/// What rides along with the person: unread notices, connections that need attention,
/// places in other companies, the session row's state, whether a timer runs.
type Counts = (Option<i64>, Option<i64>, Option<i64>, Option<String>, bool);
/// The checklist's facts: when it was put away, someone else in the company, an invite
/// out, time ever tracked.
type FirstRun = (Option<i64>, bool, bool, bool);

fn first_run_of((dismissed, someone, invited, tracked): FirstRun) -> Facts {
    Facts {
        dismissed: dismissed.is_some(),
        team: someone || invited,
        tracked,
    }
}

/// The rest of a signed-in page's person once their statement found them: nothing if
/// the session's row is gone or the person disabled; the running timer and the other
/// companies read only when that statement says there are any.
fn complete(
    conn: &mut db::DbConn,
    row: Row,
    days: Days,
    (unread, attention, elsewhere, session, timing): Counts,
) -> QueryResult<Option<Loaded>> {
    let Some(session) = session else {
        return Ok(None);
    };
    if row.5 {
        return Ok(None);
    }
    let (user_id, company_id, login_id) = (row.0, row.1, row.8);
    let running = if timing {
        crate::models::time_entry::running(conn, company_id, user_id)?
    } else {
        None
    };
    let other_companies = if elsewhere.unwrap_or(0) > 0 {
        crate::models::user::other_memberships(conn, login_id, user_id)?
    } else {
        Vec::new()
    };
    Ok(Some(Loaded {
        row,
        days,
        unread: unread.unwrap_or(0),
        attention: attention.unwrap_or(0),
        running,
        other_companies,
        times: SessionTimes::of(&session),
        first_run: Facts::default(),
        stamps: Stamps::default(),
    }))
}

type Row = (
    i64,
    i64,
    String,
    String,
    String,
    bool,
    String,
    Option<String>,
    i64,
);

/// The times a session's row holds (in its state, as the session middleware wrote
/// it); a time missing or unreadable counts as long ago.
struct SessionTimes {
    signed_in_at: i64,
    seen: i64,
}

impl SessionTimes {
    fn of(state: &str) -> Self {
        #[derive(serde::Deserialize)]
        struct Times {
            signed_in_at: Option<String>,
            seen: Option<String>,
        }
        let at = |v: Option<String>| v.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        match serde_json::from_str::<Times>(state) {
            Ok(t) => Self {
                signed_in_at: at(t.signed_in_at),
                seen: at(t.seen),
            },
            Err(_) => Self {
                signed_in_at: 0,
                seen: 0,
            },
        }
    }
}

/// A person's row as [`SignedIn::load`] read it; [`SignedIn::into_current`] checks it.
pub struct Loaded {
    row: Row,
    days: (Option<String>, String, String),
    unread: i64,
    attention: i64,
    running: Option<crate::models::time_entry::TimeEntry>,
    other_companies: Vec<crate::models::user::Membership>,
    times: SessionTimes,
    first_run: Facts,
    stamps: Stamps,
}

/// The stamps read with the person: of their tasks (`task_stamps`) and of their time
/// (`time_stamps`); `None` for a person who never had a task, or never tracked time.
/// What an instance keeps of their pages is kept under them (`services::kept`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stamps {
    pub tasks: Option<i64>,
    pub time: Option<i64>,
}

impl Loaded {
    /// The person's id (the one the session named, checked).
    pub fn user_id(&self) -> i64 {
        self.row.0
    }

    pub fn company_id(&self) -> CompanyId {
        CompanyId(self.row.1)
    }

    /// The person's running timer, read with them.
    pub fn running(&self) -> Option<&crate::models::time_entry::TimeEntry> {
        self.running.as_ref()
    }

    /// The person's role in the company.
    pub fn role(&self) -> Result<Role, AppError> {
        Role::parse(&self.row.4).map_err(|e| anyhow::anyhow!("stored role: {e}").into())
    }

    /// Whether the person is the company's owner or an admin.
    pub fn manages_company(&self) -> bool {
        Role::parse(&self.row.4).is_ok_and(|r| r.manages_company())
    }

    /// The stamps of the person's tasks and time.
    pub fn stamps(&self) -> Stamps {
        self.stamps
    }

    /// What the first-run checklist reads, from the person's own statement.
    pub fn first_run(&self) -> &Facts {
        &self.first_run
    }

    /// The person's days, as [`CurrentUser::days`] gives them.
    pub fn days(&self) -> crate::days::Days {
        let (own, company, week_start) = &self.days;
        crate::days::Days::new(own.as_deref().unwrap_or(company), week_start)
    }
}

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(SignedIn::from_request(req))
    }
}

async fn load_current_user(req: HttpRequest) -> Result<CurrentUser, AppError> {
    let signed_in = SignedIn::from_request(&req)?;
    let pool = req
        .app_data::<web::Data<Pool>>()
        .ok_or_else(|| AppError::unexpected("no database pool in the app data"))?
        .clone();
    let claim = signed_in.claim();
    match db::run(&pool, move |conn| Ok(SignedIn::load(conn, &claim)?)).await? {
        Some(loaded) => signed_in.into_current(loaded),
        None => Err(signed_in.gone()),
    }
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(load_current_user(req.clone()))
    }
}

/// A role check as an extractor: a handler that takes one cannot forget the check.
macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $allowed:ident) => {
        $(#[$doc])*
        pub struct $name(pub CurrentUser);

        impl std::ops::Deref for $name {
            type Target = CurrentUser;

            fn deref(&self) -> &CurrentUser {
                &self.0
            }
        }

        impl FromRequest for $name {
            type Error = AppError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

            fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move {
                    let user = load_current_user(req).await?;
                    if user.role.$allowed() {
                        Ok($name(user))
                    } else {
                        Err(AppError::Forbidden)
                    }
                })
            }
        }
    };
}

role_extractor!(
    /// The signed-in person, an owner or admin of their company (everyone else: 403).
    CompanyManager,
    manages_company
);
role_extractor!(
    /// The signed-in person, allowed to see Integration Health and company reports
    /// (owners, admins and managers; everyone else: 403).
    HealthViewer,
    sees_health
);

/// Starts a signed-in session: a new session key (no fixation), a new CSRF token.
pub fn begin_session(session: &Session, user_id: UserId) -> Result<(), AppError> {
    session.renew();
    session.clear();
    let insert = |k: &str, v: i64| session.insert(k, v).unexpected("starting the session");
    insert(USER_ID, user_id.0)?;
    insert(SIGNED_IN_AT, now())?;
    insert(LAST_SEEN, now())?;
    csrf::token(session)?;
    Ok(())
}

/// The client address, for throttling and the audit log: the one place it is worked
/// out (`Page::ip` carries it). Behind a trusted proxy (`TASKBRIDGE_TRUSTED_PROXIES`)
/// it comes from `X-Forwarded-For`; otherwise that header is ignored.
pub fn client_ip(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    match req.app_data::<web::Data<crate::config::Settings>>() {
        Some(settings) => settings.trusted_proxies.client(peer, forwarded),
        None => peer,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_rows_times_are_read_under_the_names_the_session_writes() {
        let mut state = std::collections::HashMap::new();
        state.insert(SIGNED_IN_AT.to_owned(), "1000".to_owned());
        state.insert(LAST_SEEN.to_owned(), "2000".to_owned());
        state.insert(USER_ID.to_owned(), "7".to_owned());
        let times = SessionTimes::of(&serde_json::to_string(&state).unwrap());
        assert_eq!((times.signed_in_at, times.seen), (1000, 2000));
        let unreadable = SessionTimes::of("not json");
        assert_eq!((unreadable.signed_in_at, unreadable.seen), (0, 0));
    }
}
