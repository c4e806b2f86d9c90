//! Time tracking over HTTP: the timer, manual entries and edits, the person's days,
//! closed tasks, and tenant checks on every entry route.

use diesel::prelude::*;
use reqwest::StatusCode;
use taskbridge::schema::{audit_log, tasks, time_entries};

use crate::helpers::*;

fn running_count(app: &TestApp) -> i64 {
    app.query(|conn| {
        time_entries::table
            .filter(time_entries::ended_at.is_null())
            .count()
            .get_result(conn)
            .unwrap()
    })
}

fn entry_count(app: &TestApp) -> i64 {
    app.query(|conn| time_entries::table.count().get_result(conn).unwrap())
}

async fn start(client: &Client, fields: &[(&str, &str)]) -> reqwest::Response {
    client.post_form("/tasks", "/timer/start", fields).await
}

async fn flash_after(client: &Client, response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    client.get_text(&location(&response)).await.1
}

#[tokio::test]
async fn a_timer_starts_on_a_task_shows_on_every_page_and_stops_into_the_timesheet() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let ids = seed_tasks(
        &app,
        "olivia@acme.test",
        &["Fix the login page", "Write docs"],
    );

    let (_, tasks_page) = owner.get_text("/tasks").await;
    assert!(tasks_page.contains("Start a timer on Fix the login page"));

    let response = start(
        &owner,
        &[("task_id", &ids[0].to_string()), ("back", "/tasks")],
    )
    .await;
    assert_eq!(location(&response), "/tasks");
    let page = flash_after(&owner, response).await;
    assert!(page.contains("Timer started: Fix the login page."));
    assert!(page.contains("Stop the timer on Fix the login page"));

    // The running timer is in the shell of another page, with its tool and Stop.
    let (_, other) = owner.get_text("/notifications").await;
    assert!(other.contains("aria-label=\"Running timer\""));
    assert!(other.contains("Fix the login page"));
    assert!(other.contains("Basecamp"));
    assert!(other.contains("data-timer-since"));

    // Starting the same task again changes nothing; another task stops the first.
    start(&owner, &[("task_id", &ids[0].to_string())]).await;
    assert_eq!(entry_count(&app), 1);
    start(&owner, &[("task_id", &ids[1].to_string())]).await;
    assert_eq!(entry_count(&app), 2);
    assert_eq!(running_count(&app), 1);

    let stop = owner.post_form("/tasks", "/timer/stop", &[]).await;
    let page = flash_after(&owner, stop).await;
    assert!(page.contains("Timer stopped"));
    assert!(!page.contains("aria-label=\"Running timer\""));
    assert_eq!(running_count(&app), 0);

    let (status, sheet) = owner.get_text("/timesheet").await;
    assert_eq!(status, StatusCode::OK);
    assert!(sheet.contains("Fix the login page"));
    assert!(sheet.contains("Write docs"));
    assert!(sheet.contains("Website"), "grouped by project");

    // Stopping with nothing running says so.
    let again = owner.post_form("/tasks", "/timer/stop", &[]).await;
    assert!(flash_after(&owner, again)
        .await
        .contains("No timer is running."));
}

