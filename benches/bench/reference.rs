//! The reference pages: the ceilings My Tasks, the Timesheet and Reports are measured
//! against. The same stack (actix-web, askama, diesel through taskbridge's own pool and
//! `db::run`) and the same reads (the very model functions the pages call, so the same
//! rows), but no session, no CSRF, no layout:
//!
//! - `/reference?user=`: `models::task::page`, My Tasks' count and 50 rows, one bare list.
//! - `/reference/timesheet?user=&week=`: `time_entry::for_person` over the person's week,
//!   the same rows as the Timesheet (one a task or note, its time per day) and the
//!   first day's entries, in a bare table.
//! - `/reference/report?user=&from=&to=`: the company's entries over the range, read
//!   in the same keyset chunks (`services::reports::for_each_chunk`), summed into the
//!   same tables as the report (by person, tool, project, task and day), bare.

use std::process::Command;

use actix_web::{web, App, HttpResponse, HttpServer};
use askama::Template;
use std::collections::BTreeMap;

use taskbridge::db::{self, Pool};
use taskbridge::models::task::{self, Filter, TaskRow};
use taskbridge::models::{time_entry, user};
use taskbridge::services::reports::{self, ReportQuery};
use taskbridge::services::time::duration::hm;
use taskbridge::services::time::{Days, Person};

use crate::proc::Child;

#[derive(Template)]
#[template(
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tasks</title></head>
<body><p>{{ total }} tasks</p>
<ul>{% for t in rows %}
<li class="task"><a href="{% if let Some(u) = t.url %}{{ u }}{% endif %}">{{ t.title }}</a> {{ t.provider }} · {{ t.project }} · {{ t.status }}{% if let Some(d) = t.due_on %} · due {{ d }}{% endif %}</li>{% endfor %}
</ul></body></html>"#,
    ext = "html"
)]
struct ReferencePage {
    total: i64,
    rows: Vec<TaskRow>,
}

#[derive(serde::Deserialize)]
struct Who {
    user: i64,
}

/// Today and a week from today as `YYYY-MM-DD`, as My Tasks computes them.
pub fn dates() -> (String, String) {
    let today = time::OffsetDateTime::now_utc().date();
    let week_end = today.saturating_add(time::Duration::days(7));
    (today.to_string(), week_end.to_string())
}

async fn page(pool: web::Data<Pool>, who: web::Query<Who>) -> HttpResponse {
    let user_id = who.user;
    let (today, week_end) = dates();
    let loaded = db::run(&pool, move |conn| {
        Ok(task::page(
            conn,
            user_id,
            &Filter::default(),
            (&today, &week_end),
            (0, 50),
        )?)
    })
    .await;
    let rendered = loaded.map_err(|e| e.to_string()).and_then(|(rows, total)| {
        ReferencePage { total, rows }
            .render()
            .map_err(|e| e.to_string())
    });
    match rendered {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => HttpResponse::InternalServerError().body(e),
    }
}

fn html(rendered: Result<String, String>) -> HttpResponse {
    match rendered {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => HttpResponse::InternalServerError().body(e),
    }
}

/// A row of a bare table: a label and a time.
struct Line {
    label: String,
    time: String,
}

#[derive(Template)]
#[template(
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Week</title></head>
<body><table class="reference-week">
{% for r in rows %}<tr><th>{{ r.0 }} · {{ r.1 }} · {{ r.2 }}</th>{% for c in r.3 %}<td>{{ c }}</td>{% endfor %}<td>{{ r.4 }}</td></tr>
{% endfor %}</table>
<ul>{% for e in day %}
<li>{{ e.label }} {{ e.time }}</li>{% endfor %}
</ul></body></html>"#,
    ext = "html"
)]
struct WeekPage {
    /// Tool, project, label, the seven days' times, the total.
    rows: Vec<(String, String, String, Vec<String>, String)>,
    day: Vec<Line>,
}

#[derive(serde::Deserialize)]
struct WeekOf {
    user: i64,
    week: String,
}

/// The person's week: `for_person`, the Timesheet's read, grouped into the same rows.
async fn timesheet(pool: web::Data<Pool>, q: web::Query<WeekOf>) -> HttpResponse {
    let q = q.into_inner();
    let loaded = db::run(&pool, move |conn| {
        let (zone, week_start) = user::days_of(conn, q.user)?;
        let days = Days::new(&zone, &week_start);
        let company_id: i64 = {
            use diesel::prelude::*;
            use taskbridge::schema::users;
            users::table
                .filter(users::id.eq(q.user))
                .select(users::company_id)
                .first(conn)?
        };
        let first = days.week_of(q.week.parse().unwrap_or_default());
        let range = days.range(first, 7);
        let entries = time_entry::for_person(conn, company_id, q.user, range)?;
        Ok((days, first, range, entries))
    })
    .await;
    let rendered = loaded
        .map_err(|e| e.to_string())
        .and_then(|(days, first, range, entries)| {
            let week = days.week(first);
            let at = db::now();
            type Key = (Option<String>, Option<String>, String, Option<i64>);
            let mut rows: BTreeMap<Key, [i64; 7]> = BTreeMap::new();
            for e in &entries {
                let key = (
                    e.provider.clone(),
                    e.project.clone(),
                    e.label().to_owned(),
                    e.task_id,
                );
                let cells = rows.entry(key).or_default();
                for (date, secs) in days.split(e.started_at, e.end_or(at)) {
                    if let Some(i) = week.iter().position(|d| *d == date) {
                        cells[i] += secs;
                    }
                }
            }
            let day_end = days.range(first, 1).1;
            WeekPage {
                rows: rows
                    .into_iter()
                    .map(|((tool, project, label, _), cells)| {
                        (
                            tool.unwrap_or_default(),
                            project.unwrap_or_default(),
                            label,
                            cells.iter().map(|s| hm(*s)).collect(),
                            hm(cells.iter().sum()),
                        )
                    })
                    .collect(),
                day: entries
                    .iter()
                    .filter(|e| e.started_at < day_end && e.end_or(at) > range.0)
                    .map(|e| Line {
                        label: e.label().to_owned(),
                        time: hm(e.seconds(at)),
                    })
                    .collect(),
            }
            .render()
            .map_err(|e| e.to_string())
        });
    html(rendered)
}

