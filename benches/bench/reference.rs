//! The reference page: the ceiling My Tasks is measured against. The same stack
//! (actix-web, askama, diesel through taskbridge's own pool and `db::run`) and the same
//! query (`models::task::page`, the very function My Tasks calls, so the same count and
//! the same 50 rows), but no session, no CSRF, no layout: one bare list.

use std::process::Command;

use actix_web::{web, App, HttpResponse, HttpServer};
use askama::Template;
use taskbridge::db::{self, Pool};
use taskbridge::models::task::{self, Filter, TaskRow};

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
        })
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })?;
    Ok(())
}
