//! Reports and the CSV: who sees whose time, totals in the viewer's days, and an
//! export that is safe to open in a spreadsheet. Entries are written straight into
//! the database, so these tests do not depend on the timer's pages.

use std::collections::HashMap;

use diesel::prelude::*;
use jiff::civil::{date, Date, Time};
use reqwest::StatusCode;
use taskbridge::schema::{companies, time_entries, users};
use taskbridge::services::time::Days;

use crate::helpers::*;

/// An entry to write: whose, on what, when (UTC seconds; no end: running).
struct Entry<'a> {
    user_id: i64,
    provider: Option<&'a str>,
    project: Option<&'a str>,
    title: Option<&'a str>,
    note: &'a str,
    started_at: i64,
    ended_at: Option<i64>,
}

impl<'a> Entry<'a> {
    fn note(user_id: i64, note: &'a str, (started_at, ended_at): (i64, i64)) -> Self {
        Entry {
            user_id,
            provider: None,
            project: None,
            title: None,
            note,
            started_at,
            ended_at: Some(ended_at),
        }
    }

    fn task(
        user_id: i64,
        (provider, project, title): (&'a str, &'a str, &'a str),
        (started_at, ended_at): (i64, i64),
    ) -> Self {
        Entry {
            provider: Some(provider),
            project: Some(project),
            title: Some(title),
            ..Entry::note(user_id, "", (started_at, ended_at))
        }
    }
}

fn company_of(app: &TestApp, user_id: i64) -> i64 {
    app.query(move |conn| {
        users::table
            .filter(users::id.eq(user_id))
            .select(users::company_id)
            .first::<i64>(conn)
            .unwrap()
    })
}

fn insert(app: &TestApp, entries: &[Entry<'_>]) {
    let mut companies_of: HashMap<i64, i64> = HashMap::new();
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            let company_id = *companies_of
                .entry(e.user_id)
                .or_insert_with(|| company_of(app, e.user_id));
            (
                time_entries::company_id.eq(company_id),
                time_entries::user_id.eq(e.user_id),
                time_entries::provider.eq(e.provider.map(str::to_owned)),
                time_entries::project.eq(e.project.map(str::to_owned)),
                time_entries::task_title.eq(e.title.map(str::to_owned)),
                time_entries::note.eq(e.note.to_owned()),
                time_entries::started_at.eq(e.started_at),
                time_entries::ended_at.eq(e.ended_at),
                time_entries::created_at.eq(e.started_at),
                time_entries::updated_at.eq(e.started_at),
            )
        })
        .collect();
    // Batch inserts reach each backend's own connection (the two-backend one does
    // not build them).
    app.query(move |conn| {
        for batch in rows.chunks(500) {
            let insert = diesel::insert_into(time_entries::table).values(batch.to_vec());
            match conn {
                taskbridge::db::DbConn::Sqlite(c) => insert.execute(c),
                taskbridge::db::DbConn::Pg(c) => insert.execute(c),
            }
            .unwrap();
        }
    });
}

fn set_zone(app: &TestApp, company_id: i64, zone: &str) {
    let zone = zone.to_owned();
    app.query(move |conn| {
        diesel::update(companies::table.filter(companies::id.eq(company_id)))
            .set(companies::time_zone.eq(zone))
            .execute(conn)
            .unwrap();
    });
}

/// `[start, end)` of a local date and two local times (the end on the next day when
/// it is not after the start).
fn local(days: &Days, day: Date, (h1, m1): (i8, i8), (h2, m2): (i8, i8)) -> (i64, i64) {
    let start = days.at(day, Time::constant(h1, m1, 0, 0));
    let mut end = days.at(day, Time::constant(h2, m2, 0, 0));
    if end <= start {
        end = days.at(day.tomorrow().unwrap(), Time::constant(h2, m2, 0, 0));
    }
    (start, end)
}

/// The week of 10 March 2025 (a Monday), as a custom range.
const WEEK: &str = "range=custom&from=2025-03-10&to=2025-03-16";

/// The rows of the tables under `selector`: first cell → the other cells.
fn table_rows(body: &str, selector: &str) -> HashMap<String, Vec<String>> {
    let html = scraper::Html::parse_document(body);
    let rows = scraper::Selector::parse(&format!("{selector} tbody tr")).unwrap();
    let cells = scraper::Selector::parse("th, td").unwrap();
    // A cell's text pieces (a label and its detail under it) joined with " / ".
    let text = |e: scraper::ElementRef<'_>| {
        e.text()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" / ")
    };
    html.select(&rows)
        .map(|row| {
            let mut cells = row.select(&cells).map(text);
            let first = cells.next().unwrap();
            (first, cells.collect())
        })
        .collect()
}

