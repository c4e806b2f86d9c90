use diesel::prelude::*;
use jiff::civil::Time;
use taskbridge::schema::{time_entries, users};
use taskbridge::services::time::Days;

use crate::driver;
use crate::helpers::{user_id, TestApp, PASSWORD};

#[tokio::test]
async fn the_owner_opens_reports_from_the_company_menu() {
    let Some(browser) = driver::open().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let base = app.address.clone();

    browser.goto(&format!("{base}/signup")).await;
    browser.fill("company_name", "Acme Widgets").await;
    browser.fill("name", "Olivia Owner").await;
    browser.fill("email", "olivia@acme.test").await;
    browser.fill("password", PASSWORD).await;
    browser.click_text("Create account").await;
    browser.expect_path("/tasks").await;

    browser.goto(&format!("{base}/reports")).await;
    browser.expect_path("/reports").await;
    assert!(browser
        .text()
        .await
        .contains("No time tracked in this range. Start a timer from My Tasks."));
    browser.screenshot("reports-01-empty").await;

    // A week of time: a few entries on each of the last seven days, ended in the past.
    let olivia = user_id(&app, "olivia@acme.test");
    let utc = Days::new("UTC", "monday");
    let now = taskbridge::db::now();
    let today = utc.date_of(now);
    let first = today.checked_sub(jiff::Span::new().days(6)).unwrap();
    let tasks = [
        ("basecamp", "Website", "Fix the header"),
        ("salesforce", "Q1 renewals", "Call Initech"),
        ("pivotal", "Mobile app", "Offline sync"),
    ];
    let mut rows = Vec::new();
    for (i, day) in utc.week(first).into_iter().take(6).enumerate() {
        for (j, (tool, project, title)) in tasks.iter().enumerate() {
            let start = utc.at(day, Time::constant(9 + 2 * j as i8, 0, 0, 0));
            let end = start + 1800 + 900 * ((i + j) % 4) as i64;
            rows.push((
                time_entries::company_id.eq(company_of(&app, olivia)),
                time_entries::user_id.eq(olivia),
                time_entries::provider.eq(Some(tool.to_string())),
                time_entries::project.eq(Some(project.to_string())),
                time_entries::task_title.eq(Some(title.to_string())),
                time_entries::note.eq(String::new()),
                time_entries::started_at.eq(start),
                time_entries::ended_at.eq(Some(end)),
                time_entries::created_at.eq(start),
                time_entries::updated_at.eq(start),
            ));
        }
    }
    app.query(move |conn| {
        for row in rows {
            diesel::insert_into(time_entries::table)
                .values(row)
                .execute(conn)
                .unwrap();
        }
    });

    browser.goto(&format!("{base}/tasks")).await;
    browser.click_css("summary.company-logo").await;
    browser.click_text("Reports").await;
    browser.expect_path("/reports").await;
    browser
        .goto(&format!(
            "{base}/reports?range=custom&from={first}&to={today}"
        ))
        .await;
    browser.wait_for_text("By task").await;
    let text = browser.text().await;
    for expected in ["Time by day", "By person", "Fix the header", "Download CSV"] {
        assert!(text.contains(expected), "no {expected:?}:\n{text}");
    }
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("svg.chart[role=img]"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap(),
        "the chart is drawn"
    );
    let csv = browser.attr("a[download]", "href").await.unwrap();
    assert!(csv.starts_with("/reports.csv?"), "{csv}");
    browser.screenshot("reports-02-company-week").await;
    browser.client.set_window_size(1280, 2000).await.unwrap();
    browser.screenshot("reports-03-company-week-tables").await;
    browser.close().await;
}

fn company_of(app: &TestApp, user: i64) -> i64 {
    app.query(move |conn| {
        users::table
            .filter(users::id.eq(user))
            .select(users::company_id)
            .first::<i64>(conn)
            .unwrap()
    })
}