#[derive(Template)]
#[template(
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Report</title></head>
<body><p>{{ total }}</p>
{% for t in tables %}<table class="reference-report">
{% for r in t %}<tr><th>{{ r.label }}</th><td>{{ r.time }}</td></tr>
{% endfor %}</table>
{% endfor %}</body></html>"#,
    ext = "html"
)]
struct ReportPage {
    total: String,
    /// By person, tool, project, task, day.
    tables: Vec<Vec<Line>>,
}

#[derive(serde::Deserialize)]
struct Range {
    user: i64,
    from: String,
    to: String,
}

fn lines<K: std::fmt::Display>(totals: BTreeMap<K, i64>) -> Vec<Line> {
    totals
        .into_iter()
        .map(|(k, secs)| Line {
            label: k.to_string(),
            time: hm(secs),
        })
        .collect()
}

/// The company's entries over the range, read as the report reads them, summed.
async fn report(pool: web::Data<Pool>, q: web::Query<Range>) -> HttpResponse {
    let q = q.into_inner();
    let rendered = db::run(&pool, move |conn| {
        let (zone, week_start) = user::days_of(conn, q.user)?;
        let company_id: i64 = {
            use diesel::prelude::*;
            use taskbridge::schema::users;
            users::table
                .filter(users::id.eq(q.user))
                .select(users::company_id)
                .first(conn)?
        };
        let viewer = Person {
            company_id,
            user_id: q.user,
            role: taskbridge::domain::Role::Owner,
            days: Days::new(&zone, &week_start),
        };
        let query = ReportQuery {
            range: "custom".into(),
            from: q.from.clone(),
            to: q.to.clone(),
            ..ReportQuery::default()
        };
        let at = db::now();
        let (criteria, people) = reports::criteria(conn, &viewer, &query, viewer.days.date_of(at))?;
        let (from, to) = criteria.window;
        let mut person: BTreeMap<String, i64> = BTreeMap::new();
        let mut tool: BTreeMap<String, i64> = BTreeMap::new();
        let mut project: BTreeMap<String, i64> = BTreeMap::new();
        let mut task: BTreeMap<String, i64> = BTreeMap::new();
        let mut day: BTreeMap<jiff::civil::Date, i64> = BTreeMap::new();
        let mut total = 0;
        reports::for_each_chunk(conn, &criteria, |chunk| {
            for e in chunk {
                let start = e.started_at.max(from);
                let end = e.ended_at.unwrap_or(at).min(to);
                if end <= start {
                    continue;
                }
                let secs = end - start;
                total += secs;
                let name = people.get(&e.user_id).map(|p| p.0.as_str()).unwrap_or("");
                let (t, p) = (
                    e.provider.as_deref().unwrap_or(""),
                    e.project.as_deref().unwrap_or(""),
                );
                let label = e.task_title.as_deref().unwrap_or(e.note.as_str());
                *person.entry(name.to_owned()).or_default() += secs;
                *tool.entry(t.to_owned()).or_default() += secs;
                *project.entry(format!("{t} · {p}")).or_default() += secs;
                *task.entry(format!("{t} · {p} · {label}")).or_default() += secs;
                for (d, s) in viewer.days.split(start, end) {
                    *day.entry(d).or_default() += s;
                }
            }
        })?;
        Ok(ReportPage {
            total: hm(total),
            tables: vec![
                lines(person),
                lines(tool),
                lines(project),
                lines(task),
                lines(day),
            ],
        })
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|page| page.render().map_err(|e| e.to_string()));
    html(rendered)
}

/// Starts the reference server on `port` over `database_url`.
pub fn start(database_url: &str, port: u16, log: &std::path::Path) -> anyhow::Result<Child> {
    let (out, err) = crate::proc::log_to(log)?;
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("__reference")
        .arg(database_url)
        .arg(port.to_string())
        .stdout(out)
        .stderr(err);
    Child::spawn(cmd, "reference server")
}

/// The reference server's `main`.
pub fn child_main(database_url: &str, port: &str) -> anyhow::Result<()> {
    crate::proc::die_with_parent();
    let port: u16 = port.parse()?;
    let pool = db::connect(database_url).map_err(|e| anyhow::anyhow!("{e}"))?;
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(pool.clone()))
                .route("/reference", web::get().to(page))
                .route("/reference/timesheet", web::get().to(timesheet))
                .route("/reference/report", web::get().to(report))
        })
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })?;
    Ok(())
}
