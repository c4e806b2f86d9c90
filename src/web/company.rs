//! The company's settings: its name and logo.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use futures_util::StreamExt;
use serde::Deserialize;

use crate::auth::{csrf, CompanyManager, CurrentUser};
use crate::db::{self, Pool};
use crate::domain::parse_name;
use crate::error::{AppError, AppResult};
use crate::models::company;
use crate::urls;
use crate::web::shell::{Action, Nav, Page, Shell};
use crate::web::{render, render_status, see_other};

pub const MAX_LOGO_BYTES: usize = 1024 * 1024;

#[derive(Template)]
#[template(path = "company_settings.html")]
pub struct SettingsPage {
    pub shell: Shell,
    pub name: String,
    pub can_edit: bool,
    pub error: Option<String>,
    pub time_zone: String,
    pub week_start: String,
    pub zones: Vec<String>,
    pub week_starts: &'static [(&'static str, &'static str)],
}

impl SettingsPage {
    fn new(user: &CurrentUser, shell: Shell, name: String, error: Option<String>) -> Self {
        let can_edit = user.role.manages_company();
        Self {
            shell,
            name,
            can_edit,
            error,
            time_zone: user.company_time_zone.clone(),
            week_start: user.week_start.clone(),
            zones: if can_edit {
                crate::days::zone_names()
            } else {
                Vec::new()
            },
            week_starts: &crate::days::WEEK_STARTS,
        }
    }
}

pub async fn settings(page: Page) -> AppResult<HttpResponse> {
    let shell = page.shell(Nav::CompanySettings);
    render(&SettingsPage::new(
        &page.user,
        shell,
        page.user.company_name.clone(),
        None,
    ))
}

#[derive(Deserialize)]
pub struct NameForm {
    name: String,
}

pub async fn save_settings(
    page: Page<CompanyManager>,
    pool: web::Data<Pool>,
    form: web::Form<NameForm>,
) -> AppResult<HttpResponse> {
    let name = match parse_name(&form.name, "the company's name") {
        Ok(name) => name,
        Err(e) => {
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SettingsPage::new(
                    &page.user,
                    page.shell(Nav::CompanySettings),
                    form.name.clone(),
                    Some(e),
                ),
            )
        }
    };
    crate::services::company::rename(&pool, &page.user, name, page.ip.clone()).await?;
    page.success("Company settings saved.");
    Ok(see_other(urls::COMPANY_SETTINGS))
}

pub async fn upload_logo(
    act: Action<CompanyManager>,
    pool: web::Data<Pool>,
    mut payload: Multipart,
) -> AppResult<HttpResponse> {
    let mut token = None;
    let mut image: Option<Vec<u8>> = None;
    let mut too_big = false;
    while let Some(field) = payload.next().await {
        let mut field = field
            .map_err(|_| AppError::BadRequest("The upload was interrupted. Try again.".into()))?;
        let name = field.name().unwrap_or_default().to_owned();
        let mut data = Vec::new();
        let mut over = false;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| {
                AppError::BadRequest("The upload was interrupted. Try again.".into())
            })?;
            // Past the limit, keep reading (to reach the other fields) but keep nothing.
            if over || data.len() + chunk.len() > MAX_LOGO_BYTES {
                over = true;
                data.clear();
                continue;
            }
            data.extend_from_slice(&chunk);
        }
        match name.as_str() {
            csrf::FIELD if !over => token = Some(String::from_utf8_lossy(&data).into_owned()),
            "logo" if over => too_big = true,
            "logo" => image = Some(data),
            _ => {}
        }
    }
    csrf::verify(&act.session, token.as_deref().unwrap_or_default())?;
    let bytes = match image {
        _ if too_big => Err("That image is larger than 1 MB. Choose a smaller PNG or JPEG."),
        None => Err("Choose a PNG or JPEG image to upload."),
        Some(bytes) if bytes.is_empty() => Err("Choose a PNG or JPEG image to upload."),
        Some(bytes) => Ok(bytes),
    };
    let outcome = match bytes {
        Ok(bytes) => crate::services::company::upload_logo(&pool, &act.user, bytes)
            .await?
            .map_err(|refusal| refusal.to_string()),
        Err(problem) => Err(problem.to_owned()),
    };
    match outcome {
        Ok(()) => act.success("Logo updated."),
        Err(problem) => act.error(problem),
    }
    Ok(see_other(urls::COMPANY_SETTINGS))
}

pub async fn remove_logo(
    act: Action<CompanyManager>,
    pool: web::Data<Pool>,
) -> AppResult<HttpResponse> {
    crate::services::company::set_logo(&pool, &act.user, None).await?;
    act.success("Logo removed; your company's initials are shown instead.");
    Ok(see_other(urls::COMPANY_SETTINGS))
}

pub async fn logo(user: CurrentUser, pool: web::Data<Pool>) -> AppResult<HttpResponse> {
    let company_id = user.company_id;
    let found = db::run(&pool, move |conn| Ok(company::logo(conn, company_id)?)).await?;
    let (bytes, mime) = found.ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header(("Cache-Control", "private, max-age=60"))
        .body(bytes))
}
