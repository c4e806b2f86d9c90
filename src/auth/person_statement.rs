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
/// runs), the first-run checklist's facts and the stamp of their tasks.
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
    Nullable<BigInt>,
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
const BEFORE_USER: &str = "), \
     EXISTS (SELECT 1 FROM time_entries \
       WHERE time_entries.user_id = users.id AND time_entries.ended_at IS NULL), \
     users.checklist_dismissed_at, \
     EXISTS (SELECT 1 FROM users AS team \
       WHERE team.company_id = users.company_id AND team.id <> users.id), \
     EXISTS (SELECT 1 FROM invites WHERE invites.company_id = users.company_id), \
     EXISTS (SELECT 1 FROM time_entries WHERE time_entries.user_id = users.id), \
     (SELECT task_stamps.stamp FROM task_stamps WHERE task_stamps.user_id = users.id) \
     FROM users \
     INNER JOIN companies ON companies.id = users.company_id \
     INNER JOIN logins ON logins.id = users.login_id \
     WHERE users.id = ";

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
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(BEFORE_ROW);
        out.push_bind_param::<Text, str>(self.row)?;
        out.push_sql(BEFORE_NOW);
        out.push_bind_param::<BigInt, i64>(&self.now)?;
        out.push_sql(BEFORE_USER);
        out.push_bind_param::<BigInt, i64>(&self.user_id)?;
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for PersonStatement<'_> {}
