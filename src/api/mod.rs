//! The JSON API for desktop clients under `/api/v1`: bearer tokens only (no session,
//! no cookies, no CSRF, no CORS), problem details for errors, and an OpenAPI 3.1
//! document generated from the handlers.

pub mod auth;
pub mod handlers;
pub mod problem;
pub mod rate;

use std::sync::LazyLock;

use actix_web::http::Method;
use actix_web::{web, HttpResponse, Route};
use askama::Template;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::AppResult;
use crate::urls;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "taskbridge API",
        version = "1",
        description = "For desktop clients: the person's tasks, the timer and time entries. \
            Authenticate with a personal API token (`Authorization: Bearer tb_…`) made on the \
            API tokens page. Errors are RFC 9457 problem details with a stable `code`."
    ),
    paths(
        handlers::me,
        handlers::tasks,
        handlers::timer,
        handlers::start,
        handlers::stop,
        handlers::entries,
        handlers::add_entry,
        handlers::update_entry,
        handlers::delete_entry,
        handlers::sync,
        handlers::sync_status,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tb_…")
                    .build(),
            ),
        );
        // Every authenticated route can answer 429: said once here, not on each.
        let too_many = ResponseBuilder::new()
            .description(
                "This token sent more than its rate (TB-API-RATE-LIMITED); see Retry-After",
            )
            .content(
                problem::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                op.responses
                    .responses
                    .insert("429".into(), RefOr::T(too_many.clone()));
            }
        }
    }
}

/// The API's routes, relative to [`urls::API_SCOPE`]: the scope is built from this
/// table, and a test holds the OpenAPI document to it.
pub fn table() -> Vec<(Method, &'static str, Route)> {
    use handlers as h;
    vec![
        (Method::GET, urls::API_ME, web::get().to(h::me)),
        (Method::GET, urls::API_TASKS, web::get().to(h::tasks)),
        (Method::GET, urls::API_TIMER, web::get().to(h::timer)),
        (
            Method::POST,
            urls::API_TIMER_START,
            web::post().to(h::start),
        ),
        (Method::POST, urls::API_TIMER_STOP, web::post().to(h::stop)),
        (
            Method::GET,
            urls::API_TIME_ENTRIES,
            web::get().to(h::entries),
        ),
        (
            Method::POST,
            urls::API_TIME_ENTRIES,
            web::post().to(h::add_entry),
        ),
        (
            Method::PATCH,
            urls::API_TIME_ENTRY_ROUTE,
            web::patch().to(h::update_entry),
        ),
        (
            Method::DELETE,
            urls::API_TIME_ENTRY_ROUTE,
            web::delete().to(h::delete_entry),
        ),
        (Method::POST, urls::API_SYNC, web::post().to(h::sync)),
        (Method::GET, urls::API_SYNC, web::get().to(h::sync_status)),
    ]
}

/// Every (method, full path) the API answers, but its own document.
pub fn endpoints() -> Vec<(Method, String)> {
    table()
        .into_iter()
        .map(|(method, path, _)| (method, urls::api(path)))
        .collect()
}

/// The scope, for the one route table.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut scope = web::scope(urls::API_SCOPE)
        .route(urls::API_OPENAPI, web::get().to(openapi_json))
        .default_service(web::to(problem::not_found));
    for (_, path, route) in table() {
        scope = scope.route(path, route);
    }
    cfg.service(scope)
        .route(urls::API_DOCS, web::get().to(docs));
}

static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_pretty_json().unwrap_or_default());

/// The OpenAPI 3.1 document.
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-cache"))
        .body(DOCUMENT.as_str())
}

pub struct DocEndpoint {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    pub statuses: String,
}

pub struct DocCode {
    pub code: &'static str,
    pub meaning: &'static str,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
pub struct DocsPage {
    pub endpoints: Vec<DocEndpoint>,
    pub codes: Vec<DocCode>,
    pub version: String,
}

/// The endpoints for people, read from the generated document (so it cannot drift).
pub fn doc_endpoints() -> Vec<DocEndpoint> {
    let doc = ApiDoc::openapi();
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        let operations = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PATCH", &item.patch),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ];
        for (method, op) in operations {
            let Some(op) = op else { continue };
            out.push(DocEndpoint {
                method: method.to_owned(),
                path: path.clone(),
                summary: op.summary.clone().unwrap_or_default(),
                description: op.description.clone().unwrap_or_default(),
                statuses: op
                    .responses
                    .responses
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    out
}

pub async fn docs() -> AppResult<HttpResponse> {
    crate::web::render(&DocsPage {
        endpoints: doc_endpoints(),
        codes: problem::Code::ALL
            .iter()
            .map(|c| DocCode {
                code: c.as_str(),
                meaning: c.meaning(),
            })
            .collect(),
        version: ApiDoc::openapi().info.version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_describes_every_route_of_the_scope() {
        let doc = ApiDoc::openapi();
        for (method, path) in endpoints() {
            let item = doc
                .paths
                .paths
                .get(&path)
                .unwrap_or_else(|| panic!("{path} is missing from the OpenAPI document"));
            let op = match method {
                Method::GET => &item.get,
                Method::POST => &item.post,
                Method::PATCH => &item.patch,
                Method::DELETE => &item.delete,
                _ => &item.put,
            };
            assert!(op.is_some(), "{method} {path} is missing from the document");
        }
        let described: usize = doc_endpoints().len();
        assert_eq!(described, endpoints().len(), "no operation without a route");
    }

    #[test]
    fn the_document_is_openapi_3_1() {
        let json: serde_json::Value = serde_json::from_str(&DOCUMENT).unwrap();
        assert!(json["openapi"].as_str().unwrap().starts_with("3.1"));
        assert!(json["components"]["securitySchemes"]["bearer"].is_object());
    }
}
