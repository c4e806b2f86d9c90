//! "API tokens": a person's personal tokens for desktop clients.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::Pool;
use crate::error::AppResult;
use crate::models::api_token::ApiToken;
use crate::services::api_tokens;
use crate::urls;
use crate::web::confirm::{self, Confirmation, Question};
use crate::web::format::timestamp;
use crate::web::shell::{Action, Nav, Page, Shell};
use crate::web::{render, render_status, see_other};

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub created: String,
    pub last_used: String,
    pub revoked: Option<String>,
    pub revoke: String,
}

impl From<ApiToken> for TokenRow {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id,
            revoke: urls::api_token_revoke(t.id),
            name: t.name,
            created: timestamp(t.created_at),
            last_used: t
                .last_used_at
                .map(timestamp)
                .unwrap_or_else(|| "Never".into()),
            revoked: t.revoked_at.map(timestamp),
        }
    }
}

#[derive(Template)]
#[template(path = "api_tokens.html")]
pub struct ApiTokensPage {
    pub shell: Shell,
    pub tokens: Vec<TokenRow>,
    /// The token just made: shown this once.
    pub new_token: Option<String>,
    pub new_name: String,
    pub name: String,
    pub error: Option<String>,
}

async fn tokens_page(
    page: &Page,
    pool: &Pool,
    outcome: (Option<String>, String, Option<String>),
) -> AppResult<ApiTokensPage> {
    let tokens = api_tokens::list(pool, &page.user).await?;
    let (new_token, name, error) = outcome;
    Ok(ApiTokensPage {
        shell: page.shell(Nav::ApiTokens),
        tokens: tokens.into_iter().map(TokenRow::from).collect(),
        new_name: if new_token.is_some() {
            name.clone()
        } else {
            String::new()
        },
        name: if new_token.is_some() {
            String::new()
        } else {
            name
        },
        new_token,
        error,
    })
}

pub async fn list(page: Page, pool: web::Data<Pool>) -> AppResult<HttpResponse> {
    render(&tokens_page(&page, &pool, (None, String::new(), None)).await?)
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
}

/// "Create token": the page again, with the token shown once.
pub async fn create(
    page: Page,
    pool: web::Data<Pool>,
    form: web::Form<CreateForm>,
) -> AppResult<HttpResponse> {
    let raw = form.into_inner().name;
    let name = match api_tokens::parse_token_name(&raw) {
        Ok(name) => name,
        Err(message) => {
            let shown = tokens_page(&page, &pool, (None, raw, Some(message))).await?;
            return render_status(actix_web::http::StatusCode::BAD_REQUEST, &shown);
        }
    };
    let token = api_tokens::create(&pool, &page.user, name.clone(), page.ip.clone()).await?;
    render(&tokens_page(&page, &pool, (Some(token), name, None)).await?)
}

/// "Revoke": the token stops working at once.
pub async fn revoke(
    act: Action,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
    form: web::Form<Confirmation>,
) -> AppResult<HttpResponse> {
    if !form.given() {
        let question = Question {
            title: "Revoke this token?".into(),
            message: "Desktop clients using it stop working at once and need a new token.".into(),
            action: urls::api_token_revoke(path.into_inner()),
            button: "Revoke",
            back: urls::API_TOKENS.to_owned(),
        };
        return confirm::ask(&act, Nav::ApiTokens, question);
    }
    let ip = act.ip.clone();
    api_tokens::revoke(&pool, &act.user, path.into_inner(), ip).await?;
    act.success("Token revoked. Clients using it are signed out at once.");
    Ok(see_other(urls::API_TOKENS))
}
