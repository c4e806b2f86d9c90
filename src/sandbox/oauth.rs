//! The OAuth authorization-code flow the emulated tools share: sign-in, consent, tokens.

use std::collections::HashMap;
use std::time::Instant;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use subtle::ConstantTimeEq;
use url::Url;

use super::pages::{self, esc};
use super::seed::Person;
use super::{Code, Grant, SandboxState, CODE_LIFETIME};
use crate::connectors::{Pkce, ProviderKind};

/// The authorization request's parameters, as sent to the authorize endpoint.
#[derive(Debug, Clone, Default)]
pub(super) struct AuthParams {
    fields: Vec<(String, String)>,
}

const CARRIED: [&str; 9] = [
    "response_type",
    "type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "prompt",
];

impl AuthParams {
    pub(super) fn from_map(map: &HashMap<String, String>) -> Self {
        Self {
            fields: CARRIED
                .iter()
                .filter_map(|k| map.get(*k).map(|v| (k.to_string(), v.clone())))
                .collect(),
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn hidden(&self, skip: &[&str]) -> String {
        let pairs: Vec<(&str, &str)> = self
            .fields
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        pages::hidden(&pairs)
    }

    fn forces_login(&self) -> bool {
        self.get("prompt").is_some_and(|p| {
            p.split_whitespace()
                .any(|v| v == "login" || v == "select_account")
        })
    }
}

fn cookie_name(kind: ProviderKind) -> String {
    format!("tb_sandbox_{}", kind.slug())
}

/// A problem with the request itself (shown on a page) or one to report back to the app.
enum Refusal {
    Page(String),
    Redirect(Url, &'static str, &'static str),
}

/// Checks the client and redirect URI the way a tool does before showing anything.
fn validate(state: &SandboxState, kind: ProviderKind, p: &AuthParams) -> Result<Url, Refusal> {
    if kind == ProviderKind::PivotalTracker {
        return Err(Refusal::Page(
            "Pivotal Tracker has no OAuth sign-in.".into(),
        ));
    }
    if p.get("client_id") != Some(state.client_id.as_str()) {
        return Err(Refusal::Page(
            "The app's client_id is not registered with this tool.".into(),
        ));
    }
    let redirect = p
        .get("redirect_uri")
        .and_then(|r| Url::parse(r).ok())
        .filter(|r| r.origin() == state.base.origin())
        .ok_or_else(|| {
            Refusal::Page("The redirect_uri is missing or is not registered for this app.".into())
        })?;
    let wants_code = p.get("response_type") == Some("code")
        || (kind == ProviderKind::Basecamp && p.get("type") == Some("web_server"));
    if !wants_code {
        return Err(Refusal::Redirect(
            redirect,
            "unsupported_response_type",
            "response_type must be code",
        ));
    }
    if p.get("code_challenge_method").is_some_and(|m| m != "S256") {
        return Err(Refusal::Redirect(
            redirect,
            "invalid_request",
            "only the S256 code_challenge_method is supported",
        ));
    }
    Ok(redirect)
}

fn back_to_app(mut redirect: Url, p: &AuthParams, pairs: &[(&str, &str)]) -> HttpResponse {
    {
        let mut q = redirect.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(s) = p.get("state") {
            q.append_pair("state", s);
        }
    }
    HttpResponse::Found()
        .insert_header(("Location", redirect.as_str()))
        .insert_header(("Cache-Control", "no-store"))
        .finish()
}

fn refused(state: &SandboxState, kind: ProviderKind, p: &AuthParams, r: Refusal) -> HttpResponse {
    match r {
        Refusal::Page(message) => pages::error(state, kind, &message),
        Refusal::Redirect(url, error, description) => back_to_app(
            url,
            p,
            &[("error", error), ("error_description", description)],
        ),
    }
}

fn sign_in_page(state: &SandboxState, kind: ProviderKind, p: &AuthParams) -> HttpResponse {
    let tool = state.tool(kind);
    let action = state.url(&format!("/sandbox/{}/_oauth/sign-in", kind.slug()));
    let mut body = format!(
        "<p>Choose the sample person to sign in to {} as.</p><ul class=\"people\">",
        esc(kind.name())
    );
    for person in &tool.people {
        body.push_str(&format!(
            "<li><form method=\"post\" action=\"{action}\">{hidden}\
             <input type=\"hidden\" name=\"person\" value=\"{id}\">{who}\
             <button type=\"submit\">Sign in as {name}</button></form></li>",
            action = esc(&action),
            hidden = p.hidden(&["prompt"]),
            id = esc(&person.id),
            who = pages::person_html(person),
            name = esc(&person.name()),
        ));
    }
    body.push_str("</ul>");
    pages::page(state, StatusCode::OK, "Sign in", Some(kind), &body)
}

fn consent_page(
    state: &SandboxState,
    kind: ProviderKind,
    p: &AuthParams,
    person: &Person,
) -> HttpResponse {
    let action = state.url(&format!("/sandbox/{}/_oauth/decide", kind.slug()));
    let mut switch = match Url::parse(&state.url(super::stand_in(kind).authorize)) {
        Ok(u) => u,
        Err(_) => return pages::error(state, kind, "The sandbox's address is invalid."),
    };
    {
        let mut q = switch.query_pairs_mut();
        for (k, v) in p.fields.iter().filter(|(k, _)| k != "prompt") {
            q.append_pair(k, v);
        }
        q.append_pair("prompt", "login");
    }
    let body = format!(
        "<p>Signed in as {who}</p>\
         <p><strong>taskbridge</strong> would like to read the tasks assigned to you in {tool}.</p>\
         <form method=\"post\" action=\"{action}\">{hidden}\
         <input type=\"hidden\" name=\"person\" value=\"{id}\">\
         <button class=\"primary\" type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>\
         <p><a href=\"{switch}\">Not {name}? Sign in as someone else</a></p>",
        who = pages::person_html(person),
        tool = esc(kind.name()),
        action = esc(&action),
        hidden = p.hidden(&["prompt"]),
        id = esc(&person.id),
        switch = esc(switch.as_str()),
        name = esc(&person.name()),
    );
    pages::page(state, StatusCode::OK, "Allow access?", Some(kind), &body)
}

/// `GET` on a tool's authorize endpoint: the sign-in page, or consent when already signed in.
/// The route of `kind`'s sign-in and consent page.
pub(super) fn authorize_route(kind: ProviderKind) -> actix_web::Route {
    web::get().to(
        move |state: web::Data<SandboxState>,
              req: HttpRequest,
              query: web::Query<HashMap<String, String>>| {
            authorize(kind, state, req, query)
        },
    )
}

async fn authorize(
    kind: ProviderKind,
    state: web::Data<SandboxState>,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let p = AuthParams::from_map(&query);
    if let Err(r) = validate(&state, kind, &p) {
        return refused(&state, kind, &p, r);
    }
    let signed_in = req
        .cookie(&cookie_name(kind))
        .and_then(|c| state.person(kind, c.value()));
    match signed_in {
        Some(person) if !p.forces_login() => consent_page(&state, kind, &p, &person),
        _ => sign_in_page(&state, kind, &p),
    }
}

fn form_kind(path: &str) -> Option<ProviderKind> {
    ProviderKind::from_slug(path).filter(|k| *k != ProviderKind::PivotalTracker)
}

/// What a form posted from the sign-in or consent page carries: the tool, the
/// authorization request (checked again), where to send the browser back, and the
/// person chosen; or the page to answer instead.
fn posted(
    state: &SandboxState,
    path: &str,
    form: &HashMap<String, String>,
) -> Result<(ProviderKind, AuthParams, Url, Person), Box<HttpResponse>> {
    let kind = form_kind(path).ok_or_else(|| Box::new(HttpResponse::NotFound().finish()))?;
    let p = AuthParams::from_map(form);
    let redirect = match validate(state, kind, &p) {
        Ok(r) => r,
        Err(r) => return Err(Box::new(refused(state, kind, &p, r))),
    };
    match form.get("person").and_then(|id| state.person(kind, id)) {
        Some(person) => Ok((kind, p, redirect, person)),
        None => Err(Box::new(sign_in_page(state, kind, &p))),
    }
}

/// `POST` from the sign-in page: remembers who signed in and asks for consent.
pub(super) async fn sign_in(
    state: web::Data<SandboxState>,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let (kind, p, _, person) = match posted(&state, &path, &form) {
        Ok(posted) => posted,
        Err(page) => return *page,
    };
    let mut response = consent_page(&state, kind, &p, &person);
    let cookie = Cookie::build(cookie_name(kind), person.id.clone())
        .path(format!("/sandbox/{}", kind.slug()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish();
    if response.add_cookie(&cookie).is_err() {
        return pages::error(&state, kind, "Could not remember the sign-in.");
    }
    response
}

/// `POST` from the consent page: back to the app with a code, or with `access_denied`.
pub(super) async fn decide(
    state: web::Data<SandboxState>,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let (kind, p, redirect, person) = match posted(&state, &path, &form) {
        Ok(posted) => posted,
        Err(page) => return *page,
    };
    if form.get("decision").map(String::as_str) != Some("allow") {
        return back_to_app(
            redirect,
            &p,
            &[
                ("error", "access_denied"),
                ("error_description", "end-user denied authorization"),
            ],
        );
    }
    let code = crate::crypto::random_token();
    state.lock().codes.insert(
        code.clone(),
        Code {
            kind,
            person: person.id,
            client_id: state.client_id.clone(),
            redirect_uri: redirect.to_string(),
            challenge: p.get("code_challenge").map(str::to_string),
            issued: Instant::now(),
        },
    );
    back_to_app(redirect, &p, &[("code", &code)])
}

/// A token request's parameters, from a form or a JSON body.
#[derive(Debug, Default)]
pub(super) struct TokenParams(HashMap<String, String>);

impl TokenParams {
    pub(super) fn from_form(map: HashMap<String, String>) -> Self {
        Self(map)
    }

    pub(super) fn from_json(value: &serde_json::Value) -> Self {
        let map = value
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Self(map)
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// A token endpoint refusal, in RFC 6749 §5.2 terms.
#[derive(Debug)]
pub(super) struct TokenError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: &'static str,
}

fn token_error(error: &'static str, description: &'static str) -> TokenError {
    TokenError {
        status: StatusCode::BAD_REQUEST,
        error,
        description,
    }
}

/// What a successful token request yields.
#[derive(Debug)]
pub(super) struct Issued {
    pub access_token: String,
    /// `None` where the tool does not send one (a Salesforce refresh without rotation).
    pub refresh_token: Option<String>,
    pub person: Person,
}

/// Checks the client, then runs the authorization-code or refresh grant.
pub(super) fn token(
    state: &SandboxState,
    kind: ProviderKind,
    params: &TokenParams,
) -> Result<Issued, TokenError> {
    let id_ok = params.get("client_id") == Some(state.client_id.as_str());
    let secret_ok = params
        .get("client_secret")
        .is_some_and(|s| constant_time_eq(s.as_bytes(), state.client_secret.as_bytes()));
    if !id_ok || !secret_ok {
        return Err(token_error("invalid_client", "invalid client credentials"));
    }
    let grant = params.get("grant_type").or(match params.get("type") {
        Some("web_server") => Some("authorization_code"),
        Some("refresh") => Some("refresh_token"),
        other => other,
    });
    match grant {
        Some("authorization_code") => code_grant(state, kind, params),
        Some("refresh_token") => refresh_grant(state, kind, params),
        _ => Err(token_error(
            "unsupported_grant_type",
            "grant type not supported",
        )),
    }
}

fn code_grant(
    state: &SandboxState,
    kind: ProviderKind,
    params: &TokenParams,
) -> Result<Issued, TokenError> {
    let presented = params
        .get("code")
        .ok_or_else(|| token_error("invalid_request", "code is required"))?;
    // A code works once, whatever happens next.
    let code = state
        .lock()
        .codes
        .remove(presented)
        .filter(|c| c.kind == kind && c.issued.elapsed() < CODE_LIFETIME)
        .ok_or_else(|| token_error("invalid_grant", "invalid authorization code"))?;
    if code.client_id != state.client_id {
        return Err(token_error("invalid_grant", "invalid authorization code"));
    }
    // Intellinote's own samples send no redirect_uri; where one is sent it must match.
    match params.get("redirect_uri") {
        Some(r) if r == code.redirect_uri => {}
        None if kind == ProviderKind::Intellinote => {}
        _ => return Err(token_error("invalid_grant", "redirect_uri mismatch")),
    }
    if let Some(challenge) = &code.challenge {
        let Some(verifier) = params.get("code_verifier") else {
            return Err(token_error("invalid_grant", "code_verifier is required"));
        };
        if !constant_time_eq(
            Pkce::challenge_for(verifier).as_bytes(),
            challenge.as_bytes(),
        ) {
            return Err(match kind {
                ProviderKind::Salesforce => token_error("invalid_request", "invalid code verifier"),
                _ => token_error(
                    "invalid_grant",
                    "code_verifier does not match the code_challenge",
                ),
            });
        }
    }
    let person = state
        .person(kind, &code.person)
        .ok_or_else(|| token_error("invalid_grant", "user no longer exists"))?;
    let expired = person.behaviour == super::Behaviour::Expired;
    let (access_token, refresh_token) = state.issue(kind, &person.id, expired);
    Ok(Issued {
        access_token,
        refresh_token: Some(refresh_token),
        person,
    })
}

fn refresh_grant(
    state: &SandboxState,
    kind: ProviderKind,
    params: &TokenParams,
) -> Result<Issued, TokenError> {
    let presented = params
        .get("refresh_token")
        .ok_or_else(|| token_error("invalid_request", "refresh_token is required"))?;
    let grant: Grant = state
        .lock()
        .refresh
        .get(presented)
        .filter(|g| g.kind == kind)
        .cloned()
        .ok_or_else(|| token_error("invalid_grant", "expired access/refresh token"))?;
    let person = state
        .person(kind, &grant.person)
        .ok_or_else(|| token_error("invalid_grant", "expired access/refresh token"))?;
    if person.behaviour == super::Behaviour::Revoked {
        state.lock().refresh.remove(presented);
        return Err(token_error("invalid_grant", "expired access/refresh token"));
    }
    let (access_token, rotated) = state.issue(kind, &person.id, false);
    let refresh_token = match kind {
        // Launchpad and Atlassian answer a refresh with a fresh pair; the old refresh
        // token stops working.
        ProviderKind::Basecamp | ProviderKind::Jira => {
            state.lock().refresh.remove(presented);
            Some(rotated)
        }
        // Intellinote answers with the same refresh token.
        ProviderKind::Intellinote => {
            state.lock().refresh.remove(&rotated);
            Some(presented.to_string())
        }
        // Salesforce without rotation, and Asana, send no refresh token; the old one keeps
        // working.
        _ => {
            state.lock().refresh.remove(&rotated);
            None
        }
    };
    Ok(Issued {
        access_token,
        refresh_token,
        person,
    })
}

/// A token endpoint's 200: `answer`, with the refresh token where one was issued, never
/// to be cached.
pub(super) fn token_answer(
    mut answer: serde_json::Value,
    refresh_token: Option<String>,
) -> HttpResponse {
    if let Some(r) = refresh_token {
        answer["refresh_token"] = serde_json::Value::from(r);
    }
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(answer)
}

/// How a tool's token endpoint takes its parameters.
#[derive(Clone, Copy)]
pub(super) enum TokenBody {
    /// `application/x-www-form-urlencoded`, as RFC 6749 has it.
    Form,
    /// A JSON object (Intellinote).
    Json,
}

/// The tool's fields of a token answer, made from what was issued.
pub(super) type TokenFields = fn(&SandboxState, &Issued) -> serde_json::Value;

/// A standard token endpoint: the grant checked and tokens issued by [`token`],
/// answered with the tool's own `fields` (plus the refresh token where one was issued),
/// or with the standard error.
pub(super) fn token_route(
    kind: ProviderKind,
    body: TokenBody,
    fields: TokenFields,
) -> actix_web::Route {
    let answer = move |state: &SandboxState, params: &TokenParams| match token(state, kind, params)
    {
        Ok(issued) => token_answer(fields(state, &issued), issued.refresh_token),
        Err(e) => token_error_response(&e),
    };
    match body {
        TokenBody::Form => web::post().to(
            move |state: web::Data<SandboxState>, form: web::Form<HashMap<String, String>>| {
                let params = TokenParams::from_form(form.into_inner());
                std::future::ready(answer(&state, &params))
            },
        ),
        TokenBody::Json => web::post().to(
            move |state: web::Data<SandboxState>, json: web::Json<serde_json::Value>| {
                std::future::ready(answer(&state, &TokenParams::from_json(&json)))
            },
        ),
    }
}

/// The standard JSON error answer of a token endpoint.
pub(super) fn token_error_response(e: &TokenError) -> HttpResponse {
    HttpResponse::build(e.status)
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({"error": e.error, "error_description": e.description}))
}

/// Compares secrets without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}
