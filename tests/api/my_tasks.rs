//! My Tasks is task-first: sort by due date into sections, due dates in words counted
//! in the person's own days, and the sort kept by the pager.

use crate::helpers::*;

fn set_due(app: &TestApp, id: i64, due: Option<String>) {
    use diesel::prelude::*;
    use taskbridge::schema::tasks;
    app.query(move |conn| {
        diesel::update(tasks::table.find(id))
            .set(tasks::due_on.eq(due))
            .execute(conn)
            .unwrap()
    });
}

fn day(offset: i64) -> String {
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    today
        .checked_add(jiff::Span::new().days(offset))
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn sorted_by_due_date_tasks_fall_into_sections_with_dates_in_words() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let ids = seed_tasks(
        &app,
        "olivia@acme.test",
        &["Late report", "Call today", "Plan tomorrow", "Someday idea"],
    );
    set_due(&app, ids[0], Some(day(-3)));
    set_due(&app, ids[1], Some(day(0)));
    set_due(&app, ids[2], Some(day(1)));
    set_due(&app, ids[3], None);

    let (_, page) = owner.get_text("/tasks?sort=due").await;
    let at = |text: &str| {
        page.find(text)
            .unwrap_or_else(|| panic!("{text:?} missing:\n{page}"))
    };
    assert!(at("Overdue</h2>") < at("Late report"));
    assert!(at("Late report") < at("Today</h2>"));
    assert!(at("Today</h2>") < at("Call today"));
    assert!(at("This week</h2>") < at("Plan tomorrow"));
    assert!(at("No due date</h2>") < at("Someday idea"));
    assert!(page.contains("due 3 days ago"), "{page}");
    assert!(page.contains("due today"), "{page}");
    assert!(page.contains("due tomorrow"), "{page}");
    assert!(
        page.contains(&format!(r#"<time datetime="{}""#, day(1))),
        "{page}"
    );
    assert!(
        page.contains(r#"<option value="due" selected>Sort: Due date</option>"#),
        "{page}"
    );

    // The default groups by tool and project; an unknown sort falls back to it.
    let (_, page) = owner.get_text("/tasks?sort=nonsense").await;
    assert!(!page.contains("Overdue</h2>"), "{page}");
    assert!(
        page.contains(r#"<span class="tool-tag">Basecamp</span>"#),
        "{page}"
    );
}

/// The time on each task comes with the list once the person has tracked any: none
/// shows before, and a manual entry shows on its task (today's and in all).
#[tokio::test]
async fn the_time_tracked_on_a_task_shows_on_my_tasks() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let ids = seed_tasks(
        &app,
        "olivia@acme.test",
        &["Fix the login page", "Write docs"],
    );
    let (_, before) = owner.get_text("/tasks").await;
    assert!(!before.contains("in all"), "no time tracked yet");

    let yesterday = time::OffsetDateTime::now_utc()
        .date()
        .previous_day()
        .unwrap()
        .to_string();
    let added = owner
        .post_form(
            "/timesheet",
            "/timesheet/entries",
            &[
                ("date", &yesterday),
                ("start", "09:00"),
                ("duration", "1:30"),
                ("task_id", &ids[1].to_string()),
            ],
        )
        .await;
    assert!(added.status().is_redirection());
    let (_, after) = owner.get_text("/tasks").await;
    assert!(
        after.contains("1:30 in all"),
        "the entry's time is on its task"
    );
    assert_eq!(after.matches("in all").count(), 1, "and on no other task");
}

/// A sync of `connection` running now, with `fetched` tasks fetched so far.
fn start_a_sync(conn: &mut taskbridge::db::DbConn, connection: i64, fetched: i64) {
    use diesel::prelude::*;
    use taskbridge::schema::sync_runs;
    diesel::insert_into(sync_runs::table)
        .values((
            sync_runs::connection_id.eq(connection),
            sync_runs::trigger.eq("manual"),
            sync_runs::status.eq("running"),
            sync_runs::started_at.eq(0i64),
            sync_runs::fetched.eq(fetched),
            sync_runs::added.eq(0i64),
            sync_runs::updated.eq(0i64),
            sync_runs::archived.eq(0i64),
        ))
        .execute(conn)
        .unwrap();
}

/// "Sync now"'s progress reads the person's connections with their running syncs: none
/// running says the sync finished; a running one names its tool and what it fetched.
#[tokio::test]
async fn the_sync_status_names_each_running_sync_and_what_it_fetched() {
    use diesel::prelude::*;
    use taskbridge::schema::connections;
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    seed_tasks(&app, "olivia@acme.test", &["Fix the login page"]);
    async fn status(owner: &Client) -> serde_json::Value {
        let response = owner.get("/tasks/sync/status").await;
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        response.json().await.unwrap()
    }
    let idle = status(&owner).await;
    assert_eq!(idle["running"], false);
    assert_eq!(idle["text"], "Sync finished.");

    app.query(|conn| {
        let connection: i64 = connections::table
            .select(connections::id)
            .first(conn)
            .unwrap();
        start_a_sync(conn, connection, 40);
    });
    let running = status(&owner).await;
    assert_eq!(running["running"], true);
    assert_eq!(running["text"], "Syncing… Basecamp: 40 tasks fetched");
}

/// My Tasks reads the person and their connection cards in one statement, a row a
/// card: with three connections (one syncing now, one whose tool the company has off)
/// each card of a tool that is on shows once, the running sync shows, and what rides
/// on the person (an unread notice) counts once.
#[tokio::test]
async fn my_tasks_shows_each_card_once_beside_the_person() {
    use diesel::prelude::*;
    use taskbridge::schema::{company_integrations, notifications};
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    seed_tasks(&app, "olivia@acme.test", &["Fix the login page"]);
    let (_, before) = owner.get_text("/tasks").await;
    assert_eq!(
        before.matches("tool-state-head").count(),
        0,
        "no tool is on"
    );
    assert!(before.contains("data-sync-progress hidden"));

    app.query(|conn| {
        let (user_id, company_id) = person_ids(conn, "olivia@acme.test");
        for (tool, on) in [("basecamp", true), ("pivotal", true), ("salesforce", false)] {
            diesel::insert_into(company_integrations::table)
                .values((
                    company_integrations::company_id.eq(company_id),
                    company_integrations::provider.eq(tool),
                    company_integrations::enabled.eq(on),
                    company_integrations::changed_at.eq(0i64),
                ))
                .execute(conn)
                .unwrap();
        }
        let pivotal = seed_connection(conn, (user_id, company_id), "pivotal", "Olivia");
        seed_connection(conn, (user_id, company_id), "salesforce", "Olivia");
        start_a_sync(conn, pivotal, 7);
        diesel::insert_into(notifications::table)
            .values((
                notifications::user_id.eq(user_id),
                notifications::message.eq("Pivotal Tracker is connected."),
                notifications::created_at.eq(0i64),
            ))
            .execute(conn)
            .unwrap();
    });
    let (status, page) = owner.get_text("/tasks").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let cards: Vec<&str> = page
        .split("tool-state-head")
        .skip(1)
        .map(|card| card.split("</strong>").next().unwrap_or(""))
        .collect();
    assert_eq!(
        cards.len(),
        2,
        "Basecamp and Pivotal Tracker, not Salesforce: {cards:?}"
    );
    assert!(cards[0].ends_with("<strong>Basecamp"), "{cards:?}");
    assert!(cards[1].ends_with("<strong>Pivotal Tracker"), "{cards:?}");
    assert!(
        !page.contains("data-sync-progress hidden"),
        "the running sync shows"
    );
    assert_eq!(page.matches("aria-label=\"1 unread\"").count(), 1);
    assert_eq!(page.matches("Fix the login page</a>").count(), 1);
}

/// What an instance keeps of My Tasks (the filter values, the count they give, the
/// unfiltered page) follows every change to the person's tasks made anywhere, here
/// straight in the database as a sync on another instance would: a title, due date or
/// link changed, a project or status, a task archived, added, or gone with its
/// connection. A change that shows nowhere on the list keeps the stamp.
#[tokio::test]
async fn what_my_tasks_keeps_follows_every_change_to_the_tasks_made_anywhere() {
    use diesel::prelude::*;
    use taskbridge::schema::{connections, task_stamps, tasks};
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let ids = seed_tasks(&app, "olivia@acme.test", &["Alpha", "Beta", "Gamma"]);
    let stamp = || {
        app.query(|conn| {
            task_stamps::table
                .select(task_stamps::stamp)
                .load::<i64>(conn)
                .unwrap()
        })
    };
    let view = |query: &'static str| {
        let owner = &owner;
        async move { owner.get_text(&format!("/tasks{query}")).await.1 }
    };

    let page = view("").await;
    assert!(page.contains("3 tasks"), "{page}");
    assert!(page.contains(r#"<option value="Website" "#), "{page}");
    assert!(!page.contains(r#"<option value="Mobile" "#), "{page}");

    // A pass that saw the tasks unchanged: nothing the list shows, so the same stamp.
    let before = stamp();
    let first = ids[0];
    app.query(move |conn| {
        diesel::update(tasks::table)
            .set((tasks::seen_pass.eq(7i64), tasks::updated_at.eq(1i64)))
            .execute(conn)
            .unwrap()
    });
    assert_eq!(stamp(), before);
    let again = view("").await;
    assert!(
        again.contains("3 tasks") && again.contains(">Alpha</a>"),
        "{again}"
    );

    // A title, a due date and a link changed, one at a time: each gives a new stamp and
    // shows on the next view of the same page.
    for (set, shown) in [
        ("title = 'Alpha, renamed'", "Alpha, renamed"),
        ("due_on = '2031-05-17'", "2031-05-17"),
        (
            "url = 'https://example.test/alpha-moved'",
            "https://example.test/alpha-moved",
        ),
    ] {
        let before = stamp();
        let sql = format!("UPDATE tasks SET {set} WHERE id = {first}");
        app.query(move |conn| diesel::sql_query(sql).execute(conn).unwrap());
        assert_ne!(stamp(), before, "{set}");
        let page = view("").await;
        assert!(page.contains(shown), "{set}: {page}");
    }

    // A project changed.
    let before = stamp();
    app.query(move |conn| {
        diesel::update(tasks::table.find(first))
            .set(tasks::project.eq("Mobile"))
            .execute(conn)
            .unwrap()
    });
    assert_ne!(stamp(), before);
    let page = view("").await;
    assert!(page.contains(r#"<option value="Mobile" "#), "{page}");
    let page = view("?project=Mobile").await;
    assert!(page.contains("1 task"), "{page}");
    assert!(page.contains("Alpha, renamed"), "{page}");

    // A status changed.
    let second = ids[1];
    app.query(move |conn| {
        diesel::update(tasks::table.find(second))
            .set(tasks::status.eq("blocked"))
            .execute(conn)
            .unwrap()
    });
    let page = view("?status=blocked").await;
    assert!(
        page.contains(r#"<option value="blocked" selected>"#),
        "{page}"
    );
    assert!(page.contains("1 task"), "{page}");

    // A task archived: two left, and its status goes from the choices.
    app.query(move |conn| {
        diesel::update(tasks::table.find(second))
            .set(tasks::archived.eq(true))
            .execute(conn)
            .unwrap()
    });
    let page = view("").await;
    assert!(page.contains("2 tasks"), "{page}");
    assert!(!page.contains(r#"<option value="blocked""#), "{page}");

    // A task added.
    app.query(move |conn| {
        let row: (i64, i64) = tasks::table
            .find(first)
            .select((tasks::connection_id, tasks::user_id))
            .first(conn)
            .unwrap();
        diesel::insert_into(tasks::table)
            .values((
                tasks::connection_id.eq(row.0),
                tasks::user_id.eq(row.1),
                tasks::provider.eq("basecamp"),
                tasks::external_id.eq("todo-new"),
                tasks::title.eq("Delta"),
                tasks::status.eq("open"),
                tasks::project.eq("Website"),
                tasks::content_hash.eq("x"),
                tasks::archived.eq(false),
                tasks::seen_pass.eq(0i64),
                tasks::created_at.eq(0i64),
                tasks::updated_at.eq(0i64),
            ))
            .execute(conn)
            .unwrap()
    });
    let page = view("").await;
    assert!(page.contains("3 tasks"), "{page}");

    // The connections gone, and their tasks with them.
    app.query(|conn| diesel::delete(connections::table).execute(conn).unwrap());
    let page = view("").await;
    assert!(
        !page.contains("3 tasks") && !page.contains("Alpha"),
        "{page}"
    );
    assert!(!page.contains(r#"<option value="Website" "#), "{page}");
}
