//! Replaying pages out of order or twice gives the same rows (a property test on the
//! database side of sync, on SQLite or, with TEST_DATABASE_URL, PostgreSQL).

use std::collections::HashSet;

use diesel::prelude::*;
use proptest::prelude::*;
use taskbridge::connectors::RemoteTask;
use taskbridge::db::DbConn;
use taskbridge::models::{company, connection, login, sync_page, sync_pass, task, user};
use taskbridge::schema::tasks;

use crate::helpers::TestDb;

fn task(id: u8, version: u8) -> RemoteTask {
    RemoteTask {
        external_id: format!("t{id}"),
        title: format!("Task {id} v{version}"),
        status: if version.is_multiple_of(2) {
            "started".into()
        } else {
            "unstarted".into()
        },
        project: Some(format!("Project {}", id % 3)),
        due_on: version
            .is_multiple_of(3)
            .then(|| format!("2026-12-{:02}", 1 + id % 28)),
        url: None,
        closed: false,
        updated_at: None,
    }
}

fn new_connection(conn: &mut DbConn, company_id: i64, n: usize) -> connection::Connection {
    let account = format!("acct-{n}");
    let login_id = login::create(conn, &format!("p{n}@replay.test"), "x", true).unwrap();
    let user_id = user::create(
        conn,
        company_id,
        login_id,
        "P",
        taskbridge::domain::Role::User,
    )
    .unwrap();
    let id = connection::upsert(
        conn,
        connection::NewConnection {
            company_id,
            user_id,
            provider: taskbridge::connectors::ProviderKind::PivotalTracker,
            external_user_id: &account,
            external_account_id: &account,
            account_name: "A",
            display_name: "D",
            email: None,
            api_base: None,
            credentials: vec![1, 2, 3],
        },
    )
    .unwrap();
    assert!(connection::try_lease(conn, id, "me", 600)
        .unwrap()
        .is_some());
    connection::find(conn, id).unwrap()
}

/// The lease `new_connection` took, nothing saved under it yet.
fn lease_of(c: &connection::Connection) -> connection::Lease {
    connection::Lease {
        connection_id: c.id,
        generation: c.lease_generation,
        saves: 0,
    }
}

/// Pass 1 writes `old` in order; pass 2 writes `new` split in pages, replayed in `order`.
fn run(
    conn: &mut DbConn,
    c: &connection::Connection,
    old: &[RemoteTask],
    new: &[RemoteTask],
    page: usize,
    order: &[usize],
) -> Vec<(String, String, String, bool)> {
    let mut lease = lease_of(c);
    sync_pass::apply_page(conn, c, 1, old, None, &mut lease, 600)
        .unwrap()
        .unwrap();
    sync_pass::finish_pass(conn, &mut lease, 1, &HashSet::new(), None)
        .unwrap()
        .unwrap();
    let pages: Vec<&[RemoteTask]> = new.chunks(page.max(1)).collect();
    for &i in order {
        if let Some(p) = pages.get(i % pages.len().max(1)) {
            sync_pass::apply_page(conn, c, 2, p, Some("cursor"), &mut lease, 600)
                .unwrap()
                .unwrap();
        }
    }
    sync_pass::finish_pass(conn, &mut lease, 2, &HashSet::new(), None)
        .unwrap()
        .unwrap();
    tasks::table
        .filter(tasks::connection_id.eq(c.id))
        .select((
            tasks::external_id,
            tasks::title,
            tasks::status,
            tasks::archived,
        ))
        .order(tasks::external_id)
        .load(conn)
        .unwrap()
}