#[tokio::test]
async fn concurrent_starts_leave_one_running_timer() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let ids = seed_tasks(&app, "olivia@acme.test", &["A", "B", "C", "D", "E", "F"]);
    let token = owner.csrf_from("/tasks").await;
    let mut clicks = Vec::new();
    for id in ids.iter().chain(ids.iter()) {
        let http = owner.http.clone();
        let url = owner.url("/timer/start");
        let origin = owner.address.clone();
        let fields = vec![("csrf_token", token.clone()), ("task_id", id.to_string())];
        clicks.push(tokio::spawn(async move {
            http.post(url)
                .header("Origin", origin)
                .form(&fields)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for click in clicks {
        assert_eq!(click.await.unwrap(), StatusCode::SEE_OTHER);
    }
    assert_eq!(running_count(&app), 1, "one running timer per person");
}

#[tokio::test]
async fn a_timer_with_a_note_and_one_left_running_past_the_limit() {
    let app = TestApp::spawn_with(&[("TASKBRIDGE_TIMER_LIMIT_HOURS", "2")]).await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let empty = start(&owner, &[("note", "  ")]).await;
    assert!(flash_after(&owner, empty)
        .await
        .contains("Write what you are working on"));
    assert_eq!(entry_count(&app), 0);

    let started = start(&owner, &[("note", "Planning")]).await;
    assert!(flash_after(&owner, started)
        .await
        .contains("Timer started: Planning."));
    let ended = (now_secs() - 4 * 3600) / 60 * 60;
    app.query(move |conn| {
        diesel::update(time_entries::table)
            .set(time_entries::started_at.eq(ended - 3600))
            .execute(conn)
            .unwrap()
    });
    let (_, page) = owner.get_text("/timesheet").await;
    assert!(page.contains("Still running since"), "flagged, not cut");
    assert_eq!(running_count(&app), 1);

    // Stop it at the time the work ended (UTC is the company's zone by default).
    let end = time::OffsetDateTime::from_unix_timestamp(ended).unwrap();
    let date = format!(
        "{:04}-{:02}-{:02}",
        end.year(),
        end.month() as u8,
        end.day()
    );
    let at = format!("{:02}:{:02}", end.hour(), end.minute());
    let stop = owner
        .post_form(
            "/timesheet",
            "/timer/stop",
            &[("date", &date), ("time", &at)],
        )
        .await;
    assert!(flash_after(&owner, stop)
        .await
        .contains("Timer stopped: 1:00 on Planning."));
    let stored: Option<i64> = app.query(|conn| {
        time_entries::table
            .select(time_entries::ended_at)
            .first(conn)
            .unwrap()
    });
    assert_eq!(stored, Some(ended));
}

#[tokio::test]
async fn manual_entries_are_checked_and_bad_ones_change_nothing() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let ids = seed_tasks(&app, "olivia@acme.test", &["Fix the login page"]);
    let task = ids[0].to_string();
    let yesterday = time::OffsetDateTime::now_utc()
        .date()
        .previous_day()
        .unwrap();
    let day = yesterday.to_string();

    let added = owner
        .post_form(
            "/timesheet/entries/new",
            "/timesheet/entries",
            &[
                ("date", &day),
                ("start", "09:00"),
                ("duration", "1h30m"),
                ("task_id", &task),
            ],
        )
        .await;
    assert_eq!(
        location(&added),
        format!("/timesheet?week={}&day={day}", week_of(yesterday))
    );
    let page = flash_after(&owner, added).await;
    assert!(page.contains("Added 1:30 on Fix the login page."));
    assert!(page.contains("09:00–10:30"));

    let tomorrow = yesterday
        .next_day()
        .unwrap()
        .next_day()
        .unwrap()
        .to_string();
    let refusals = [
        (
            vec![("start", "11:00"), ("end", "10:00"), ("note", "x")],
            "The end (10:00) is before the start (11:00).",
        ),
        (
            vec![("start", "08:00"), ("duration", "25:00"), ("note", "x")],
            "at most 24 hours",
        ),
        (
            vec![("start", "10:00"), ("end", "11:00"), ("note", "Standup")],
            "overlaps your entry \u{201c}Fix the login page\u{201d}",
        ),
        (
            vec![("start", "12:00"), ("duration", "1:75"), ("note", "x")],
            "is not a duration",
        ),
        (
            vec![("start", "12:00"), ("end", "13:00")],
            "Choose a task or write a note",
        ),
        (
            vec![("start", "10:15"), ("end", "10:45"), ("task_id", &task)],
            "overlaps your entry \u{201c}Fix the login page\u{201d}",
        ),
        (
            vec![("start", "noon"), ("end", "13:00"), ("note", "x")],
            "Enter the start time like 09:30.",
        ),
    ];
    for (fields, message) in refusals {
        let mut form = vec![("date", day.as_str())];
        form.extend(fields);
        let response = owner
            .post_form("/timesheet/entries/new", "/timesheet/entries", &form)
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{message}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains(&message.replace('\'', "&#x27;")) || body.contains(message),
            "{message}: {body}"
        );
        // The "Add time" page again, its task list and every field as typed.
        assert!(body.contains("<h1>Add time</h1>"), "{message}: {body}");
        assert!(body.contains(&format!("<option value=\"{task}\"")));
        for (name, typed) in &form {
            if *name == "task_id" {
                assert!(body.contains(&format!("<option value=\"{task}\" selected>")));
            } else {
                assert!(
                    body.contains(&format!("name=\"{name}\" type=\"time\" value=\"{typed}\""))
                        || body
                            .contains(&format!("name=\"{name}\" type=\"date\" value=\"{typed}\""))
                        || body.contains(&format!("name=\"{name}\" value=\"{typed}\"")),
                    "{message}: the form keeps {name} = {typed}"
                );
            }
        }
    }
    let future = owner
        .post_form(
            "/timesheet/entries/new",
            "/timesheet/entries",
            &[
                ("date", &tomorrow),
                ("start", "09:00"),
                ("end", "10:00"),
                ("note", "x"),
            ],
        )
        .await;
    assert_eq!(future.status(), StatusCode::BAD_REQUEST);
    assert!(future.text().await.unwrap().contains("ends in the future"));
    assert_eq!(entry_count(&app), 1, "nothing was saved");
}

/// The Monday of `day`'s week (weeks start on Monday by default).
fn week_of(day: time::Date) -> time::Date {
    day - time::Duration::days(i64::from(day.weekday().number_days_from_monday()))
}

#[tokio::test]
async fn timesheet_add_time_is_its_own_page_and_the_week_reads_no_task_list() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let ids = seed_tasks(
        &app,
        "olivia@acme.test",
        &["Fix the login page", "Write docs", "Old task"],
    );
    let closed = ids[2];
    app.query(move |conn| {
        diesel::update(tasks::table.filter(tasks::id.eq(closed)))
            .set(tasks::archived.eq(true))
            .execute(conn)
            .unwrap()
    });

    // The week links to "Add time" on its selected day and lists no tasks to pick.
    let (status, week) = owner
        .get_text("/timesheet?week=2026-11-09&day=2026-11-11")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!week.contains("id=\"entry-task\""));
    assert!(!week.contains("Fix the login page"));
    assert!(week
        .contains("href=\"/timesheet/entries/new?date=2026-11-11\" role=\"button\">Add time</a>"));

    // `?date=` fills the date; Cancel goes back to that week; the open tasks are listed.
    let (status, add) = owner
        .get_text("/timesheet/entries/new?date=2026-11-11")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(add.contains("<title>Add time"), "{add}");
    assert!(add.contains("id=\"entry-date\" name=\"date\" type=\"date\" value=\"2026-11-11\""));
    assert!(
        add.contains(
            "<a href=\"/timesheet?week=2026-11-09&#38;day=2026-11-11\" class=\"muted\">Cancel</a>"
        ),
        "{add}"
    );
    assert!(add.contains("No task (describe it in the note)"));
    assert!(add.contains(&format!(
        "<option value=\"{}\" >Basecamp · Website · Fix the login page</option>",
        ids[0]
    )));
    assert!(add.contains("Write docs"));
    assert!(!add.contains("Old task"), "closed tasks are not offered");
    assert!(add.contains("action=\"/timesheet/entries\""));

    // `?task_id=` picks the task; no date (or a bad one) is the person's today.
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let (_, add) = owner
        .get_text(&format!("/timesheet/entries/new?task_id={}", ids[1]))
        .await;
    assert!(add.contains(&format!("<option value=\"{}\" selected>", ids[1])));
    assert!(add.contains(&format!("type=\"date\" value=\"{today}\"")));
    let (status, add) = owner
        .get_text("/timesheet/entries/new?date=soon&task_id=x")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(add.contains(&format!("type=\"date\" value=\"{today}\"")));
    for id in &ids {
        assert!(!add.contains(&format!("<option value=\"{id}\" selected>")));
    }

    // Someone else's week (an owner looking) offers no "Add time".
    app.invite_and_accept(&owner, "uma@acme.test", "Uma User", "user")
        .await;
    let uma_id = user_id(&app, "uma@acme.test");
    let (_, theirs) = owner.get_text(&format!("/timesheet?person={uma_id}")).await;
    assert!(theirs.contains("Timesheet: Uma User"));
    assert!(!theirs.contains("/timesheet/entries/new"), "{theirs}");
}

