//! My Tasks' filter values (the projects and statuses of a person's open tasks, with
//! their counts), kept by this instance between views.
//!
//! They change only when a task of the person's is added, removed, or changes project,
//! status or archived, and each such change gives the person's tasks a new random stamp
//! in the same transaction (`task_stamps`, set by triggers on `tasks`). The person's
//! statement, made on every signed-in page, reads the stamp; pairs kept under that very
//! stamp are the ones the database would give, on whichever instance the change was
//! made. Anything else (no stamp, another stamp, pairs never read here) reads them
//! again, with the stamp they were read under.

use std::sync::Arc;

use diesel::QueryResult;

use crate::db::DbConn;
use crate::models::task::{self, Pairs};

/// People whose pairs an instance keeps at most (the least used go first).
pub const KEPT_PEOPLE: usize = 10_000;

pub struct FacetCache {
    kept: quick_cache::sync::Cache<i64, (i64, Arc<Pairs>)>,
}

impl FacetCache {
    pub fn new(people: usize) -> Self {
        Self {
            kept: quick_cache::sync::Cache::new(people),
        }
    }

    /// The person's pairs: the kept ones when `stamp` (from the person's statement in
    /// this same request) is the stamp they were read under, else read now and kept.
    pub fn pairs(
        &self,
        conn: &mut DbConn,
        user_id: i64,
        stamp: Option<i64>,
    ) -> QueryResult<Arc<Pairs>> {
        if let Some(stamp) = stamp {
            if let Some((kept_stamp, pairs)) = self.kept.get(&user_id) {
                if kept_stamp == stamp {
                    return Ok(pairs);
                }
            }
        }
        let (pairs, read_under) = task::pairs(conn, user_id)?;
        let pairs = Arc::new(pairs);
        if let Some(read_under) = read_under {
            self.kept.insert(user_id, (read_under, pairs.clone()));
        }
        Ok(pairs)
    }
}

impl Default for FacetCache {
    fn default() -> Self {
        Self::new(KEPT_PEOPLE)
    }
}
