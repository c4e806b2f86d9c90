//! My Tasks, "Sync now", the filters, a tool's errors and where they lead (the error
//! catalogue, Integration Health, a connection's sync history), clicked through in the
//! browser against the app's own sandbox. The sandbox is driven from the test itself
//! (its control API), the way a colleague would change things in the tool.

use std::future::Future;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::Value;

use crate::driver::{self, Browser};
use crate::helpers::TestApp;
use crate::integrations::{at_sandbox, company_menu, sign_up};

/// Checks `check` every 200 ms for up to `secs` seconds; panics with `what` (and the
/// page's text) if it never holds.
async fn poll<F, Fut>(browser: &Browser, what: &str, secs: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "after {secs} s, still not: {what}\nat {}:\n{}",
        browser
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default(),
        page_text(browser).await
    );
}

/// What the page shows now, without waiting for anything (also mid-update).
async fn page_text(browser: &Browser) -> String {
    browser
        .client
        .execute(
            "return document.body ? document.body.innerText : ''",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn js(browser: &Browser, script: &str) -> Value {
    browser
        .client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// Every task group on My Tasks: its tool tag, its heading and its tasks' titles.
async fn groups(browser: &Browser) -> Vec<(String, String, Vec<String>)> {
    let v = js(
        browser,
        "return [...document.querySelectorAll('section.task-group')].map(s => [
            (s.querySelector('.tool-tag') || {textContent: ''}).textContent.trim(),
            s.querySelector('h2').textContent.replace(/\\s+/g, ' ').trim(),
            [...s.querySelectorAll('.task-title')].map(t => t.textContent.trim())])",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

/// The titles of the tasks on the page, sorted.
async fn titles(browser: &Browser) -> Vec<String> {
    let mut all: Vec<String> = groups(browser)
        .await
        .into_iter()
        .flat_map(|(_, _, t)| t)
        .collect();
    all.sort();
    all
}

/// The sandbox's open tasks of one tool assigned to `email`.
async fn sandbox_open_tasks(base: &str, tool: &str, email: &str) -> Vec<Value> {
    let state: Value = reqwest::get(format!("{base}/sandbox/_control/state"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    state[tool]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["assignee_email"] == email && t["closed"] == false)
        .cloned()
        .collect()
}

/// Someone reassigns or closes a task in the tool.
async fn change_in_tool(base: &str, tool: &str, task_id: &str, mut change: Value) {
    change["task_id"] = Value::from(task_id);
    let r = reqwest::Client::new()
        .post(format!("{base}/sandbox/{tool}/_control/reassign"))
        .json(&change)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

fn title(task: &Value) -> &str {
    task["title"].as_str().unwrap()
}

fn sorted_titles(tasks: &[Value]) -> Vec<String> {
    let mut t: Vec<String> = tasks.iter().map(|t| title(t).to_owned()).collect();
    t.sort();
    t
}

/// Waits for the page to have loaded after a navigation to `/tasks` with this query.
async fn expect_tasks_query(browser: &Browser, query: Option<&str>) {
    poll(browser, &format!("on /tasks?{query:?}"), 10, || async {
        let Ok(url) = browser.client.current_url().await else {
            return false;
        };
        let ready = js(browser, "return document.readyState").await == "complete";
        ready && url.path() == "/tasks" && url.query() == query
    })
    .await;
}

#[tokio::test]
async fn my_tasks_sync_now_updates_in_place_and_filters_narrow_the_list() {
    let Some(browser) = driver::open().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let base = app.address.clone();
    let b = &browser;
    sign_up(b, &base, "Acme Widgets", "Olivia Owner", "olivia@acme.test").await;

    company_menu(b, "Company Integrations", "/company/integrations").await;
    b.click_text("Pivotal Tracker").await;
    b.expect_path("/company/integrations/pivotal").await;
    b.fill("api_token", "sandbox-jane-doe").await;
    b.screenshot("sync-01-pivotal-token").await;
    b.click_text("Turn it on").await;
    b.expect_path("/company/integrations/pivotal/connected")
        .await;

    let jane = sandbox_open_tasks(&base, "pivotal", "jane@acme.test").await;
    assert!(jane.len() >= 3, "the sandbox gives Jane tasks: {jane:?}");
    b.click_text("My Tasks").await;
    b.expect_path("/tasks").await;
    b.screenshot("sync-02-my-tasks-first-sync").await;
    // Her tasks arrive by themselves, without reloading.
    let count = format!("{} tasks", jane.len());
    poll(b, "all of Jane's tasks are on My Tasks", 20, || async {
        page_text(b).await.contains(&count) && titles(b).await == sorted_titles(&jane)
    })
    .await;
    let page = page_text(b).await;
    assert!(page.contains("Synced just now"), "{page}");
    assert!(!page.contains("Not synced yet"), "{page}");

    // Grouped by tool and project: each task under its project's heading.
    let shown = groups(b).await;
    for task in &jane {
        let project = task["project"].as_str().unwrap();
        assert!(
            shown
                .iter()
                .any(|(tool, heading, tasks)| tool == "Pivotal Tracker"
                    && heading.ends_with(project)
                    && tasks.iter().any(|t| t == title(task))),
            "{} is under Pivotal Tracker · {project}: {shown:?}",
            title(task)
        );
    }
    let mut headings: Vec<&String> = shown.iter().map(|(_, h, _)| h).collect();
    headings.dedup();
    assert_eq!(headings.len(), shown.len(), "one group per project");

    // An overdue task stands out from the others.
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let overdue = jane
        .iter()
        .filter(|t| t["due_on"].as_str().is_some_and(|d| d < today.as_str()))
        .count();
    let marked = js(
        b,
        "return [...document.querySelectorAll('.task-due.overdue')].map(e => e.textContent.trim())",
    )
    .await;
    let marked: Vec<String> = serde_json::from_value(marked).unwrap();
    assert_eq!(marked.len(), overdue, "{marked:?}");
    if overdue > 0 {
        assert!(marked.iter().all(|m| m.starts_with("Overdue · due ")));
        let style: Vec<String> = serde_json::from_value(
            js(
                b,
                "const o = getComputedStyle(document.querySelector('.task-due.overdue'));
                 const n = document.querySelector('.task-due:not(.overdue)');
                 return [o.color, o.fontWeight, n ? getComputedStyle(n).color : ''];",
            )
            .await,
        )
        .unwrap();
        assert_ne!(style[0], style[2], "overdue in another colour: {style:?}");
        assert!(
            style[1].parse::<u32>().unwrap() >= 600,
            "and bold: {style:?}"
        );
    }
    b.screenshot("sync-03-my-tasks-grouped").await;

    // Someone gives one of her tasks to John in the tool; she presses "Sync now".
    let moved = jane
        .iter()
        .find(|t| jane.iter().filter(|o| title(o) == title(t)).count() == 1)
        .expect("a task with a title of its own")
        .clone();
    change_in_tool(
        &base,
        "pivotal",
        moved["id"].as_str().unwrap(),
        serde_json::json!({"assignee": "john@acme.test"}),
    )
    .await;
    let before = b.client.current_url().await.unwrap();
    poll(b, "Sync now can be pressed", 10, || async {
        js(
            b,
            "const s = document.querySelector('form[data-sync-form] button'); return !!s && !s.disabled",
        )
        .await
            == true
    })
    .await;
    b.client
        .execute("window.__marker = 1", vec![])
        .await
        .unwrap();
    b.click_text("Sync now").await;
    b.screenshot("sync-04-sync-now-pressed").await;
    let moved_title = title(&moved);
    let left = format!("{} tasks", jane.len() - 1);
    poll(b, "the reassigned task leaves the page", 15, || async {
        let page = page_text(b).await;
        !page.contains(moved_title) && page.contains(&left)
    })
    .await;
    assert_eq!(
        b.client.current_url().await.unwrap(),
        before,
        "the URL did not change"
    );
    assert_eq!(
        js(
            b,
            "return window.__marker === undefined ? null : window.__marker"
        )
        .await,
        1,
        "the page was not reloaded"
    );
    poll(b, "the button is back", 10, || async {
        js(
            b,
            "const s = document.querySelector('form[data-sync-form] button'); return !s.disabled && !s.hasAttribute('aria-busy')",
        )
        .await
            == true
    })
    .await;
    let remaining: Vec<Value> = jane
        .iter()
        .filter(|t| t["id"] != moved["id"])
        .cloned()
        .collect();
    assert_eq!(titles(b).await, sorted_titles(&remaining));
    b.screenshot("sync-05-after-sync-now").await;

    // Search: part of a title narrows the list to the tasks whose title has it.
    let (word, expected) = remaining
        .iter()
        .flat_map(|t| title(t).split_whitespace())
        .filter(|w| w.len() >= 5 && w.chars().all(char::is_alphabetic))
        .map(|w| {
            let w = w.to_lowercase();
            let hits: Vec<Value> = remaining
                .iter()
                .filter(|t| title(t).to_lowercase().contains(&w))
                .cloned()
                .collect();
            (w, hits)
        })
        .find(|(_, hits)| hits.len() < remaining.len())
        .expect("a word that is not in every title");
    // The list follows the search as it is typed (no button to press).
    b.fill("q", &word).await;
    expect_tasks_query(b, Some(&format!("q={word}"))).await;
    b.screenshot("sync-06-search-typed").await;
    assert_eq!(
        titles(b).await,
        sorted_titles(&expected),
        "searched {word:?}"
    );
    assert!(page_text(b).await.contains(&format!(
        "{} task{}",
        expected.len(),
        if expected.len() == 1 { "" } else { "s" }
    )));
    assert_eq!(
        js(b, "return document.getElementById('q').value").await,
        word.as_str(),
        "the search stays in the box"
    );
    b.screenshot("sync-07-search-filtered").await;

    b.click_text("Clear").await;
    expect_tasks_query(b, None).await;
    assert_eq!(titles(b).await, sorted_titles(&remaining));
    assert_eq!(b.attr("#q", "value").await.as_deref(), Some(""));
    b.screenshot("sync-08-filters-cleared").await;
    browser.close().await;
}

#[tokio::test]
async fn a_failing_tool_and_a_revoked_account_explain_themselves_everywhere() {
    let Some(browser) = driver::open().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let base = app.address.clone();
    let b = &browser;
    let info = |code: &str| taskbridge::catalogue::info(code).unwrap();
    sign_up(b, &base, "Acme Widgets", "Olivia Owner", "olivia@acme.test").await;

    // Pivotal Tracker answers every task request with a server error.
    company_menu(b, "Company Integrations", "/company/integrations").await;
    b.click_text("Pivotal Tracker").await;
    b.expect_path("/company/integrations/pivotal").await;
    b.fill("api_token", "sandbox-server-error").await;
    b.click_text("Turn it on").await;
    b.expect_path("/company/integrations/pivotal/connected")
        .await;
    b.click_text("My Tasks").await;
    b.expect_path("/tasks").await;
    let down = info("TB-TOOL-DOWN");
    poll(b, "My Tasks tells the tool is down", 30, || async {
        page_text(b).await.contains(down.code)
    })
    .await;
    let page = page_text(b).await;
    assert!(page.contains(down.title), "{page}");
    assert!(page.contains(down.fix), "{page}");
    assert!(
        !page.contains("Reconnect"),
        "a tool that is down needs no reconnect"
    );
    b.screenshot("sync-11-tool-down").await;

    // The code leads to its entry in the error catalogue.
    b.click_css("a[href='/help/errors#TB-TOOL-DOWN']").await;
    b.expect_path("/help/errors").await;
    assert_eq!(
        b.client.current_url().await.unwrap().fragment(),
        Some("TB-TOOL-DOWN")
    );
    let entry: Vec<Value> = serde_json::from_value(
        js(
            b,
            "const t = document.querySelector(':target'); const r = t.getBoundingClientRect();
             return [t.id, getComputedStyle(t).backgroundColor, r.top >= -1 && r.bottom <= innerHeight + 1, t.innerText, [r.top, r.bottom, innerHeight, scrollY]];",
        )
        .await,
    )
    .unwrap();
    assert_eq!(entry[0], "TB-TOOL-DOWN");
    let background = entry[1].as_str().unwrap();
    assert!(
        background != "rgba(0, 0, 0, 0)" && background != "transparent",
        "the entry is highlighted: {background}"
    );
    assert_eq!(
        entry[2], true,
        "the entry is scrolled into view: {:?}",
        entry[4]
    );
    let text = entry[3].as_str().unwrap();
    for part in [down.title, down.cause, down.fix] {
        assert!(text.contains(part), "{part:?} in {text:?}");
    }
    b.screenshot("sync-12-error-catalogue-entry").await;

    // Basecamp, as a person whose access was revoked in the tool.
    company_menu(b, "Company Integrations", "/company/integrations").await;
    b.click_text("Basecamp").await;
    b.expect_path("/company/integrations/basecamp").await;
    b.click_text("Turn it on").await;
    at_sandbox(b, "Basecamp", "Revoked Rita", "Allow", "sync-13").await;
    b.expect_path("/company/integrations/basecamp/connected")
        .await;
    b.click_text("My Tasks").await;
    b.expect_path("/tasks").await;
    let revoked = info("TB-AUTH-REVOKED");
    poll(b, "My Tasks asks to reconnect Basecamp", 20, || async {
        js(
            b,
            "return [...document.querySelectorAll('.tool-state.broken')].some(s =>
                s.querySelector('strong').textContent.trim() === 'Basecamp'
                && [...s.querySelectorAll('a, button')].some(a => a.textContent.trim() === 'Reconnect'))",
        )
        .await
            == true
    })
    .await;
    let page = page_text(b).await;
    for part in [revoked.code, revoked.title, revoked.fix] {
        assert!(page.contains(part), "{part:?}:\n{page}");
    }
    assert!(page.contains(down.code), "Pivotal's problem is still told");
    assert_eq!(
        b.attr(".tool-state.broken form", "action").await.as_deref(),
        Some("/integrations/basecamp/on"),
        "Reconnect starts Basecamp's sign-in again"
    );
    b.screenshot("sync-14-reconnect").await;

    // The company menu's Integration Health.
    company_menu(b, "Integration Health", "/company/health").await;
    let row = |tool: &str| {
        format!(
            "//section[h2[starts-with(normalize-space(), '{tool}')]]//tr[td[contains(., 'olivia@acme.test')]]"
        )
    };
    let basecamp_row = b
        .client
        .find(Locator::XPath(&row("Basecamp")))
        .await
        .expect("Olivia's Basecamp row")
        .text()
        .await
        .unwrap();
    assert!(basecamp_row.contains("Needs attention"), "{basecamp_row}");
    assert!(basecamp_row.contains(revoked.code), "{basecamp_row}");
    let pivotal_row = b
        .client
        .find(Locator::XPath(&row("Pivotal Tracker")))
        .await
        .expect("Olivia's Pivotal Tracker row")
        .text()
        .await
        .unwrap();
    assert!(pivotal_row.contains("On"), "{pivotal_row}");
    assert!(pivotal_row.contains(down.code), "{pivotal_row}");
    b.screenshot("sync-15-integration-health").await;

    // Its sync history shows the failed run.
    b.client
        .find(Locator::XPath(&format!(
            "{}//a[normalize-space()='Sync history']",
            row("Basecamp")
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    poll(b, "on a sync history page", 10, || async {
        b.path().await.starts_with("/company/health/connections/")
            && page_text(b).await.contains("Sync history")
    })
    .await;
    let history = page_text(b).await;
    assert!(
        history.contains("Sync history: Basecamp, Olivia Owner"),
        "{history}"
    );
    let runs: Vec<Vec<String>> = serde_json::from_value(
        js(
            b,
            "return [...document.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => c.innerText.trim()))",
        )
        .await,
    )
    .unwrap();
    assert!(
        runs.iter()
            .any(|r| r[2] == "Failed" && r[7].contains(revoked.code)),
        "a failed run with its code: {runs:?}"
    );
    b.screenshot("sync-16-sync-history").await;

    // "Reconnect" on My Tasks goes straight to Basecamp's sign-in.
    b.click_text("My Tasks").await;
    b.expect_path("/tasks").await;
    b.click_text("Reconnect").await;
    b.expect_path("/sandbox/basecamp/launchpad/authorization/new")
        .await;
    assert!(page_text(b).await.contains("Basecamp"));
    b.screenshot("sync-17-reconnect-signs-in-again").await;
    browser.close().await;
}

#[tokio::test]
async fn github_issues_and_pull_requests_show_by_repository_labelled() {
    let Some(browser) = driver::open().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let base = app.address.clone();
    let b = &browser;
    sign_up(b, &base, "Acme Widgets", "Olivia Owner", "olivia@acme.test").await;
    company_menu(b, "Company Integrations", "/company/integrations").await;
    b.click_text("GitHub").await;
    b.expect_path("/company/integrations/github").await;
    b.click_text("Turn it on").await;
    at_sandbox(b, "GitHub", "Jane Doe", "Allow", "gh-01").await;
    b.expect_path("/company/integrations/github/connected")
        .await;
    assert!(b.text().await.contains("GitHub is now ON"));
    b.click_text("My Tasks").await;
    b.expect_path("/tasks").await;
    let jane = sandbox_open_tasks(&base, "github", "jane@acme.test").await;
    let expected = sorted_titles(&jane);
    poll(
        b,
        "Jane's GitHub issues and pull requests show",
        30,
        || async { titles(b).await == expected },
    )
    .await;
    for (tool, heading, _) in groups(b).await {
        assert_eq!(tool, "GitHub");
        assert!(heading.contains("acme/"), "the repository heads: {heading}");
    }
    let pills: Vec<String> = serde_json::from_value(
        js(
            b,
            "return [...document.querySelectorAll('.task-status .pill')].map(p => p.textContent.trim())",
        )
        .await,
    )
    .unwrap();
    let pulls = jane.iter().filter(|t| t["pull_request"] == true).count();
    assert_eq!(
        pills.iter().filter(|p| *p == "pull request").count(),
        pulls,
        "{pills:?}"
    );
    assert_eq!(
        pills.iter().filter(|p| *p == "open").count(),
        jane.len() - pulls
    );
    b.screenshot("gh-03-my-tasks").await;
}
