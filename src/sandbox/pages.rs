//! The sandbox's HTML pages: plain, escaped, no scripts.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::seed::{Person, Tool};
use super::SandboxState;
use crate::connectors::ProviderKind;

/// Escapes text for HTML content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page; `body` must already be escaped HTML.
pub(super) fn page(
    state: &SandboxState,
    status: StatusCode,
    title: &str,
    tool: Option<ProviderKind>,
    body: &str,
) -> HttpResponse {
    let tool_name = tool.map(|k| k.name()).unwrap_or("Task tools");
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {tool} Sandbox</title>\
         <link rel=\"stylesheet\" href=\"{css}\"></head>\
         <body><header class=\"banner\"><strong>Sandbox</strong> · {tool} (emulated by taskbridge, sample data only)</header>\
         <main><h1>{title}</h1>{body}</main></body></html>",
        title = esc(title),
        tool = esc(tool_name),
        css = esc(&state.url("/sandbox/sandbox.css")),
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(html)
}

/// An error page for requests the tool would refuse without redirecting back.
pub(super) fn error(state: &SandboxState, tool: ProviderKind, message: &str) -> HttpResponse {
    page(
        state,
        StatusCode::BAD_REQUEST,
        "Something is wrong with this request",
        Some(tool),
        &format!("<p class=\"error\">{}</p>", esc(message)),
    )
}

pub(super) async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(CSS)
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#f6f6f4}\
.banner{background:#ffd84d;padding:.6em 1em;border-bottom:2px solid #222}\
main{max-width:46em;margin:1.5em auto;padding:0 1em}\
ul.people{list-style:none;padding:0}ul.people li{background:#fff;border:1px solid #ccc;border-radius:6px;margin:.6em 0;padding:.8em}\
.who{font-weight:600}.email{color:#555}.note{color:#666;font-size:.9em;margin:.3em 0}\
button{font-size:1em;padding:.4em 1em;border-radius:4px;border:1px solid #222;background:#fff;cursor:pointer}\
button.primary{background:#222;color:#fff}.error{color:#a00}\
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}\
code{background:#eee;padding:0 .2em}";

/// One person as listed on the sign-in and landing pages.
pub(super) fn person_html(p: &Person) -> String {
    format!(
        "<span class=\"who\">{}</span> <span class=\"email\">&lt;{}&gt;</span><p class=\"note\">{}</p>",
        esc(&p.name()),
        esc(&p.email),
        esc(p.description()),
    )
}

/// Hidden inputs carrying the authorization request from page to page.
pub(super) fn hidden(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            )
        })
        .collect()
}

pub(super) async fn index(state: web::Data<SandboxState>) -> HttpResponse {
    let mut body = String::from(
        "<p>taskbridge is running with emulated task tools. Connect an integration and sign in \
         as one of these sample people; some misbehave on purpose so every failure can be seen.</p>",
    );
    for kind in ProviderKind::ALL {
        let tool = state.tool(kind);
        body.push_str(&format!(
            "<h2>{}</h2><ul class=\"people\">",
            esc(kind.name())
        ));
        for p in &tool.people {
            let token = p
                .token
                .as_deref()
                .map(|t| format!("<p>API token: <code>{}</code></p>", esc(t)))
                .unwrap_or_default();
            body.push_str(&format!("<li>{}{token}</li>", person_html(p)));
        }
        body.push_str("</ul>");
    }
    page(&state, StatusCode::OK, "Sample accounts", None, &body)
}

/// The route of a tool's page for one task, the task's id being the path's `{id}`.
pub(super) fn task_route(kind: ProviderKind) -> actix_web::Route {
    web::get().to(move |state: web::Data<SandboxState>, req: HttpRequest| {
        let id = req.match_info().get("id").unwrap_or_default().to_owned();
        std::future::ready(task_page(&state, kind, &id))
    })
}

/// The page a task's link opens, standing in for the tool's own task page.
pub(super) fn task_page(state: &SandboxState, kind: ProviderKind, id: &str) -> HttpResponse {
    let tool: Tool = state.tool(kind);
    let Some(task) = tool.tasks.iter().find(|t| t.id == id) else {
        return page(
            state,
            StatusCode::NOT_FOUND,
            "Not found",
            Some(kind),
            "<p>There is no such task.</p>",
        );
    };
    let assignee = tool
        .person(&task.assignee)
        .map(|p| p.name())
        .unwrap_or_default();
    let project = tool
        .project(&task.project)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let due = task
        .due_on
        .map(|d| d.to_string())
        .unwrap_or_else(|| "none".into());
    let body = format!(
        "<table><tr><th>Project</th><td>{}</td></tr><tr><th>Assigned to</th><td>{}</td></tr>\
         <tr><th>Status</th><td>{}</td></tr><tr><th>Due</th><td>{}</td></tr></table>",
        esc(&project),
        esc(&assignee),
        esc(&task.status),
        esc(&due),
    );
    page(state, StatusCode::OK, &task.title, Some(kind), &body)
}
