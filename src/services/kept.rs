//! What the pages people keep open keep between views, by this instance, under the
//! stamps of the person's tasks and time: My Tasks' filter values (the projects and
//! statuses of the person's open tasks, with their counts) and the last unfiltered page
//! of the list read for the person; the Timesheet's finished entries of the last week
//! read for the person.
//!
//! Both change only when a task of the person's is added or removed, or changes what
//! the list shows of it (person, archived, tool, project, status, title, due date,
//! link), and each such change gives the person's tasks a new random stamp in the same
//! transaction (`task_stamps`, set by triggers on `tasks`). The person's statement,
//! made on every signed-in page, reads the stamp; what is kept under that very stamp is
//! what the database would give, on whichever instance the change was made.
//!
//! The filter values are read with the stamp, in one statement. A page is read after
//! the person's statement, and kept under the stamp that statement brought: a change
//! committed in between gave the tasks a new stamp, never seen again once replaced
//! (random, not a counter), so the page kept under the old one is never shown. No
//! stamp (the person never had a task), another stamp, another page or a filter reads
//! the database.
//!
//! A week's finished entries change with the person's time entries (`time_stamps`, set
//! the same way by triggers on `time_entries`) and with the state of their tasks (the
//! tasks' stamp): they are kept under both. The running timer is not kept: the person's
//! statement reads it on every page.

use std::sync::Arc;

use diesel::QueryResult;

use crate::auth::Stamps;
use crate::db::DbConn;
use crate::models::task::{self, Filter, Pairs, Sort, TaskRow};
use crate::models::time_entry::{self, Finished};

/// People whose filter values an instance keeps at most (the least used go first).
pub const KEPT_PEOPLE: usize = 10_000;
/// Task rows an instance keeps at most over everyone's pages, and time entries over
/// everyone's weeks: at a few hundred bytes each, a few MiB each (a person's page of 50
/// rows is 50 of them).
pub const KEPT_ROWS: u64 = 20_000;

/// The last unfiltered page read for a person, and what it was read under.
#[derive(Clone)]
struct KeptPage {
    stamp: i64,
    window: (i64, i64),
    rows: Arc<[TaskRow]>,
}

/// The last week's finished entries read for a person, and what they were read under.
#[derive(Clone)]
struct KeptWeek {
    stamps: Stamps,
    range: (i64, i64),
    finished: Arc<Finished>,
}

/// A kept page weighs its rows, a kept week its entries (and one for itself).
#[derive(Clone)]
struct Rows;

impl quick_cache::Weighter<i64, KeptPage> for Rows {
    fn weight(&self, _: &i64, page: &KeptPage) -> u64 {
        page.rows.len() as u64 + 1
    }
}

impl quick_cache::Weighter<i64, KeptWeek> for Rows {
    fn weight(&self, _: &i64, week: &KeptWeek) -> u64 {
        week.finished.entries.len() as u64 + 1
    }
}

pub struct Kept {
    pairs: quick_cache::sync::Cache<i64, (i64, Arc<Pairs>)>,
    pages: quick_cache::sync::Cache<i64, KeptPage, Rows>,
    weeks: quick_cache::sync::Cache<i64, KeptWeek, Rows>,
}

impl Kept {
    /// Keeps the filter values of `people` at most, and pages and weeks of `rows` task
    /// rows and `rows` time entries at most.
    pub fn new(people: usize, rows: u64) -> Self {
        Self {
            pairs: quick_cache::sync::Cache::new(people),
            pages: quick_cache::sync::Cache::with_weighter(people, rows, Rows),
            weeks: quick_cache::sync::Cache::with_weighter(people, rows, Rows),
        }
    }

