//! Connections: a person's own account in a tool, with its encrypted credentials, its
//! sync schedule and the lease that lets one worker at a time sync it.

use crate::domain::{CompanyId, UserId};
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::{AsExpression, FromSqlRow};

use crate::connectors::ProviderKind;
use crate::db::{self, now, DbConn};
use crate::models::sync_page;
use crate::schema::{company_integrations, connections, sync_workers, users};

/// How long a sync engine may go without beating (`models::sync_worker`) before the
/// leases it holds count as free: it was killed, or lost the database.
pub const WORKER_GONE_AFTER_SECS: i64 = 15;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = connections)]
pub struct Connection {
    pub id: i64,
    pub company_id: i64,
    pub user_id: i64,
    pub provider: ProviderKind,
    pub status: ConnectionStatus,
    pub external_user_id: String,
    pub external_account_id: String,
    pub account_name: String,
    pub display_name: String,
    pub email: Option<String>,
    pub api_base: Option<String>,
    pub credentials: Option<Vec<u8>>,
    pub last_error_code: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub next_sync_at: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub sync_cursor: Option<String>,
    pub pass_id: Option<i64>,
    pub last_sync_at: Option<i64>,
    pub last_error: Option<String>,
    pub lease_generation: i64,
    pub sync_requested: bool,
    pub sync_now_at: Option<i64>,
    /// Tasks the last finished sync added, and took off the person's open list.
    pub last_added: i64,
    pub last_closed: i64,
}

/// What a person's connection to a tool is, shown the same way on the switch, the
/// My Tasks card, the menu badge and Integration Health, with one action each: Off
/// (turn it on), On (nothing to do), Syncing (wait), Needs attention (reconnect).
/// A sync that failed for the tool's own reasons (down, slow, asking to wait) leaves
/// the connection On: its card says what failed and when the next try is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Off,
    On,
    Syncing,
    NeedsAttention,
}

impl State {
    /// The state of `connection` (none: Off) at `now`.
    pub fn of(connection: Option<&Connection>, now: i64) -> Self {
        let Some(c) = connection else {
            return State::Off;
        };
        Self::judge(
            c.status,
            c.sync_requested,
            c.lease_until,
            c.last_sync_at.is_some() || c.last_error_code.is_some(),
            now,
        )
    }

    /// The state of a connection's card at `now`.
    pub fn of_card(c: &Card, now: i64) -> Self {
        Self::judge(
            c.status,
            c.sync_requested,
            c.lease_until,
            c.last_sync_at.is_some() || c.last_error_code.is_some(),
            now,
        )
    }

    /// Off and Needs attention are what the person set or the tool said; Syncing is a
    /// sync asked for, leased, or never yet finished.
    fn judge(
        status: ConnectionStatus,
        sync_requested: bool,
        lease_until: Option<i64>,
        ever_ran: bool,
        now: i64,
    ) -> Self {
        if status == ConnectionStatus::Off {
            State::Off
        } else if status == ConnectionStatus::NeedsReconnect {
            State::NeedsAttention
        } else if sync_requested || lease_until.is_some_and(|until| until > now) || !ever_ran {
            State::Syncing
        } else {
            State::On
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            State::Off => "Off",
            State::On => "On",
            State::Syncing => "Syncing",
            State::NeedsAttention => "Needs attention",
        }
    }

    /// The pill's class.
    pub fn class(self) -> &'static str {
        match self {
            State::Off => "state-off",
            State::On => "state-on",
            State::Syncing => "state-syncing",
            State::NeedsAttention => "state-bad",
        }
    }

    pub fn needs_attention(self) -> bool {
        self == State::NeedsAttention
    }
}

/// A lease as one run took it. Its generation is the run's fencing token: a write of
/// the run lands only while no later lease was taken (by another run, in this process
/// or another) and the connection was not re-linked since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub connection_id: i64,
    pub generation: i64,
    /// The saves of the run's pass that landed under this lease, as the run counts
    /// them (0 when taken). Every save compares it with the count on the connection's
    /// row and bumps both (`models::sync_pass`): a save the database acknowledged and
    /// then lost in a crash leaves the row's count behind, and fences the run out.
    pub saves: i64,
}