#[tokio::test]
async fn days_follow_the_time_zone_across_midnight_and_daylight_saving() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let saved = owner
        .post_form(
            "/company/settings",
            "/company/settings/time",
            &[("time_zone", "America/New_York"), ("week_start", "monday")],
        )
        .await;
    assert!(flash_after(&owner, saved)
        .await
        .contains("Time zone set to America/New_York"));

    // 23:00 to 01:00 New York time counts an hour on each day.
    let added = owner
        .post_form(
            "/timesheet",
            "/timesheet/entries",
            &[
                ("date", "2026-11-10"),
                ("start", "23:00"),
                ("duration", "2:00"),
                ("note", "Release"),
            ],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let (_, week) = owner.get_text("/timesheet?week=2026-11-09").await;
    assert!(week.contains("Week of 9 Nov – 15 Nov 2026"));
    let cells: Vec<&str> = week.split("<td class=\"num\">1:00</td>").collect();
    assert_eq!(
        cells.len(),
        5,
        "1:00 on Tuesday and Wednesday, in the row and the day totals"
    );
    assert!(week.contains("data-week-total>2:00<"));
    let stored: i64 = app.query(|conn| {
        time_entries::table
            .select(time_entries::started_at)
            .first(conn)
            .unwrap()
    });
    assert_eq!(stored, 1_794_369_600, "stored as 04:00 UTC on 11 Nov");

    // New York leaves summer time at 02:00 on Sunday 1 November 2026: 00:30 plus
    // three hours ends at 02:30 local, and the week adds up to the real time.
    let dst = owner
        .post_form(
            "/timesheet",
            "/timesheet/entries",
            &[
                ("date", "2026-11-01"),
                ("start", "00:30"),
                ("duration", "3:00"),
                ("note", "Night shift"),
            ],
        )
        .await;
    assert_eq!(dst.status(), StatusCode::SEE_OTHER);
    let (_, week) = owner
        .get_text("/timesheet?week=2026-10-26&day=2026-11-01")
        .await;
    assert!(week.contains("data-week-total>3:00<"));
    assert!(week.contains("00:30–02:30"));
}