/// The totals table titled `title` ("By tool"): label → [h:mm, hours].
fn totals(body: &str, title: &str) -> HashMap<String, Vec<String>> {
    let html = scraper::Html::parse_document(body);
    let panels = scraper::Selector::parse(".report-tables section").unwrap();
    let h2 = scraper::Selector::parse("h2").unwrap();
    let panel = html
        .select(&panels)
        .find(|p| p.select(&h2).next().unwrap().text().collect::<String>() == title)
        .unwrap_or_else(|| panic!("no table {title}"));
    table_rows(&panel.html(), "table")
}

fn csv_records(body: &str) -> Vec<csv::StringRecord> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn a_plain_users_report_is_their_own_time_only() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let uma = app
        .invite_and_accept(&owner, "uma@acme.test", "Uma User", "user")
        .await;
    app.invite_and_accept(&owner, "colin@acme.test", "Colin Colleague", "user")
        .await;
    let (uma_id, colin_id) = (
        user_id(&app, "uma@acme.test"),
        user_id(&app, "colin@acme.test"),
    );
    let utc = Days::new("UTC", "monday");
    let day = date(2025, 3, 11);
    insert(
        &app,
        &[
            Entry::task(
                uma_id,
                ("basecamp", "Website", "Uma task Alpha"),
                local(&utc, day, (9, 0), (10, 0)),
            ),
            Entry::task(
                colin_id,
                ("salesforce", "Secret deal", "Colin task Bravo"),
                local(&utc, day, (9, 0), (12, 0)),
            ),
        ],
    );

    for query in [
        format!("/reports?{WEEK}"),
        format!("/reports?{WEEK}&person={colin_id}"),
        format!("/reports?{WEEK}&person=not-a-number"),
    ] {
        let (status, body) = uma.get_text(&query).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert!(body.contains("<h1>My report</h1>"), "{query}: {body}");
        assert!(body.contains("Uma task Alpha"), "{query}");
        for leak in ["Colin", "Bravo", "Secret deal", "Salesforce</th>", "3:00"] {
            assert!(
                !body.contains(leak),
                "{query} shows {leak:?} to a plain user"
            );
        }
        assert!(
            !body.contains("id=\"person\""),
            "no person filter for a plain user"
        );
    }
    let (_, body) = uma.get_text(&format!("/reports?{WEEK}")).await;
    assert!(
        body.contains("My report</a>"),
        "the left menu has My report"
    );
    assert!(
        !body.contains(">Reports</a>"),
        "the company menu has no company report for a plain user"
    );

    let response = uma
        .get(&format!("/reports.csv?{WEEK}&person={colin_id}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let csv = response.text().await.unwrap();
    assert!(csv.contains("Uma task Alpha"));
    assert!(!csv.contains("Colin"), "the CSV leaks a colleague: {csv}");
    assert_eq!(csv_records(&csv).len(), 2, "header and Uma's one entry");

    // The owner's report is the company's, with both people and a person filter.
    let (status, body) = owner.get_text(&format!("/reports?{WEEK}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<h1>Reports</h1>"));
    assert!(
        body.contains(">Reports</a>"),
        "the company menu has Reports"
    );
    assert!(!body.contains("My report</a>"));
    let people = totals(&body, "By person");
    assert_eq!(people["Uma User / uma@acme.test"], ["1:00", "1.00"]);
    assert_eq!(
        people["Colin Colleague / colin@acme.test"],
        ["3:00", "3.00"]
    );
    let (_, only_colin) = owner
        .get_text(&format!("/reports?{WEEK}&person={colin_id}"))
        .await;
    assert!(only_colin.contains("Colin task Bravo"));
    assert!(!only_colin.contains("Uma task Alpha"));
}

#[tokio::test]
async fn another_companys_person_is_not_found_and_their_time_never_shown() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let manager = app
        .invite_and_accept(&owner, "mona@acme.test", "Mona Manager", "manager")
        .await;
    app.sign_up("Globex", "Gary Globex", "gary@globex.test")
        .await;
    let (olivia, gary) = (
        user_id(&app, "olivia@acme.test"),
        user_id(&app, "gary@globex.test"),
    );
    let utc = Days::new("UTC", "monday");
    insert(
        &app,
        &[
            Entry::note(
                olivia,
                "Acme planning",
                local(&utc, date(2025, 3, 12), (9, 0), (10, 0)),
            ),
            Entry::note(
                gary,
                "Globex secret",
                local(&utc, date(2025, 3, 12), (9, 0), (10, 0)),
            ),
        ],
    );
    for path in [
        format!("/reports?{WEEK}&person={gary}"),
        format!("/reports.csv?{WEEK}&person={gary}"),
    ] {
        let (status, body) = manager.get_text(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.contains("Globex secret"), "{path}");
    }
    // A manager sees the company's report: the owner's time, never Globex's.
    let (status, body) = manager.get_text(&format!("/reports?{WEEK}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<h1>Reports</h1>"));
    assert!(body.contains("Acme planning"));
    assert!(!body.contains("Globex") && !body.contains("Gary"));
    // Signed out: to the login page.
    let (status, _) = app.client().get_text("/reports").await;
    assert!(
        status.is_redirection() || status == StatusCode::UNAUTHORIZED,
        "{status}"
    );
}