/// Whether a connection syncs, or waits for its person to reconnect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum ConnectionStatus {
    Active,
    NeedsReconnect,
    /// Turned off by its person, its API token kept to turn it on again (API-token
    /// tools only): it does not sync and is not shown as connected.
    Off,
}

impl ConnectionStatus {
    fn as_text(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::NeedsReconnect => "needs_reconnect",
            Self::Off => "off",
        }
    }

    fn from_text(text: &str) -> Option<Self> {
        [Self::Active, Self::NeedsReconnect, Self::Off]
            .into_iter()
            .find(|s| s.as_text() == text)
    }
}

text_column!(ConnectionStatus);

/// What a new connection links: the person, the tool account, the sealed credentials.
pub struct NewConnection<'a> {
    pub company_id: i64,
    pub user_id: i64,
    pub provider: ProviderKind,
    pub external_user_id: &'a str,
    pub external_account_id: &'a str,
    pub account_name: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub api_base: Option<&'a str>,
    pub credentials: Vec<u8>,
}

/// The columns that link an account, alike on a new connection and a re-linked one
/// (which is due for sync at once).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = connections, treat_none_as_null = true)]
struct LinkedAccount<'a> {
    status: ConnectionStatus,
    external_user_id: &'a str,
    external_account_id: &'a str,
    account_name: &'a str,
    display_name: &'a str,
    email: Option<&'a str>,
    api_base: Option<&'a str>,
    credentials: Option<Vec<u8>>,
    next_sync_at: i64,
    updated_at: i64,
}

/// The person already linked to this tool account in the company, if any other.
pub fn account_linked_to_other(
    conn: &mut DbConn,
    company_id: i64,
    provider: ProviderKind,
    external_account_id: &str,
    external_user_id: &str,
    user_id: i64,
) -> QueryResult<Option<String>> {
    connections::table
        .inner_join(users::table)
        .filter(connections::company_id.eq(company_id))
        .filter(connections::provider.eq(provider))
        .filter(connections::external_account_id.eq(external_account_id))
        .filter(connections::external_user_id.eq(external_user_id))
        .filter(connections::user_id.ne(user_id))
        .select(users::name)
        .first(conn)
        .optional()
}

/// Starts the connection's sync over, whatever it was doing: a new lease generation fences a
/// running pass's writes out, the lease, the pass, its cursor and its last error are
/// cleared, and the pages kept for conditional requests are forgotten (they say
/// nothing of what comes next).
fn start_over(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::update(connections::table.find(id))
        .set((
            connections::last_error_code.eq(None::<String>),
            connections::last_error.eq(None::<String>),
            connections::sync_cursor.eq(None::<String>),
            connections::pass_id.eq(None::<i64>),
            connections::lease_owner.eq(None::<String>),
            connections::lease_until.eq(None::<i64>),
            connections::lease_generation.eq(connections::lease_generation + 1),
            connections::sync_requested.eq(false),
        ))
        .execute(conn)?;
    sync_page::forget_pages(conn, id)?;
    Ok(())
}