#[tokio::test]
async fn a_closed_or_disconnected_task_keeps_its_time_and_refuses_start() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let ids = seed_tasks(&app, "olivia@acme.test", &["Fix the login page"]);
    let task = ids[0];
    let day = time::OffsetDateTime::now_utc()
        .date()
        .previous_day()
        .unwrap()
        .to_string();
    owner
        .post_form(
            "/timesheet",
            "/timesheet/entries",
            &[
                ("date", &day),
                ("start", "09:00"),
                ("end", "11:00"),
                ("task_id", &task.to_string()),
            ],
        )
        .await;

    app.query(move |conn| {
        diesel::update(tasks::table.filter(tasks::id.eq(task)))
            .set(tasks::archived.eq(true))
            .execute(conn)
            .unwrap()
    });
    let refused = start(&owner, &[("task_id", &task.to_string())]).await;
    let page = flash_after(&owner, refused).await;
    assert!(page.contains("This task was closed in Basecamp, so no new timer can start on it."));
    assert_eq!(running_count(&app), 0);
    let week = format!("/timesheet?week={day}&day={day}");
    let (_, sheet) = owner.get_text(&week).await;
    assert!(sheet.contains("closed in Basecamp"));
    assert!(sheet.contains("2:00"));

    // Disconnecting removes the task; the entry keeps its title, tool and time.
    app.query(|conn| {
        diesel::delete(taskbridge::schema::connections::table)
            .execute(conn)
            .unwrap()
    });
    let (_, sheet) = owner.get_text(&week).await;
    assert!(sheet.contains("Fix the login page"));
    assert!(sheet.contains("disconnected"));
    assert!(sheet.contains("2:00"));
    let gone = start(&owner, &[("task_id", &task.to_string())]).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

