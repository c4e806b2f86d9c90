//! What the pages people keep open keep between views, by this instance, under the
//! stamps of the person's tasks and time: My Tasks' filter values (the projects and
//! statuses of the person's open tasks, with their counts), the last unfiltered page of
//! the list read for the person and the person's entries on that page's tasks; the
//! Timesheet's finished entries of the last week read for the person.
//!
//! The filter values and the page change only when a task of the person's is added or
//! removed, or changes what the list shows of it (person, archived, tool, project,
//! status, title, due date, link), and each such change gives the person's tasks a new
//! random stamp in the same transaction (`task_stamps`, set by triggers on `tasks`).
//! Every change to the person's time entries does the same to `time_stamps`. The
//! person's statement, made on every signed-in page, reads both stamps; what is kept
//! under those very stamps is what the database would give, on whichever instance the
//! change was made.
//!
//! The filter values are read with their stamp, in one statement. The rest is read after
//! the person's statement, and kept under the stamps that statement brought: a change
//! committed in between gave a new stamp, never seen again once replaced (random, not a
//! counter), so what was kept under the old one is never shown.
//!
//! - The page: under the tasks' stamp and its window, for the unfiltered list in its
//!   usual order only (a filter, a search or another order reads).
//! - The entries on the page's tasks (each one's task, start and end, running or not):
//!   under the time's stamp and the tasks' ids; counted up to now at each view.
//! - The week's finished entries: under both stamps (the week shows whether each task is
//!   closed) and the week's range. The running timer is not kept: the person's statement
//!   reads it on every page.
//!
//! No stamp (the person never had a task, or never tracked time) reads every time.

use std::sync::Arc;

use diesel::QueryResult;

use crate::auth::Stamps;
use crate::db::DbConn;
use crate::models::task::{self, Filter, Pairs, Sort, TaskRow};
use crate::models::time_entry::{self, Finished, Span};

/// People whose filter values an instance keeps at most (the least used go first).
pub const KEPT_PEOPLE: usize = 10_000;
/// Task rows an instance keeps at most over everyone's pages, and time entries over
/// everyone's weeks: at a few hundred bytes each, a few MiB each when full (a person's
/// page of 50 rows weighs 50).
pub const KEPT_ROWS: u64 = 20_000;
/// Entries on pages' tasks kept for each task row allowed: three numbers each, so
/// several fit in a row's bytes.
pub const SPANS_PER_ROW: u64 = 5;

/// What is kept for a person: the value, and what it was read under.
#[derive(Clone)]
struct Entry<K, V> {
    key: K,
    value: V,
}

/// How much a kept value weighs against its cache's capacity: its rows.
trait Weight {
    fn weight(&self) -> u64;
}

impl Weight for Arc<[TaskRow]> {
    fn weight(&self) -> u64 {
        self.len() as u64
    }
}

impl Weight for Arc<[Span]> {
    fn weight(&self) -> u64 {
        self.len() as u64
    }
}

impl Weight for Arc<Finished> {
    fn weight(&self) -> u64 {
        self.entries.len() as u64
    }
}

/// Weighs an entry by its value's rows, and one for itself.
#[derive(Clone)]
struct ByRows;

impl<K, V: Weight> quick_cache::Weighter<i64, Entry<K, V>> for ByRows {
    fn weight(&self, _: &i64, entry: &Entry<K, V>) -> u64 {
        entry.value.weight() + 1
    }
}

type PerPerson<K, V> = quick_cache::sync::Cache<i64, Entry<K, V>, ByRows>;
/// A range of times, or a window of a list (offset, limit).
type Bounds = (i64, i64);

fn per_person<K: Clone, V: Clone + Weight>(people: usize, weight: u64) -> PerPerson<K, V> {
    quick_cache::sync::Cache::with_weighter(people, weight, ByRows)
}

/// The value kept for `user_id` when it was read under `key` (what this request
/// brings); else `read` now, and kept under `key`. No key: read, and not kept.
fn kept_or_read<K: Clone + PartialEq, V: Clone + Weight>(
    cache: &PerPerson<K, V>,
    user_id: i64,
    key: Option<K>,
    read: impl FnOnce() -> QueryResult<V>,
) -> QueryResult<V> {
    if let Some(key) = &key {
        if let Some(kept) = cache.get(&user_id) {
            if kept.key == *key {
                return Ok(kept.value);
            }
        }
    }
    let value = read()?;
    if let Some(key) = key {
        cache.insert(
            user_id,
            Entry {
                key,
                value: value.clone(),
            },
        );
    }
    Ok(value)
}

pub struct Kept {
    pairs: quick_cache::sync::Cache<i64, (i64, Arc<Pairs>)>,
    /// Under the tasks' stamp and the page's window.
    pages: PerPerson<(i64, Bounds), Arc<[TaskRow]>>,
    /// Under the time's stamp and the page's task ids.
    spans: PerPerson<(i64, Vec<i64>), Arc<[Span]>>,
    /// Under both stamps and the week's range.
    weeks: PerPerson<(Stamps, Bounds), Arc<Finished>>,
}

impl Kept {
    /// Keeps the filter values of `people` at most, pages and weeks of `rows` task
    /// rows and `rows` time entries at most, and `rows` × [`SPANS_PER_ROW`] entries on
    /// pages' tasks.
    pub fn new(people: usize, rows: u64) -> Self {
        Self {
            pairs: quick_cache::sync::Cache::new(people),
            pages: per_person(people, rows),
            spans: per_person(people, rows * SPANS_PER_ROW),
            weeks: per_person(people, rows),
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
    /// usual order, this `window` of it, read under `stamp` (of the person's tasks, from
    /// their statement in this same request, made before); else read now, and kept when
    /// it is such a page.
    pub fn rows(
        &self,
        conn: &mut DbConn,
        user_id: i64,
        stamp: Option<i64>,
        f: &Filter,
        dates: (&str, &str),
        window: (i64, i64),
    ) -> QueryResult<Arc<[TaskRow]>> {
        let key = stamp
            .filter(|_| f.is_empty() && f.sort == Sort::Tool)
            .map(|stamp| (stamp, window));
        kept_or_read(&self.pages, user_id, key, || {
            Ok(task::rows(conn, user_id, f, dates, window)?.into())
        })
    }

    /// The person's entries on these tasks (a page's): the kept ones when they were
    /// read for the same tasks under `stamp` (of the person's time, from their
    /// statement in this same request, made before), else read now and kept.
    pub fn spans(
        &self,
        conn: &mut DbConn,
        user_id: i64,
        stamp: Option<i64>,
        task_ids: &[i64],
    ) -> QueryResult<Arc<[Span]>> {
        let key = stamp.map(|stamp| (stamp, task_ids.to_vec()));
        kept_or_read(&self.spans, user_id, key, || {
            Ok(time_entry::on_tasks(conn, user_id, task_ids)?.into())
        })
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
        let key = stamps.time.is_some().then_some((stamps, range));
        kept_or_read(&self.weeks, user_id, key, || {
            Ok(Arc::new(time_entry::finished_with_states(
                conn, company_id, user_id, range,
            )?))
        })
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
