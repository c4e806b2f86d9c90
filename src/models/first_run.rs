//! What a new company has done yet, for the first-run checklist of its owners and
//! admins on My Tasks.

use diesel::dsl::exists;
use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::domain::CompanyId;
use crate::schema::{invites, time_entries, users};

/// The steps the checklist reads from the database (the tools turned on and the
/// person's own connections come with My Tasks already).
pub struct Facts {
    pub dismissed: bool,
    /// Someone else is in the company, or has been invited.
    pub team: bool,
    /// The person has tracked time at least once.
    pub tracked: bool,
}

pub fn facts(conn: &mut DbConn, company_id: CompanyId, user_id: i64) -> QueryResult<Facts> {
    // One statement: it runs on every My Tasks view of an owner or admin.
    let dismissed = users::table
        .find(user_id)
        .select(users::checklist_dismissed_at)
        .single_value();
    let others = users::table
        .filter(users::company_id.eq(company_id))
        .filter(users::id.ne(user_id));
    let invited = invites::table.filter(invites::company_id.eq(company_id));
    let tracked = time_entries::table.filter(time_entries::user_id.eq(user_id));
    let (dismissed, someone, invite, tracked): (Option<i64>, bool, bool, bool) =
        diesel::select((dismissed, exists(others), exists(invited), exists(tracked)))
            .get_result(conn)?;
    Ok(Facts {
        dismissed: dismissed.is_some(),
        team: someone || invite,
        tracked,
    })
}

/// Puts the checklist away for good, for this person.
pub fn dismiss(conn: &mut DbConn, user_id: i64) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set(users::checklist_dismissed_at.eq(Some(now())))
        .execute(conn)
}
