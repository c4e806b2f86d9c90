//! Integration health for owners, admins and managers, each connection's sync
//! history, and the error catalogue.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::HealthViewer;
use crate::catalogue::{self, ErrorInfo};
use crate::connectors::ProviderKind;
use crate::db::{self, Pool};
use crate::error::AppResult;
use crate::models::connection::{self, State};
use crate::models::sync_run::RunStatus;
use crate::models::{company_integration, sync_run, user};
use crate::web::format::timestamp;
use crate::web::render;
use crate::web::shell::{Nav, Page, Shell};

pub struct PersonHealth {
    pub name: String,
    pub email: String,
    pub connection_id: Option<i64>,
    pub state: State,
    pub account: String,
    pub last_sync: String,
    pub last_error: Option<String>,
}

pub struct ToolHealth {
    pub name: &'static str,
    pub on: bool,
    pub connected: usize,
    pub broken: usize,
    pub people: Vec<PersonHealth>,
}

#[derive(Template)]
#[template(path = "health.html")]
pub struct HealthPage {
    pub shell: Shell,
    pub tools: Vec<ToolHealth>,
}

pub async fn health(page: Page<HealthViewer>, pool: web::Data<Pool>) -> AppResult<HttpResponse> {
    let company_id = page.user.company_id;
    let (enabled, people, conns) = db::run(&pool, move |conn| {
        let enabled = company_integration::enabled_providers(conn, company_id)?;
        let people = user::list(conn, company_id)?;
        let conns = connection::for_company(conn, company_id)?;
        Ok((enabled, people, conns))
    })
    .await?;
    let now = crate::db::now();
    let tools = ProviderKind::ALL
        .into_iter()
        .map(|kind| {
            let rows: Vec<PersonHealth> = people
                .iter()
                .filter(|p| !p.disabled)
                .map(|p| {
                    let c = conns
                        .iter()
                        .find(|c| c.user_id == p.id && c.provider == kind);
                    let state = State::of(c, now);
                    PersonHealth {
                        name: p.name.clone(),
                        email: p.email.clone(),
                        connection_id: c.map(|c| c.id),
                        state,
                        account: c.map(|c| c.account_name.clone()).unwrap_or_default(),
                        last_sync: c
                            .and_then(|c| c.last_sync_at)
                            .map(timestamp)
                            .unwrap_or_else(|| "—".into()),
                        last_error: c.and_then(|c| {
                            c.last_error_code.as_ref().map(|code| {
                                format!("{} ({code})", c.last_error.clone().unwrap_or_default())
                            })
                        }),
                    }
                })
                .collect();
            ToolHealth {
                name: kind.name(),
                on: enabled.contains(&kind),
                connected: rows.iter().filter(|r| r.connection_id.is_some()).count(),
                broken: rows
                    .iter()
                    .filter(|r| r.state.needs_attention() || r.last_error.is_some())
                    .count(),
                people: rows,
            }
        })
        .collect();
    render(&HealthPage {
        shell: page.shell(Nav::Health),
        tools,
    })
}

pub struct RunRow {
    pub started: String,
    pub trigger: String,
    pub status: String,
    pub status_class: &'static str,
    pub fetched: i64,
    pub added: i64,
    pub updated: i64,
    pub archived: i64,
    pub error: Option<String>,
    pub code: Option<String>,
}

#[derive(Template)]
#[template(path = "sync_history.html")]
pub struct HistoryPage {
    pub shell: Shell,
    pub tool: &'static str,
    pub person: String,
    pub runs: Vec<RunRow>,
}

pub async fn history(
    page: Page<HealthViewer>,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (company_id, id) = (page.user.company_id, path.into_inner());
    let (connection, person, runs) = db::run(&pool, move |conn| {
        // Another company's connection is simply not found.
        let connection = connection::in_company(conn, company_id, id)?;
        let person = user::in_company(conn, company_id, connection.user_id)?;
        let runs = sync_run::runs_for(conn, id, 50)?;
        Ok((connection, person, runs))
    })
    .await?;
    let tool = connection.provider.name();
    render(&HistoryPage {
        shell: page.shell(Nav::Health),
        tool,
        person: person.name,
        runs: runs
            .into_iter()
            .map(|r| RunRow {
                started: timestamp(r.started_at),
                trigger: match r.trigger.as_str() {
                    "manual" => "Sync now".to_owned(),
                    _ => "Automatic".to_owned(),
                },
                status: match r.status {
                    RunStatus::Ok => "Completed",
                    RunStatus::Failed => "Failed",
                    RunStatus::Waiting => "Waiting (tool asked to wait)",
                    RunStatus::Running => "Running",
                    RunStatus::Interrupted => {
                        "Interrupted (stopped before the end; the next sync carries on)"
                    }
                }
                .to_owned(),
                status_class: match r.status {
                    RunStatus::Ok => "run-ok",
                    RunStatus::Failed => "run-failed",
                    RunStatus::Waiting => "run-waiting",
                    RunStatus::Running | RunStatus::Interrupted => "",
                },
                fetched: r.fetched,
                added: r.added,
                updated: r.updated,
                archived: r.archived,
                error: r.error_message,
                code: r.error_code,
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "error_catalogue.html")]
pub struct CataloguePage {
    pub shell: Shell,
    pub entries: Vec<&'static ErrorInfo>,
}

pub async fn catalogue(page: Page) -> AppResult<HttpResponse> {
    render(&CataloguePage {
        shell: page.shell(Nav::Other),
        entries: catalogue::entries().iter().collect(),
    })
}