/// The week reads a running timer apart from the finished entries (the signed-in
/// person's own with their person, someone else's on its own): its task's state shows
/// either way.
#[tokio::test]
async fn a_running_timer_on_a_task_closed_since_says_so_on_every_week_that_shows_it() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma User", "user")
        .await;
    let ids = seed_tasks(
        &app,
        "uma@acme.test",
        &["Fix the login page", "Write the notes"],
    );
    let (running, finished) = (ids[0], ids[1]);
    let start_at = now_secs() - 2 * 3600;
    let entry = seed_entry(&app, "uma@acme.test", start_at, Some(start_at + 600), "");
    app.query(move |conn| {
        diesel::update(time_entries::table.filter(time_entries::id.eq(entry)))
            .set((
                time_entries::task_id.eq(finished),
                time_entries::task_title.eq("Write the notes"),
            ))
            .execute(conn)
            .unwrap()
    });
    let started = start(&uma, &[("task_id", &running.to_string())]).await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    assert_eq!(running_count(&app), 1);
    let (_, before) = uma.get_text("/timesheet").await;
    assert!(before.contains("Fix the login page"), "{before}");
    assert!(!before.contains("closed in Basecamp"), "{before}");

    app.query(move |conn| {
        diesel::update(tasks::table.filter(tasks::id.eq(running)))
            .set(tasks::archived.eq(true))
            .execute(conn)
            .unwrap()
    });
    let uma_id = user_id(&app, "uma@acme.test");
    let (_, own) = uma.get_text("/timesheet").await;
    let (_, theirs) = owner.get_text(&format!("/timesheet?person={uma_id}")).await;
    for week in [&own, &theirs] {
        assert!(week.contains("Fix the login page"), "{week}");
        // Its row in the week, and its line in today's entries.
        assert_eq!(week.matches("closed in Basecamp").count(), 2, "{week}");
    }
    assert!(theirs.contains("Timesheet: Uma User"));
}

