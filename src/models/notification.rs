//! In-app notices.

use crate::domain::UserId;
use diesel::prelude::*;

use crate::db::{now, DbConn};
use crate::schema::notifications;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: i64,
    pub user_id: i64,
    pub message: String,
    pub link: Option<String>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

pub fn notify(
    conn: &mut DbConn,
    user_ids: &[i64],
    message: &str,
    link: Option<&str>,
) -> QueryResult<()> {
    for user_id in user_ids {
        diesel::insert_into(notifications::table)
            .values((
                notifications::user_id.eq(user_id),
                notifications::message.eq(message),
                notifications::link.eq(link),
                notifications::created_at.eq(now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn recent(conn: &mut DbConn, user_id: UserId) -> QueryResult<Vec<Notification>> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .order(notifications::id.desc())
        .limit(50)
        .select(Notification::as_select())
        .load(conn)
}

pub fn mark_all_read(conn: &mut DbConn, user_id: UserId) -> QueryResult<()> {
    diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(now()))
    .execute(conn)?;
    Ok(())
}