/// Creates the person's connection to a tool, or re-links the existing one in place
/// (so a reconnect keeps the tasks already synced, and its next pass reads every page
/// in full), and makes it due for sync at once.
///
/// Re-linking ends whatever sync is running: a new lease generation fences the old
/// run's writes out (its next checkpoint, its refreshed credentials, its outcome), and
/// the lease, the pass and its cursor are cleared, so the next run starts a new pass
/// whose archive takes the old account's tasks away.
pub fn upsert(conn: &mut DbConn, new: NewConnection<'_>) -> QueryResult<i64> {
    let existing: Option<i64> = connections::table
        .filter(connections::user_id.eq(new.user_id))
        .filter(connections::provider.eq(new.provider))
        .select(connections::id)
        .first(conn)
        .optional()?;
    let linked = LinkedAccount {
        status: ConnectionStatus::Active,
        external_user_id: new.external_user_id,
        external_account_id: new.external_account_id,
        account_name: new.account_name,
        display_name: new.display_name,
        email: new.email,
        api_base: new.api_base,
        credentials: Some(new.credentials),
        next_sync_at: 0,
        updated_at: now(),
    };
    if let Some(id) = existing {
        diesel::update(connections::table.find(id))
            .set(linked)
            .execute(conn)?;
        start_over(conn, id)?;
        return Ok(id);
    }
    diesel::insert_into(connections::table)
        .values((
            connections::company_id.eq(new.company_id),
            connections::user_id.eq(new.user_id),
            connections::provider.eq(new.provider),
            connections::created_at.eq(linked.updated_at),
            linked,
        ))
        .returning(connections::id)
        .get_result(conn)
}

/// Connections that are not off (turned off with their token kept).
#[diesel::dsl::auto_type]
fn not_off() -> _ {
    let off: ConnectionStatus = ConnectionStatus::Off;
    connections::table.filter(connections::status.ne(off))
}

/// The person's connections.
pub fn for_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<Connection>> {
    let mine = not_off().filter(connections::user_id.eq(user_id));
    mine.select(Connection::as_select()).load(conn)
}

/// What a connection's card on My Tasks shows (its state, its last sync and what
/// failed), without the account's details and credentials. The person's statement
/// for My Tasks writes these columns out in this order
/// (`auth::person_statement::CARD_COLUMNS`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = connections)]
pub struct Card {
    pub id: i64,
    pub provider: ProviderKind,
    pub status: ConnectionStatus,
    pub last_error_code: Option<String>,
    pub last_error: Option<String>,
    pub next_sync_at: i64,
    pub lease_until: Option<i64>,
    pub last_sync_at: Option<i64>,
    pub sync_requested: bool,
    pub last_added: i64,
    pub last_closed: i64,
}

/// A connection as My Tasks shows it: whether the company has its tool on, and the
/// sync of it that runs now, if one does.
pub struct Shown {
    pub connection: Card,
    pub tool_on: bool,
    /// The tasks the running sync has fetched so far; `None` when none runs.
    pub fetched: Option<i64>,
}

