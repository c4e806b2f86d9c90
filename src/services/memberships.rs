//! A person's companies: switching to another they are active in, and starting a new
//! one of their own. Each is a place (a `users` row) of the same login.

use crate::auth::CurrentUser;
use crate::db::{self, Pool};
use crate::domain::{CompanyId, Role, UserId};
use crate::error::AppError;
use crate::models::{audit, company, login, user};

/// The person's place in `company`, which their next sign-in lands in too. A company
/// they are not active in is not found (and nothing changes).
pub async fn switch(
    pool: &Pool,
    person: &CurrentUser,
    company: CompanyId,
    ip: String,
) -> Result<UserId, AppError> {
    let (login_id, email) = (person.login_id, person.email.clone());
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let target = user::of_login_in(conn, login_id, company.0)?
                .filter(|u| !u.disabled)
                .ok_or(AppError::NotFound)?;
            login::set_last_user(conn, login_id, target.id)?;
            let action = audit::Action::CompanySwitched;
            let (company, actor) = (Some(target.company_id), Some(target.id));
            audit::record(conn, company, actor, action, &email, Some(&ip))?;
            Ok(UserId(target.id))
        })
    })
    .await
}

/// The logo of a company the person is active in; any other is not found.
pub async fn logo(
    pool: &Pool,
    person: &CurrentUser,
    company: CompanyId,
) -> Result<(Vec<u8>, String), AppError> {
    let login_id = person.login_id;
    db::run(pool, move |conn| {
        let active = user::of_login_in(conn, login_id, company.0)?.filter(|u| !u.disabled);
        if active.is_none() {
            return Err(AppError::NotFound);
        }
        company::logo(conn, company)?.ok_or(AppError::NotFound)
    })
    .await
}

/// "Add a company": a new company with the person as its owner (under the name they
/// have where they are now), used from now on.
pub async fn add_company(
    pool: &Pool,
    person: &CurrentUser,
    company_name: String,
    ip: String,
) -> Result<UserId, AppError> {
    let (login_id, name, email) = (person.login_id, person.name.clone(), person.email.clone());
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let company_id = company::create(conn, &company_name)?;
            let id = user::create(conn, company_id, login_id, &name, Role::Owner)?;
            login::set_last_user(conn, login_id, id)?;
            let detail = format!("{email} created {company_name}");
            let action = audit::Action::SignUp;
            audit::record(conn, Some(company_id), Some(id), action, &detail, Some(&ip))?;
            Ok(UserId(id))
        })
    })
    .await
}
