//! A person's companies: "Switch company" in the company menu, the logos it shows, and
//! "Add a company".

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::USER_ID;
use crate::db::Pool;
use crate::domain::{parse_name, CompanyId};
use crate::error::{AppResult, Unexpected};
use crate::services::memberships;
use crate::urls;
use crate::web::shell::{Action, Nav, Page, Shell};
use crate::web::{render, render_status, see_other};

#[derive(Deserialize)]
pub struct SwitchForm {
    company: i64,
}

/// "Switch company": this session goes on in the chosen company, on its My Tasks. A
/// company the person is not active in is 404 and the session stays where it was.
pub async fn switch(
    act: Action,
    pool: web::Data<Pool>,
    form: web::Form<SwitchForm>,
) -> AppResult<HttpResponse> {
    let company = CompanyId(form.company);
    let user_id = memberships::switch(&pool, &act.user, company, act.ip.clone()).await?;
    act.session
        .insert(USER_ID, user_id)
        .unexpected("switching the session's company")?;
    Ok(see_other(urls::MY_TASKS))
}

/// Another of the person's companies' logo, for the switcher.
pub async fn logo(
    page: Page,
    pool: web::Data<Pool>,
    path: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let company = CompanyId(path.into_inner());
    let (bytes, mime) = memberships::logo(&pool, &page.user, company).await?;
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header(("Cache-Control", "private, max-age=60"))
        .body(bytes))
}

#[derive(Template)]
#[template(path = "add_company.html")]
pub struct AddCompanyPage {
    pub shell: Shell,
    pub company_name: String,
    pub error: Option<String>,
}

pub async fn add_form(page: Page) -> AppResult<HttpResponse> {
    render(&AddCompanyPage {
        shell: page.shell(Nav::Other),
        company_name: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct AddCompanyForm {
    company_name: String,
}

/// "Add a company": a new company with the person as owner, where the session goes on.
pub async fn add(
    act: Action,
    pool: web::Data<Pool>,
    form: web::Form<AddCompanyForm>,
) -> AppResult<HttpResponse> {
    let company_name = match parse_name(&form.company_name, "the company's name") {
        Ok(name) => name,
        Err(error) => {
            return render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &AddCompanyPage {
                    shell: act.shell(Nav::Other),
                    company_name: form.company_name.clone(),
                    error: Some(error),
                },
            )
        }
    };
    let user_id =
        memberships::add_company(&pool, &act.user, company_name.clone(), act.ip.clone()).await?;
    act.session
        .insert(USER_ID, user_id)
        .unexpected("switching the session's company")?;
    act.success(format!(
        "{company_name} is created, with you as its owner. Switch between your companies in the company menu."
    ));
    Ok(see_other(urls::MY_TASKS))
}
