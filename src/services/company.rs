//! The company's own settings: its name, logo, time zone and week start. Each change
//! is written with its audit record in one transaction.

use crate::auth::CompanyManager;
use crate::db::{self, Pool};
use crate::error::{AppError, Unexpected};
use crate::models::{audit, company};
use crate::services::logo::{self, LogoRefusal};

/// Writes a change to the company and its audit record together.
async fn audited(
    pool: &Pool,
    user: &CompanyManager,
    detail: String,
    ip: Option<String>,
    change: impl FnOnce(&mut db::DbConn, i64) -> diesel::QueryResult<()> + Send + 'static,
) -> Result<(), AppError> {
    let (company_id, actor) = (user.company_id.0, user.id.0);
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            change(conn, company_id)?;
            audit::record(
                conn,
                Some(company_id),
                Some(actor),
                audit::Action::CompanySettingsChanged,
                &detail,
                ip.as_deref(),
            )?;
            Ok(())
        })
    })
    .await
}

/// Renames the company (the name already checked by `domain::parse_name`).
pub async fn rename(
    pool: &Pool,
    user: &CompanyManager,
    name: String,
    ip: String,
) -> Result<(), AppError> {
    audited(
        pool,
        user,
        format!("name: {name}"),
        Some(ip),
        move |conn, id| company::rename(conn, id, &name),
    )
    .await
}

/// Sets the logo from an upload: decoded under limits and stored re-encoded (see
/// `services::logo`), or refused with what to do.
pub async fn upload_logo(
    pool: &Pool,
    user: &CompanyManager,
    upload: Vec<u8>,
) -> Result<Result<(), LogoRefusal>, AppError> {
    let prepared = actix_web::web::block(move || logo::prepare(&upload))
        .await
        .unexpected("decoding an uploaded logo off the executor")?;
    match prepared {
        Ok(png) => set_logo(pool, user, Some((png, logo::MIME))).await.map(Ok),
        Err(refusal) => Ok(Err(refusal)),
    }
}

/// Sets the logo (one [`upload_logo`] prepared), or removes it.
pub async fn set_logo(
    pool: &Pool,
    user: &CompanyManager,
    logo: Option<(Vec<u8>, &'static str)>,
) -> Result<(), AppError> {
    let detail = if logo.is_some() {
        "logo uploaded"
    } else {
        "logo removed"
    };
    audited(pool, user, detail.into(), None, move |conn, id| {
        company::set_logo(conn, id, logo)
    })
    .await
}

/// Sets the company's time zone and week start (both checked by the caller).
pub async fn set_days(
    pool: &Pool,
    user: &CompanyManager,
    zone: String,
    week_start: String,
) -> Result<(), AppError> {
    let detail = format!("time zone: {zone}; weeks start on {week_start}");
    audited(pool, user, detail, None, move |conn, id| {
        company::set_days(conn, id, &zone, &week_start)
    })
    .await
}