#[tokio::test]
async fn totals_count_an_entry_across_midnight_on_both_of_the_viewers_days() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let olivia = user_id(&app, "olivia@acme.test");
    set_zone(&app, company_of(&app, olivia), "America/New_York");
    let ny = Days::new("America/New_York", "monday");
    insert(
        &app,
        &[
            // 23:00 on Tuesday to 01:30 on Wednesday, New York time: 1:00 + 1:30.
            Entry::task(
                olivia,
                ("basecamp", "Website", "Fix the header"),
                local(&ny, date(2025, 3, 11), (23, 0), (1, 30)),
            ),
            Entry::note(
                olivia,
                "Planning",
                local(&ny, date(2025, 3, 12), (9, 0), (10, 0)),
            ),
            // Sunday 23:30 to Monday 00:15 before the range: only the 15 minutes count.
            Entry::note(
                olivia,
                "Late call",
                local(&ny, date(2025, 3, 9), (23, 30), (0, 15)),
            ),
            // Outside the range.
            Entry::note(
                olivia,
                "Next week",
                local(&ny, date(2025, 3, 17), (9, 0), (10, 0)),
            ),
        ],
    );
    let (status, body) = owner.get_text(&format!("/reports?{WEEK}")).await;
    assert_eq!(status, StatusCode::OK);
    let days = table_rows(&body, ".report-days");
    assert_eq!(days.len(), 7, "{days:?}");
    assert_eq!(days["Mon 10 Mar"], ["0:15", "0.25"]);
    assert_eq!(days["Tue 11 Mar"], ["1:00", "1.00"]);
    assert_eq!(days["Wed 12 Mar"], ["2:30", "2.50"]);
    assert_eq!(days["Thu 13 Mar"], ["0:00", "0.00"]);
    assert!(body.contains("3:45"), "the total");
    assert!(body.contains("3.75 hours"), "the total in hours");
    assert!(!body.contains("Next week"));

    let tools = totals(&body, "By tool");
    assert_eq!(tools["Basecamp"], ["2:30", "2.50"]);
    assert_eq!(tools["No tool"], ["1:15", "1.25"]);
    let projects = totals(&body, "By project");
    assert_eq!(projects["Website / Basecamp"], ["2:30", "2.50"]);
    let tasks = totals(&body, "By task");
    assert_eq!(
        tasks["Fix the header / Basecamp · Website"],
        ["2:30", "2.50"]
    );
    assert_eq!(tasks["Planning / No tool · No project"], ["1:00", "1.00"]);

    let html = scraper::Html::parse_document(&body);
    let chart = html
        .select(&scraper::Selector::parse("svg[role=img]").unwrap())
        .next()
        .expect("the chart");
    let label = chart.value().attr("aria-label").unwrap();
    assert!(label.contains("3:45 in all"), "{label}");
    assert!(label.contains("Wed 12 Mar (2:30)"), "{label}");
    assert_eq!(
        chart
            .select(&scraper::Selector::parse("rect.chart-bar").unwrap())
            .count(),
        3
    );

    // Filters: one tool, one project.
    let (_, body) = owner
        .get_text(&format!("/reports?{WEEK}&tool=basecamp"))
        .await;
    assert!(body.contains("2.50 hours") && !body.contains("Planning"));
    let (_, body) = owner
        .get_text(&format!("/reports?{WEEK}&project=Website"))
        .await;
    assert!(body.contains("2.50 hours") && !body.contains("Late call"));
}