#[tokio::test]
async fn entries_are_tenant_checked_and_admin_edits_are_audited() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma User", "user")
        .await;
    let ursula = app
        .invite_and_accept(&owner, "ursula@acme.test", "Ursula User", "user")
        .await;
    let other = app.sign_up("Globex", "Gus Owner", "gus@globex.test").await;
    let start_at = now_secs() - 3 * 3600;
    let entry = seed_entry(
        &app,
        "uma@acme.test",
        start_at,
        Some(start_at + 3600),
        "Research",
    );

    // Another company's owner and a colleague see nothing of it.
    for (client, page) in [(&other, "/timesheet"), (&ursula, "/timesheet")] {
        let edit = format!("/timesheet/entries/{entry}/edit");
        assert_eq!(client.get(&edit).await.status(), StatusCode::NOT_FOUND);
        let update = format!("/timesheet/entries/{entry}");
        let response = client
            .post_form(
                page,
                &update,
                &[
                    ("date", "2026-01-01"),
                    ("start", "09:00"),
                    ("end", "10:00"),
                    ("note", "hijack"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let delete = format!("/timesheet/entries/{entry}/delete");
        assert_eq!(
            client.post_form(page, &delete, &[]).await.status(),
            StatusCode::NOT_FOUND
        );
        let uma_id = user_id(&app, "uma@acme.test");
        let theirs = format!("/timesheet?person={uma_id}");
        assert_eq!(client.get(&theirs).await.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(entry_count(&app), 1);

    // Uma edits her own; nothing goes to the audit log.
    let edit = format!("/timesheet/entries/{entry}/edit");
    let (status, form) = uma.get_text(&edit).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("value=\"Research\""));
    let date = time::OffsetDateTime::from_unix_timestamp(start_at)
        .unwrap()
        .date()
        .to_string();
    let start_time = time::OffsetDateTime::from_unix_timestamp(start_at).unwrap();
    let hhmm = format!("{:02}:{:02}", start_time.hour(), start_time.minute());
    let update = format!("/timesheet/entries/{entry}");
    let saved = uma
        .post_form(
            &edit,
            &update,
            &[
                ("date", &date),
                ("start", &hhmm),
                ("duration", "0:30"),
                ("note", "Research, shorter"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);

    // The owner edits Uma's: it is audited with before and after.
    let uma_id = user_id(&app, "uma@acme.test");
    let (status, theirs) = owner.get_text(&format!("/timesheet?person={uma_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(theirs.contains("Timesheet: Uma User"));
    let saved = owner
        .post_form(
            &edit,
            &update,
            &[
                ("date", &date),
                ("start", &hhmm),
                ("duration", "0:45"),
                ("note", "Research (fixed by owner)"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let audit: Vec<String> = app.query(|conn| {
        audit_log::table
            .filter(audit_log::action.eq("time_entry_edited"))
            .select(audit_log::detail)
            .load(conn)
            .unwrap()
    });
    assert_eq!(
        audit.len(),
        1,
        "only the owner's edit of someone else's entry"
    );
    assert!(audit[0].contains("before \u{201c}Research, shorter\u{201d}"));
    assert!(audit[0].contains("after \u{201c}Research (fixed by owner)\u{201d}"));

    let deleted = owner
        .post_form(
            &edit,
            &format!("/timesheet/entries/{entry}/delete"),
            &[("confirmed", "yes")],
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(entry_count(&app), 0);
}

/// What an instance keeps of the signed-in person's own week (its finished entries and
/// their tasks' states), and of the time beside each task on My Tasks, follows every
/// change made anywhere, here straight in the database as another instance would: an
/// entry's times and label changed, its task closed in its tool, the task gone, the
/// entry removed. Each shows at the next view.
#[tokio::test]
async fn what_the_timesheet_keeps_follows_every_change_made_anywhere() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let task = seed_tasks(&app, "olivia@acme.test", &["Fix the login page"])[0];
    let start = (now_secs() - 4 * 3600) / 60 * 60;
    let entry = app.query(move |conn| {
        let (user_id, company_id) = person_ids(conn, "olivia@acme.test");
        diesel::insert_into(time_entries::table)
            .values((
                time_entries::company_id.eq(company_id),
                time_entries::user_id.eq(user_id),
                time_entries::task_id.eq(task),
                time_entries::provider.eq("basecamp"),
                time_entries::project.eq("Website"),
                time_entries::task_title.eq("Fix the login page"),
                time_entries::note.eq(""),
                time_entries::started_at.eq(start),
                time_entries::ended_at.eq(start + 3600),
                time_entries::created_at.eq(start),
                time_entries::updated_at.eq(start),
            ))
            .returning(time_entries::id)
            .get_result::<i64>(conn)
            .unwrap()
    });
    let date = time::OffsetDateTime::from_unix_timestamp(start)
        .unwrap()
        .date();
    let week = format!("/timesheet?week={date}&day={date}");
    let view = || {
        let (owner, week) = (&owner, &week);
        async move {
            let (status, page) = owner.get_text(week).await;
            assert_eq!(status, StatusCode::OK);
            page
        }
    };
    let change = |set: &'static str| {
        let app = &app;
        app.query(move |conn| {
            let sql = set
                .replace("{entry}", &entry.to_string())
                .replace("{task}", &task.to_string());
            diesel::sql_query(sql).execute(conn).unwrap()
        })
    };

    let page = view().await;
    assert!(
        page.contains("Fix the login page") && page.contains("1:00"),
        "{page}"
    );
    assert_eq!(
        view().await.matches("1:00").count(),
        page.matches("1:00").count()
    );
    let tasks = || async { owner.get_text("/tasks").await.1 };
    let list = tasks().await;
    assert!(list.contains("1:00") && !list.contains("1:30"), "{list}");
    assert!(tasks().await.contains("1:00"));

    change("UPDATE time_entries SET ended_at = started_at + 5400 WHERE id = {entry}");
    let page = view().await;
    assert!(page.contains("1:30") && !page.contains("1:00"), "{page}");
    let list = tasks().await;
    assert!(list.contains("1:30") && !list.contains("1:00"), "{list}");

    change("UPDATE time_entries SET task_title = 'Fix the sign-in page' WHERE id = {entry}");
    assert!(view().await.contains("Fix the sign-in page"));

    change("UPDATE tasks SET archived = TRUE WHERE id = {task}");
    assert!(view().await.contains("closed in Basecamp"));

    change("DELETE FROM tasks WHERE id = {task}");
    let page = view().await;
    assert!(
        page.contains("disconnected") && !page.contains("closed in Basecamp"),
        "{page}"
    );

    change("DELETE FROM time_entries WHERE id = {entry}");
    let page = view().await;
    assert!(
        !page.contains("Fix the sign-in page") && !page.contains("1:30"),
        "{page}"
    );
}