#[test]
fn replaying_pages_out_of_order_or_twice_gives_the_same_rows() {
    let db = TestDb::new();
    let pool = taskbridge::db::connect(&db.url).unwrap();
    let company_id = {
        let mut conn = pool.get().unwrap();
        taskbridge::db::migrate(&mut conn).unwrap();
        company::create(&mut conn, "Replay").unwrap()
    };
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let config = ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    };
    proptest!(config, |(
        old_ids in proptest::collection::btree_set(0u8..40, 0..20),
        new_ids in proptest::collection::btree_set(0u8..40, 1..30),
        version in 0u8..6,
        page in 1usize..8,
        shuffle in proptest::collection::vec(0usize..64, 0..20),
    )| {
        let old: Vec<RemoteTask> = old_ids.iter().map(|&i| task(i, 0)).collect();
        let new: Vec<RemoteTask> = new_ids.iter().map(|&i| task(i, version)).collect();
        let pages = new.len().div_ceil(page);
        // Every page at least once, in order; then the shuffled replays, some twice.
        let in_order: Vec<usize> = (0..pages).collect();
        let mut replayed: Vec<usize> = shuffle.iter().map(|i| i % pages).collect();
        replayed.extend(0..pages);
        replayed.reverse();
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let mut conn = pool.get().unwrap();
        let a = new_connection(&mut conn, company_id, 2 * n);
        let b = new_connection(&mut conn, company_id, 2 * n + 1);
        let expected = run(&mut conn, &a, &old, &new, page, &in_order);
        let got = run(&mut conn, &b, &old, &new, page, &replayed);
        prop_assert_eq!(&got, &expected);
        // And what is expected is right: the new set open, the rest archived.
        for (ext, title, _, archived) in &expected {
            let in_new = new.iter().find(|t| &t.external_id == ext);
            prop_assert_eq!(*archived, in_new.is_none());
            if let Some(t) = in_new {
                prop_assert_eq!(title, &t.title);
            }
        }
        prop_assert_eq!(expected.len(), old_ids.union(&new_ids).count(), "no duplicates");
    });
}

#[test]
fn a_kept_page_that_lists_an_archived_task_is_forgotten() {
    use sync_page::{KnownPage, PageMemo};
    use sync_pass::{Checkpoint, PageWrite};
    let db = TestDb::new();
    let pool = taskbridge::db::connect(&db.url).unwrap();
    let mut conn = pool.get().unwrap();
    taskbridge::db::migrate(&mut conn).unwrap();
    let company_id = company::create(&mut conn, "Kept pages").unwrap();
    let c = new_connection(&mut conn, company_id, 0);
    let mut lease = lease_of(&c);
    // Pass 1 reads two pages and keeps their ETags.
    let pages = [
        (None, vec![task(1, 0), task(2, 0)], Some("page-b")),
        (Some("page-b"), vec![task(3, 0)], None),
    ];
    for (n, (cursor, page, next)) in pages.iter().enumerate() {
        let changes = task::page_changes(&mut conn, c.id, page).unwrap();
        let memo = PageMemo::Store(
            sync_page::page_key(*cursor),
            KnownPage {
                etag: format!("\"v{n}\""),
                next_cursor: next.map(str::to_owned),
                external_ids: page.iter().map(|t| t.external_id.clone()).collect(),
            },
        );
        let checkpoint = Checkpoint {
            pass_id: 1,
            cursor: next.map(str::to_owned),
            seen: Vec::new(),
            progress: None,
        };
        let write = PageWrite { changes, memo };
        assert!(
            sync_pass::save(&mut conn, &c, &mut lease, 600, Some(&write), &checkpoint).unwrap()
        );
    }
    let archived = sync_pass::finish_pass(&mut conn, &mut lease, 1, &HashSet::new(), None).unwrap();
    assert_eq!(archived, Some(0));
    assert_eq!(sync_page::known_pages(&mut conn, c.id).unwrap().len(), 2);

    // Pass 2 sees the first page again (a 304: its tasks only in memory) but never gets
    // to the second: its task is archived, and the kept second page is forgotten, so a
    // later 304 for it cannot pass for its task while that is stored archived.
    let seen: HashSet<String> = ["t1".to_owned(), "t2".to_owned()].into();
    let archived = sync_pass::finish_pass(&mut conn, &mut lease, 2, &seen, None).unwrap();
    assert_eq!(archived, Some(1));
    let kept = sync_page::known_pages(&mut conn, c.id).unwrap();
    assert_eq!(
        kept.keys().collect::<Vec<_>>(),
        [&sync_page::page_key(None)]
    );
    let open: Vec<String> = tasks::table
        .filter(tasks::connection_id.eq(c.id))
        .filter(tasks::archived.eq(false))
        .select(tasks::external_id)
        .order(tasks::external_id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(open, ["t1", "t2"]);
}
