//! What My Tasks reads about a person that changes far less often than it is viewed,
//! kept by this instance between views: the filter values (the projects and statuses of
//! the person's open tasks, with their counts) and the connection cards above the list.
//!
//! Each changes only with rows the database stamps: any change to what it shows gives
//! the person a new random stamp in the same transaction, set by triggers (`tasks` →
//! `task_stamps`; `connections`, `sync_runs`, `company_integrations` → `card_stamps`).
//! The person's statement, made on every signed-in page, reads both stamps; values kept
//! under that very stamp are the ones the database would give, on whichever instance the
//! change was made. Anything else (no stamp, another stamp, nothing kept here) reads
//! them again, together with the stamp they were read under, in one statement.

use std::sync::Arc;

use diesel::QueryResult;

use crate::db::DbConn;
use crate::models::connection::{self, Shown};
use crate::models::task::{self, Pairs};

/// People whose values an instance keeps at most, of each kind (the least used go
/// first).
pub const KEPT_PEOPLE: usize = 10_000;

/// Values of one kind, each person's under the stamp it was read with.
pub struct Kept<V> {
    kept: quick_cache::sync::Cache<i64, (i64, Arc<V>)>,
}

/// My Tasks' filter values.
pub type FacetCache = Kept<Pairs>;
/// My Tasks' connection cards.
pub type CardCache = Kept<Vec<Shown>>;

impl<V> Kept<V> {
    pub fn new(people: usize) -> Self {
        Self {
            kept: quick_cache::sync::Cache::new(people),
        }
    }

    /// The person's values: the kept ones when `stamp` (from the person's statement in
    /// this same request) is the stamp they were read under, else `read` (the values
    /// with the stamp read in the same statement) and kept.
    fn get_or_read(
        &self,
        user_id: i64,
        stamp: Option<i64>,
        read: impl FnOnce() -> QueryResult<(V, Option<i64>)>,
    ) -> QueryResult<Arc<V>> {
        if let Some(stamp) = stamp {
            if let Some((kept_stamp, values)) = self.kept.get(&user_id) {
                if kept_stamp == stamp {
                    return Ok(values);
                }
            }
        }
        let (values, read_under) = read()?;
        let values = Arc::new(values);
        if let Some(read_under) = read_under {
            self.kept.insert(user_id, (read_under, values.clone()));
        }
        Ok(values)
    }
}

impl FacetCache {
    /// The person's (project, status) pairs, under their tasks' stamp.
    pub fn pairs(
        &self,
        conn: &mut DbConn,
        user_id: i64,
        stamp: Option<i64>,
    ) -> QueryResult<Arc<Pairs>> {
        self.get_or_read(user_id, stamp, || task::pairs(conn, user_id))
    }
}

impl CardCache {
    /// The person's connection cards, under their cards' stamp.
    pub fn cards(
        &self,
        conn: &mut DbConn,
        user_id: i64,
        stamp: Option<i64>,
    ) -> QueryResult<Arc<Vec<Shown>>> {
        self.get_or_read(user_id, stamp, || connection::shown_to(conn, user_id))
    }
}

impl<V> Default for Kept<V> {
    fn default() -> Self {
        Self::new(KEPT_PEOPLE)
    }
}