    /// The person's own finished entries over `range` (a week), with their tasks'
    /// states: the kept ones when they were read for that range under `stamps` (from the
    /// person's statement in this same request, made before), else read now and kept.
    pub fn finished(
        &self,
        conn: &mut DbConn,
        (company_id, user_id): (i64, i64),
        stamps: Stamps,
        range: (i64, i64),
    ) -> QueryResult<Arc<Finished>> {
        // Without a stamp of their time nothing says when the entries change.
        let keep = stamps.time.is_some();
        if keep {
            if let Some(kept) = self.weeks.get(&user_id) {
                if kept.stamps == stamps && kept.range == range {
                    return Ok(kept.finished);
                }
            }
        }
        let finished = Arc::new(time_entry::finished_with_states(
            conn, company_id, user_id, range,
        )?);
        if keep {
            self.weeks.insert(
                user_id,
                KeptWeek {
                    stamps,
                    range,
                    finished: finished.clone(),
                },
            );
        }
        Ok(finished)
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
            if let Some((kept_stamp, pairs)) = self.pairs.get(&user_id) {
                if kept_stamp == stamp {
                    return Ok(pairs);
                }
            }
        }
        let (pairs, read_under) = task::pairs(conn, user_id)?;
        let pairs = Arc::new(pairs);
        if let Some(read_under) = read_under {
            self.pairs.insert(user_id, (read_under, pairs.clone()));
        }
        Ok(pairs)
    }

    /// A page of the person's list: the kept one when it is the unfiltered list in its
    /// usual order, this `window` of it, read under `stamp` (from the person's statement
    /// in this same request, made before); else read now, and kept when it is such a
    /// page.
    pub fn rows(
        &self,
        conn: &mut DbConn,
        user_id: i64,
        stamp: Option<i64>,
        f: &Filter,
        dates: (&str, &str),
        window: (i64, i64),
    ) -> QueryResult<Arc<[TaskRow]>> {
        let stamp = stamp.filter(|_| f.is_empty() && f.sort == Sort::Tool);
        if let Some(stamp) = stamp {
            if let Some(kept) = self.pages.get(&user_id) {
                if kept.stamp == stamp && kept.window == window {
                    return Ok(kept.rows);
                }
            }
        }
        let rows: Arc<[TaskRow]> = task::rows(conn, user_id, f, dates, window)?.into();
        if let Some(stamp) = stamp {
            self.pages.insert(
                user_id,
                KeptPage {
                    stamp,
                    window,
                    rows: rows.clone(),
                },
            );
        }
        Ok(rows)
    }
}

impl Default for Kept {
    fn default() -> Self {
        Self::new(KEPT_PEOPLE, KEPT_ROWS)
    }
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    use super::*;
    use crate::db::DbConn;

    fn sql(conn: &mut DbConn, statement: &str) {
        let DbConn::Sqlite(c) = conn else {
            panic!("a SQLite connection");
        };
        diesel::sql_query(statement).execute(c).unwrap();
    }

    fn titles(rows: &[TaskRow]) -> Vec<&str> {
        rows.iter().map(|r| r.title.as_str()).collect()
    }

    /// A page is kept under the stamp it was read under, for the unfiltered list and
    /// that window only: the same stamp gives it back without a read (the database has
    /// moved on here, and its stamp is not consulted: the caller brings it), another
    /// stamp, a filter or another window reads again.
    #[test]
    fn a_page_is_kept_under_its_stamp_for_the_unfiltered_list_only() {
        let pool = crate::db::connect(":memory:").unwrap();
        let mut conn = pool.get().unwrap();
        crate::db::migrate(&mut conn).unwrap();
        // One task of person 1, without the company, person and connection around it.
        sql(&mut conn, "PRAGMA foreign_keys = OFF");
        sql(
            &mut conn,
            "INSERT INTO tasks (connection_id, user_id, provider, external_id, title, status, \
             project, content_hash, archived, seen_pass, created_at, updated_at) \
             VALUES (1, 1, 'basecamp', 'a', 'Alpha', 'open', 'Website', '', false, 0, 0, 0)",
        );
        let kept = Kept::new(10, 100);
        let dates = ("2026-12-04", "2026-12-11");
        let all = Filter::default();
        let read = |conn: &mut DbConn, stamp, f: &Filter, window| {
            kept.rows(conn, 1, Some(stamp), f, dates, window).unwrap()
        };
        assert_eq!(titles(&read(&mut conn, 5, &all, (0, 50))), ["Alpha"]);

        sql(&mut conn, "UPDATE tasks SET title = 'Beta'");
        assert_eq!(
            titles(&read(&mut conn, 5, &all, (0, 50))),
            ["Alpha"],
            "kept under stamp 5"
        );
        let website = Filter {
            project: Some("Website".into()),
            ..Filter::default()
        };
        assert_eq!(titles(&read(&mut conn, 5, &website, (0, 50))), ["Beta"]);
        assert!(read(&mut conn, 5, &all, (50, 50)).is_empty());
        assert_eq!(titles(&read(&mut conn, 6, &all, (0, 50))), ["Beta"]);
        assert_eq!(
            titles(&kept.rows(&mut conn, 1, None, &all, dates, (0, 50)).unwrap()),
            ["Beta"]
        );
    }
}