#[tokio::test]
async fn a_running_timer_counts_up_to_now_and_an_empty_range_says_what_to_do() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let olivia = user_id(&app, "olivia@acme.test");
    let (status, body) = owner.get_text("/reports").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("No time tracked in this range. Start a timer from My Tasks."));
    assert!(!body.contains("Download CSV"));

    // Started two days ago: older than the day before the range, so it is read on its
    // own, and counts from the range's start up to now.
    let now = taskbridge::db::now();
    insert(
        &app,
        &[Entry {
            ended_at: None,
            ..Entry::note(olivia, "Long call", (now - 2 * 86_400 - 600, 0))
        }],
    );
    let utc = Days::new("UTC", "monday");
    let today = utc.date_of(now);
    let (status, body) = owner
        .get_text(&format!("/reports?range=custom&from={today}&to={today}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let tools = totals(&body, "By tool");
    let counted = now - utc.start_of(today);
    let shown = &tools["No tool"][0];
    let expected = [counted, counted + 60].map(taskbridge::services::time::duration::hm);
    assert!(expected.contains(shown), "{shown} not in {expected:?}");
}

#[tokio::test]
async fn the_csv_has_a_header_a_row_per_entry_and_cells_safe_from_formulas() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    app.sign_up("Globex", "Gary Globex", "gary@globex.test")
        .await;
    let (olivia, gary) = (
        user_id(&app, "olivia@acme.test"),
        user_id(&app, "gary@globex.test"),
    );
    set_zone(&app, company_of(&app, olivia), "Europe/Berlin");
    let berlin = Days::new("Europe/Berlin", "monday");
    let day = date(2025, 3, 12);
    insert(
        &app,
        &[
            Entry::task(
                olivia,
                ("pivotal", "-Launch", "@Release notes"),
                local(&berlin, date(2025, 3, 11), (23, 0), (1, 30)),
            ),
            Entry::note(
                olivia,
                "=HYPERLINK(\"http://evil.test\",\"x\")",
                local(&berlin, day, (9, 0), (10, 0)),
            ),
            Entry::note(olivia, "+1", local(&berlin, day, (10, 0), (10, 30))),
            Entry::note(olivia, "-2", local(&berlin, day, (11, 0), (11, 45))),
            Entry::note(olivia, "@x", local(&berlin, day, (12, 0), (12, 6))),
            Entry::note(gary, "Globex secret", local(&berlin, day, (9, 0), (17, 0))),
        ],
    );
    let response = owner.get(&format!("/reports.csv?{WEEK}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"taskbridge-report-2025-03-10-2025-03-16.csv\""
    );
    let body = response.text().await.unwrap();
    assert!(!body.contains("Globex"), "another company's entry: {body}");
    let records = csv_records(&body);
    assert_eq!(
        records[0].iter().collect::<Vec<_>>(),
        [
            "Date",
            "Start",
            "End",
            "Person",
            "Email",
            "Tool",
            "Project",
            "Task",
            "Note",
            "Duration (h:mm)",
            "Duration (hours)"
        ]
    );
    let rows: Vec<Vec<&str>> = records[1..].iter().map(|r| r.iter().collect()).collect();
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert_eq!(
        rows[0],
        [
            "2025-03-11",
            "23:00",
            "2025-03-12 01:30",
            "Olivia Owner",
            "olivia@acme.test",
            "Pivotal Tracker",
            "'-Launch",
            "'@Release notes",
            "",
            "2:30",
            "2.50"
        ]
    );
    assert_eq!(
        rows[1],
        [
            "2025-03-12",
            "09:00",
            "10:00",
            "Olivia Owner",
            "olivia@acme.test",
            "",
            "",
            "",
            "'=HYPERLINK(\"http://evil.test\",\"x\")",
            "1:00",
            "1.00"
        ]
    );
    let notes: Vec<&str> = rows.iter().map(|r| r[8]).collect();
    assert_eq!(notes[2..], ["'+1", "'-2", "'@x"]);
    assert_eq!(rows[4][9..], ["0:06", "0.10"]);
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "unsafe cell {cell:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_csv_pages_through_more_entries_than_one_chunk() {
    let app = TestApp::spawn().await;
    let owner = app
        .sign_up("Acme", "Olivia Owner", "olivia@acme.test")
        .await;
    let olivia = user_id(&app, "olivia@acme.test");
    let utc = Days::new("UTC", "monday");
    let base = utc.at(date(2025, 3, 10), Time::constant(0, 0, 0, 0));
    // Pairs of entries share a start, so the chunk boundary (1,000) falls inside one:
    // the keyset goes on by id.
    let notes: Vec<String> = (0..1_205).map(|i| format!("entry {i}")).collect();
    let entries: Vec<Entry<'_>> = notes
        .iter()
        .enumerate()
        .map(|(i, note)| {
            let start = base + ((i as i64 + 1) / 2) * 300;
            Entry::note(olivia, note, (start, start + 60))
        })
        .collect();
    insert(&app, &entries);
    let body = owner
        .get(&format!("/reports.csv?{WEEK}"))
        .await
        .text()
        .await
        .unwrap();
    let records = csv_records(&body);
    assert_eq!(records.len(), 1 + 1_205);
    let mut seen: Vec<&str> = records[1..].iter().map(|r| &r[8]).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 1_205, "every entry once");
    let (_, page) = owner.get_text(&format!("/reports?{WEEK}")).await;
    assert!(
        page.contains("20.08 hours, 1205 entries"),
        "the page reads every chunk too"
    );
}