/// The person's connections for My Tasks, in one statement: each with its tool's
/// company switch and its running sync (the partial index of running runs answers).
pub fn shown_to(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<Shown>> {
    use crate::models::sync_run::RunStatus;
    use crate::schema::sync_runs;
    let tool_on = company_integrations::table.on(company_integrations::company_id
        .eq(connections::company_id)
        .and(company_integrations::provider.eq(connections::provider))
        .and(company_integrations::enabled.eq(true)));
    let running = sync_runs::table.on(sync_runs::connection_id
        .eq(connections::id)
        .and(sync_runs::status.eq(RunStatus::Running)));
    let rows: Vec<(Card, Option<i64>, Option<i64>)> = on_backend!(conn, |c| not_off()
        .filter(connections::user_id.eq(user_id))
        .left_join(tool_on)
        .left_join(running)
        .order(connections::id)
        .select((
            Card::as_select(),
            company_integrations::id.nullable(),
            sync_runs::fetched.nullable(),
        ))
        .load(c))?;
    Ok(shown(rows))
}

/// The connections as My Tasks shows them, from rows of (card, its tool's switch, its
/// running sync) in the order of the connections' ids: as `shown_to` reads them, and
/// as the person's statement does for My Tasks.
pub fn shown(rows: impl IntoIterator<Item = (Card, Option<i64>, Option<i64>)>) -> Vec<Shown> {
    let mut shown: Vec<Shown> = Vec::new();
    for (connection, tool, fetched) in rows {
        // (Two running syncs of one connection would repeat it: a lease allows one.)
        if shown
            .last()
            .is_some_and(|s| s.connection.id == connection.id)
        {
            continue;
        }
        shown.push(Shown {
            connection,
            tool_on: tool.is_some(),
            fetched,
        });
    }
    shown
}

/// Every connection in the company, for the health page.
pub fn for_company(conn: &mut DbConn, company_id: CompanyId) -> QueryResult<Vec<Connection>> {
    let theirs = not_off().filter(connections::company_id.eq(company_id));
    theirs.select(Connection::as_select()).load(conn)
}

/// How many people of the company have connected each tool.
pub fn counts_by_tool(conn: &mut DbConn, company_id: i64) -> QueryResult<Vec<(ProviderKind, i64)>> {
    let rows: Vec<(String, i64)> = connections::table
        .filter(connections::company_id.eq(company_id))
        .filter(connections::status.ne(ConnectionStatus::Off))
        .group_by(connections::provider)
        .select((connections::provider, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(slug, n)| ProviderKind::from_slug(&slug).map(|k| (k, n)))
        .collect())
}

/// One connection of the company: another company's is simply not found.
pub fn in_company(conn: &mut DbConn, company_id: CompanyId, id: i64) -> QueryResult<Connection> {
    connections::table
        .filter(connections::company_id.eq(company_id))
        .filter(connections::id.eq(id))
        .select(Connection::as_select())
        .first(conn)
}

pub fn of_user(
    conn: &mut DbConn,
    user_id: UserId,
    provider: ProviderKind,
) -> QueryResult<Option<Connection>> {
    connections::table
        .filter(connections::user_id.eq(user_id))
        .filter(connections::provider.eq(provider))
        .filter(connections::status.ne(ConnectionStatus::Off))
        .select(Connection::as_select())
        .first(conn)
        .optional()
}

/// The tools whose API token the person turned off and kept.
pub fn kept_tokens(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<ProviderKind>> {
    connections::table
        .filter(connections::user_id.eq(user_id))
        .filter(connections::status.eq(ConnectionStatus::Off))
        .filter(connections::credentials.is_not_null())
        .select(connections::provider)
        .load(conn)
}

/// Turns the person's connection off but keeps its token: what it synced goes (as on
/// a disconnect; time tracked on it stays), and a running sync is fenced out.
pub fn turn_off_keeping_token(
    conn: &mut DbConn,
    user_id: i64,
    provider: ProviderKind,
) -> QueryResult<bool> {
    let Some(c) = of_user(conn, UserId(user_id), provider)? else {
        return Ok(false);
    };
    start_over(conn, c.id)?;
    diesel::update(connections::table.find(c.id))
        .set((
            connections::status.eq(ConnectionStatus::Off),
            connections::last_sync_at.eq(None::<i64>),
        ))
        .execute(conn)?;
    crate::models::task::delete_of_connection(conn, c.id)?;
    Ok(true)
}

/// Turns a connection that was turned off with its token kept on again, due at once.
pub fn turn_on_kept(conn: &mut DbConn, user_id: i64, provider: ProviderKind) -> QueryResult<bool> {
    let changed = diesel::update(
        connections::table
            .filter(connections::user_id.eq(user_id))
            .filter(connections::provider.eq(provider))
            .filter(connections::status.eq(ConnectionStatus::Off))
            .filter(connections::credentials.is_not_null()),
    )
    .set((
        connections::status.eq(ConnectionStatus::Active),
        connections::next_sync_at.eq(0),
        connections::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}

/// Disconnects: the row and its tokens are deleted.
pub fn delete_for_user(
    conn: &mut DbConn,
    user_id: i64,
    provider: ProviderKind,
) -> QueryResult<usize> {
    diesel::delete(
        connections::table
            .filter(connections::user_id.eq(user_id))
            .filter(connections::provider.eq(provider)),
    )
    .execute(conn)
}

/// A disabled person's tokens go; their connections stay, with what they synced (and
/// the time tracked on it), waiting for the person to reconnect. A run holding a lease
/// loses it: the new generation fences every write it still tries.
pub fn drop_credentials_of_user(
    conn: &mut DbConn,
    user_id: i64,
    why: (&str, &str),
) -> QueryResult<usize> {
    diesel::update(connections::table.filter(connections::user_id.eq(user_id)))
        .set((
            connections::credentials.eq(None::<Vec<u8>>),
            connections::status.eq(ConnectionStatus::NeedsReconnect),
            connections::last_error_code.eq(why.0),
            connections::last_error.eq(why.1),
            connections::lease_owner.eq(None::<String>),
            connections::lease_until.eq(None::<i64>),
            connections::lease_generation.eq(connections::lease_generation + 1),
            connections::sync_requested.eq(false),
            connections::updated_at.eq(now()),
        ))
        .execute(conn)
}

/// Leases free to take: none held, run out, or held by a sync engine that stopped
/// beating before `gone_before`.
#[diesel::dsl::auto_type]
fn lease_free(at: i64, gone_before: i64) -> _ {
    connections::lease_until
        .is_null()
        .or(connections::lease_until.lt(at))
        .or(connections::lease_owner.eq_any(
            sync_workers::table
                .filter(sync_workers::seen_at.lt(gone_before))
                .select(sync_workers::owner.nullable()),
        ))
}

/// Connections whose lease is free, by the database's clock at `at`.
#[diesel::dsl::auto_type(no_type_alias)]
pub fn with_free_lease(at: i64) -> _ {
    let free: lease_free = lease_free(at, at - WORKER_GONE_AFTER_SECS);
    connections::table.filter(free).select(connections::id)
}

/// Active connections of companies with the tool ON, due now and not leased.
pub fn due(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<i64>> {
    let at = db::clock(conn)?;
    connections::table
        .inner_join(
            company_integrations::table.on(company_integrations::company_id
                .eq(connections::company_id)
                .and(company_integrations::provider.eq(connections::provider))),
        )
        .filter(company_integrations::enabled.eq(true))
        .filter(connections::status.eq(ConnectionStatus::Active))
        .filter(connections::next_sync_at.le(at))
        .filter(lease_free(at, at - WORKER_GONE_AFTER_SECS))
        .order(connections::next_sync_at.asc())
        .limit(limit)
        .select(connections::id)
        .load(conn)
}

/// Takes the lease when it is free (see [`lease_free`]), with a new generation and no
/// saves counted yet, its times by the database's clock. The conditional update is
/// atomic on both backends: of two instances racing, exactly one sees a row updated.
/// While leased, `next_sync_at` holds the lease's end, so a "Sync now" during the run
/// (which sets it to 0) is still there when the run lets go. It commits durably, like
/// every write but a page's save on PostgreSQL (`models::sync_pass`).
pub fn try_lease(conn: &mut DbConn, id: i64, owner: &str, secs: i64) -> QueryResult<Option<Lease>> {
    let at = db::clock(conn)?;
    let generation: Option<i64> = diesel::update(
        connections::table
            .find(id)
            .filter(lease_free(at, at - WORKER_GONE_AFTER_SECS)),
    )
    .set((
        connections::lease_owner.eq(owner),
        connections::lease_until.eq(at + secs),
        connections::next_sync_at.eq(at + secs),
        connections::lease_generation.eq(connections::lease_generation + 1),
        connections::lease_saves.eq(0),
    ))
    .returning(connections::lease_generation)
    .get_result(conn)
    .optional()?;
    Ok(generation.map(|generation| Lease {
        connection_id: id,
        generation,
        saves: 0,
    }))
}

/// The connection while `lease` is still the one held.
#[diesel::dsl::auto_type]
fn held(lease: Lease) -> _ {
    let id: i64 = lease.connection_id;
    let generation: i64 = lease.generation;
    connections::table
        .filter(connections::id.eq(id))
        .filter(connections::lease_generation.eq(generation))
        .filter(connections::lease_owner.is_not_null())
}

/// Extends the lease; false when it is no longer ours (a later lease, a reconnect).
/// As the first statement of a write transaction it fences the rest: on PostgreSQL
/// the row stays locked until the commit, so no reconnect slips in between; SQLite's
/// immediate transactions write one at a time anyway.
pub fn renew_lease(conn: &mut DbConn, lease: &Lease, secs: i64) -> QueryResult<bool> {
    let at = db::clock(conn)?;
    let renewed = diesel::update(held(*lease))
        .set(connections::lease_until.eq(at + secs))
        .execute(conn)?;
    Ok(renewed == 1)
}

/// [`renew_lease`] for a save of the pass: only while the connection's count of saves
/// under the lease is still `lease.saves` (none was lost), and then one more. The
/// caller counts the save in `lease` once its transaction has committed.
pub fn renew_lease_at_save(conn: &mut DbConn, lease: &Lease, secs: i64) -> QueryResult<bool> {
    let at = db::clock(conn)?;
    let renewed = diesel::update(held(*lease).filter(connections::lease_saves.eq(lease.saves)))
        .set((
            connections::lease_until.eq(at + secs),
            connections::lease_saves.eq(lease.saves + 1),
        ))
        .execute(conn)?;
    Ok(renewed == 1)
}

/// When a connection syncs next, as its run ends.
#[derive(Debug, Clone, Copy)]
pub enum Next {
    /// At this time, unless "Sync now" was asked for during the run: then at once.
    At(i64),
    /// At this time whatever happened meanwhile (the tool said when to come back).
    NotBefore(i64),
}

/// Lets go of the lease and says when to sync next; nothing when it is not ours.
pub fn release(conn: &mut DbConn, lease: &Lease, next: Next) -> QueryResult<()> {
    match next {
        Next::At(at) => {
            diesel::update(held(*lease).filter(connections::next_sync_at.ne(0)))
                .set(connections::next_sync_at.eq(at))
                .execute(conn)?;
        }
        Next::NotBefore(at) => {
            diesel::update(held(*lease))
                .set(connections::next_sync_at.eq(at))
                .execute(conn)?;
        }
    }
    diesel::update(held(*lease))
        .set((
            connections::lease_owner.eq(None::<String>),
            connections::lease_until.eq(None::<i64>),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Connection> {
    connections::table
        .find(id)
        .select(Connection::as_select())
        .first(conn)
}

/// "Sync now" for a person: their active connections are due at once, each with one
/// request standing (asked again before a run picks it up, it is still one run). Within
/// `cooldown` seconds of the last request it asks for nothing and answers how many
/// seconds are left. Run it in a write transaction.
pub fn request_sync(
    conn: &mut DbConn,
    user_id: i64,
    cooldown: i64,
) -> QueryResult<Result<usize, i64>> {
    let at = db::clock(conn)?;
    let mine = connections::table
        .filter(connections::user_id.eq(user_id))
        .filter(connections::status.eq(ConnectionStatus::Active));
    let last: Option<i64> = mine
        .select(diesel::dsl::max(connections::sync_now_at))
        .first(conn)?;
    if let Some(last) = last.filter(|last| (*last..*last + cooldown).contains(&at)) {
        return Ok(Err(last + cooldown - at));
    }
    let requested = diesel::update(mine)
        .set((
            connections::next_sync_at.eq(0),
            connections::sync_requested.eq(true),
            connections::sync_now_at.eq(at),
        ))
        .execute(conn)?;
    Ok(Ok(requested))
}

/// Makes every active connection of the company to `provider` due at once, with a run
/// asked for (a company setting of the tool changed); returns how many.
pub fn request_sync_for_tool(
    conn: &mut DbConn,
    company_id: i64,
    provider: ProviderKind,
) -> QueryResult<usize> {
    diesel::update(
        connections::table
            .filter(connections::company_id.eq(company_id))
            .filter(connections::provider.eq(provider))
            .filter(connections::status.eq(ConnectionStatus::Active)),
    )
    .set((
        connections::next_sync_at.eq(0),
        connections::sync_requested.eq(true),
    ))
    .execute(conn)
}

/// Takes up the standing "Sync now" request, if any, for the run holding `lease`.
pub fn take_request(conn: &mut DbConn, lease: &Lease) -> QueryResult<bool> {
    let taken = diesel::update(held(*lease).filter(connections::sync_requested.eq(true)))
        .set(connections::sync_requested.eq(false))
        .execute(conn)?;
    Ok(taken == 1)
}

/// Sealed credentials with the row they are bound to: company, person, tool.
pub type SealedFor = (i64, i64, ProviderKind, Vec<u8>);

/// Up to `limit` sealed credentials, for the key check of a database set up before it
/// had one.
pub fn some_sealed(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<SealedFor>> {
    let rows: Vec<(i64, i64, ProviderKind, Option<Vec<u8>>)> = connections::table
        .filter(connections::credentials.is_not_null())
        .order(connections::id)
        .limit(limit)
        .select((
            connections::company_id,
            connections::user_id,
            connections::provider,
            connections::credentials,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(company, user, kind, sealed)| Some((company, user, kind, sealed?)))
        .collect())
}

/// The credentials stored now, while `lease` is held; `None` when it is not.
pub fn held_credentials(conn: &mut DbConn, lease: &Lease) -> QueryResult<Option<Option<Vec<u8>>>> {
    held(*lease)
        .select(connections::credentials)
        .first(conn)
        .optional()
}

/// Stores refreshed credentials while `lease` is held and the credentials stored are
/// still `replacing` (the ones refreshed): a later run's, or a reconnect's, are never
/// overwritten. False when nothing was stored.
pub fn store_credentials(
    conn: &mut DbConn,
    lease: &Lease,
    replacing: &[u8],
    sealed: Vec<u8>,
) -> QueryResult<bool> {
    let stored = diesel::update(held(*lease).filter(connections::credentials.eq(replacing)))
        .set((
            connections::credentials.eq(Some(sealed)),
            connections::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(stored == 1)
}

/// Records the outcome on the connection: `None` clears the last error; `synced`, what
/// a sync that finished brought.
pub fn set_outcome(
    conn: &mut DbConn,
    lease: &Lease,
    status: ConnectionStatus,
    error: Option<(&str, &str)>,
    synced: Option<crate::models::task::PageCounts>,
) -> QueryResult<()> {
    let (code, message) = match error {
        Some((c, m)) => (Some(c.to_owned()), Some(m.to_owned())),
        None => (None, None),
    };
    diesel::update(held(*lease))
        .set((
            connections::status.eq(status),
            connections::last_error_code.eq(code),
            connections::last_error.eq(message),
        ))
        .execute(conn)?;
    if let Some(counts) = synced {
        diesel::update(held(*lease))
            .set((
                connections::last_sync_at.eq(now()),
                connections::last_added.eq(counts.added),
                connections::last_closed.eq(counts.archived),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether `lease` is still the one held.
pub fn holds_lease(conn: &mut DbConn, lease: &Lease) -> QueryResult<bool> {
    let held: i64 = held(*lease).count().get_result(conn)?;
    Ok(held > 0)
}

/// Makes where a pass stands durable: the cursor of its next page, and its id.
pub fn save_cursor(
    conn: &mut DbConn,
    id: i64,
    cursor: Option<&str>,
    pass_id: i64,
) -> QueryResult<()> {
    diesel::update(connections::table.find(id))
        .set((
            connections::sync_cursor.eq(cursor),
            connections::pass_id.eq(pass_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends the pass: the next run starts a new one from the first page.
pub fn end_pass(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::update(connections::table.find(id))
        .set((
            connections::sync_cursor.eq(None::<String>),
            connections::pass_id.eq(None::<i64>),
        ))
        .execute(conn)?;
    Ok(())
}
