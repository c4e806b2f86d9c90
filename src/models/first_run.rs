//! What a new company has done yet, for the first-run checklist of its owners and
//! admins on My Tasks.

use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::schema::users;

/// The steps the checklist reads from the database, in the signed-in person's own
/// statement (`auth::SignedIn::load`; the tools turned on and the person's own
/// connections come with My Tasks already).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub dismissed: bool,
    /// Someone else is in the company, or has been invited.
    pub team: bool,
    /// The person has tracked time at least once.
    pub tracked: bool,
}

/// Puts the checklist away for good, for this person.
pub fn dismiss(conn: &mut DbConn, user_id: i64) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set(users::checklist_dismissed_at.eq(Some(now())))
        .execute(conn)
}
