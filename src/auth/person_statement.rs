//! The statement every signed-in page makes, written out once.
//!
//! Built with diesel's query builder, its nine subqueries were 23 nodes with binds, and
//! diesel walks a query's nodes twice on every run, however long it keeps the statement
//! prepared: once to ask whether it may be cached, once to collect the binds. That was
//! more time than SQLite took to run it (a profile of My Tasks: 8% of a view against
//! 7.6%). Here the subqueries follow the person's row (`users.id`, `users.company_id`,
//! `users.login_id`) instead of binding the person again, so there are three binds,
//! and the statement is one node: walking it costs nothing. Every signed-in test runs
//! it, on SQLite and PostgreSQL.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel::{QueryResult, RunQueryDsl};

/// The person (with the session's row checked) on `user_id`, as of `now`.
pub struct PersonStatement<'a> {
    pub user_id: i64,
    /// The digest keying the session's row.
    pub row: &'a str,
    pub now: i64,
}

/// The person's row, their days, what rides along (unread notices, connections that
/// need attention, places in other companies, the session row's state, whether a timer
/// runs), the first-run checklist's facts and the stamps of their tasks and time.
pub type SqlType = (
    (
        BigInt,
        BigInt,
        Text,
        Text,
        Text,
        Bool,
        Text,
        Nullable<Text>,
        BigInt,
    ),
    (Nullable<Text>, Text, Text),
    (
        Nullable<BigInt>,
        Nullable<BigInt>,
        Nullable<BigInt>,
        Nullable<Text>,
        Bool,
    ),
    (Nullable<BigInt>, Bool, Bool, Bool),
    (Nullable<BigInt>, Nullable<BigInt>),
);

const BEFORE_ROW: &str = "SELECT users.id, users.company_id, users.name, logins.email, \
     users.role, users.disabled, companies.name, companies.logo_mime, users.login_id, \
     users.time_zone, companies.time_zone, companies.week_start, \
     (SELECT COUNT(*) FROM notifications \
       WHERE notifications.user_id = users.id AND notifications.read_at IS NULL), \
     (SELECT COUNT(*) FROM connections \
       WHERE connections.user_id = users.id AND connections.status = 'needs_reconnect'), \
     (SELECT COUNT(*) FROM users AS others \
       WHERE others.login_id = users.login_id AND others.id <> users.id \
       AND others.disabled = FALSE), \
     (SELECT sessions.state FROM sessions WHERE sessions.id = ";
const BEFORE_NOW: &str = " AND sessions.user_id = users.id AND sessions.expires_at > ";
const BEFORE_TAIL: &str = "), \
     EXISTS (SELECT 1 FROM time_entries \
       WHERE time_entries.user_id = users.id AND time_entries.ended_at IS NULL), \
     users.checklist_dismissed_at, \
     EXISTS (SELECT 1 FROM users AS team \
       WHERE team.company_id = users.company_id AND team.id <> users.id), \
     EXISTS (SELECT 1 FROM invites WHERE invites.company_id = users.company_id), \
     EXISTS (SELECT 1 FROM time_entries WHERE time_entries.user_id = users.id), \
     (SELECT task_stamps.stamp FROM task_stamps WHERE task_stamps.user_id = users.id), \
     (SELECT time_stamps.stamp FROM time_stamps WHERE time_stamps.user_id = users.id)";
const FROM_PERSON: &str = " FROM users \
     INNER JOIN companies ON companies.id = users.company_id \
     INNER JOIN logins ON logins.id = users.login_id";
const WHERE_USER: &str = " WHERE users.id = ";

/// My Tasks' connection cards, as `connection::shown_to` reads them: each connection
/// that is not off, its tool's company switch, and the sync of it that runs now.
const CARD_COLUMNS: &str = ", connections.id, connections.provider, connections.status, \
     connections.last_error_code, connections.last_error, connections.next_sync_at, \
     connections.lease_until, connections.last_sync_at, connections.sync_requested, \
     connections.last_added, connections.last_closed, \
     company_integrations.id, sync_runs.fetched";
const CARD_JOINS: &str = " LEFT JOIN connections \
       ON connections.user_id = users.id AND connections.status <> 'off' \
     LEFT JOIN company_integrations \
       ON company_integrations.company_id = connections.company_id \
       AND company_integrations.provider = connections.provider \
       AND company_integrations.enabled = TRUE \
     LEFT JOIN sync_runs \
       ON sync_runs.connection_id = connections.id AND sync_runs.status = 'running'";
const CARD_ORDER: &str = " ORDER BY connections.id";

impl QueryId for PersonStatement<'_> {
    type QueryId = PersonStatement<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for PersonStatement<'_> {
    type SqlType = SqlType;
}

impl<DB> QueryFragment<DB> for PersonStatement<'_>
where
    DB: Backend,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.walk(out, None)
    }
}

impl<Conn> RunQueryDsl<Conn> for PersonStatement<'_> {}

impl<'a> PersonStatement<'a> {
    /// The statement, with the cards' columns and joins when `cards` is given.
    fn walk<'b, DB>(
        &'b self,
        mut out: AstPass<'_, 'b, DB>,
        cards: Option<(&str, &str, &str)>,
    ) -> QueryResult<()>
    where
        DB: Backend,
        i64: ToSql<BigInt, DB>,
        str: ToSql<Text, DB>,
    {
        let (columns, joins, order) = cards.unwrap_or(("", "", ""));
        out.push_sql(BEFORE_ROW);
        out.push_bind_param::<Text, str>(self.row)?;
        out.push_sql(BEFORE_NOW);
        out.push_bind_param::<BigInt, i64>(&self.now)?;
        out.push_sql(BEFORE_TAIL);
        out.push_sql(columns);
        out.push_sql(FROM_PERSON);
        out.push_sql(joins);
        out.push_sql(WHERE_USER);
        out.push_bind_param::<BigInt, i64>(&self.user_id)?;
        out.push_sql(order);
        Ok(())
    }

    /// The same statement with My Tasks' connection cards: one row per card (one with
    /// no card when the person has none), the person's columns on each.
    pub fn with_cards(self) -> WithCards<'a> {
        WithCards(self)
    }
}

/// [`PersonStatement`] with My Tasks' connection cards, so that My Tasks reads the
/// person, the session's row and the cards in one statement.
pub struct WithCards<'a>(PersonStatement<'a>);

/// A connection card's columns (`connection::Card`), its tool's switch and its running
/// sync's fetched count; all null on the row of a person with no card.
pub type CardSqlType = (
    Nullable<(
        BigInt,
        Text,
        Text,
        Nullable<Text>,
        Nullable<Text>,
        BigInt,
        Nullable<BigInt>,
        Nullable<BigInt>,
        Bool,
        BigInt,
        BigInt,
    )>,
    Nullable<BigInt>,
    Nullable<BigInt>,
);

impl QueryId for WithCards<'_> {
    type QueryId = WithCards<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for WithCards<'_> {
    type SqlType = (SqlType, CardSqlType);
}

impl<DB> QueryFragment<DB> for WithCards<'_>
where
    DB: Backend,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0
            .walk(out, Some((CARD_COLUMNS, CARD_JOINS, CARD_ORDER)))
    }
}

impl<Conn> RunQueryDsl<Conn> for WithCards<'_> {}
