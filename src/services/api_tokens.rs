//! Personal API tokens: made on the "API tokens" page, shown once, kept as a hash,
//! and turned back into the person on every API request.

use crate::auth::{CurrentUser, Stamps};
use crate::crypto::{random_token, sha256_hex};
use crate::db::{self, now, DbConn, Pool};
use crate::domain::{parse_name, Role};
use crate::error::AppError;
use crate::models::api_token::{self, ApiToken};
use crate::models::audit;
use crate::services::time::{Days, Person};

/// What every personal token starts with, so that secret scanners and people can tell
/// one when they see it.
pub const PREFIX: &str = "tb_";

/// A token's use is noted at most this often: one write a minute, not one a request.
pub const TOUCH_EVERY_SECS: i64 = 60;

/// Checks a token's name: what the page says when it is not one.
pub fn parse_token_name(raw: &str) -> Result<String, String> {
    parse_name(raw, "a name for the token")
}

/// Makes a token named `name` (checked by [`parse_token_name`]) for the person;
/// answers the token itself, the only time it is ever seen.
pub async fn create(
    pool: &Pool,
    person: &CurrentUser,
    name: String,
    ip: String,
) -> Result<String, AppError> {
    let (company_id, user_id) = (person.company_id.0, person.id.0);
    let token = format!("{PREFIX}{}", random_token());
    let hash = sha256_hex(&token);
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let id = api_token::insert(conn, company_id, user_id, &name, &hash, now())?;
            let detail = format!("token {id} \u{201c}{name}\u{201d}");
            audit::record(
                conn,
                Some(company_id),
                Some(user_id),
                audit::Action::ApiTokenCreated,
                &detail,
                Some(&ip),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(token)
}

pub async fn list(pool: &Pool, person: &CurrentUser) -> Result<Vec<ApiToken>, AppError> {
    let user_id = person.id.0;
    db::run(pool, move |conn| Ok(api_token::for_user(conn, user_id)?)).await
}

/// Revokes one of the person's tokens at once; another person's id is not found.
pub async fn revoke(
    pool: &Pool,
    person: &CurrentUser,
    id: i64,
    ip: String,
) -> Result<(), AppError> {
    let (company_id, user_id) = (person.company_id.0, person.id.0);
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            if api_token::revoke(conn, user_id, id, now())? == 0 {
                return Err(AppError::NotFound);
            }
            audit::record(
                conn,
                Some(company_id),
                Some(user_id),
                audit::Action::ApiTokenRevoked,
                &format!("token {id}"),
                Some(&ip),
            )?;
            Ok(())
        })
    })
    .await
}

/// The person a bearer token acts for.
#[derive(Debug, Clone)]
pub struct ApiPerson {
    pub person: Person,
    pub token_id: i64,
    pub name: String,
    pub email: String,
    pub company_name: String,
    pub time_zone: String,
    /// The stamps of the person's tasks and time, read with the token.
    pub stamps: Stamps,
}

/// The person behind a presented token, or `None` for a missing, unknown or revoked
/// token or a disabled person.
pub async fn authenticate(pool: &Pool, presented: &str) -> Result<Option<ApiPerson>, AppError> {
    let presented = presented.to_owned();
    db::run(pool, move |conn| authenticate_in(conn, &presented)).await
}

/// [`authenticate`] inside a trip to the database the caller is making anyway, so a
/// request that reads more (the task list) costs one trip, not two.
pub fn authenticate_in(conn: &mut DbConn, presented: &str) -> Result<Option<ApiPerson>, AppError> {
    if !presented.starts_with(PREFIX) || presented.len() > 100 {
        return Ok(None);
    }
    let hash = sha256_hex(presented);
    let Some(b) = api_token::bearer(conn, &hash)? else {
        return Ok(None);
    };
    let at = now();
    if b.last_used_at.is_none_or(|t| at - t >= TOUCH_EVERY_SECS) {
        api_token::touch(conn, b.token_id, at, TOUCH_EVERY_SECS)?;
    }
    let role = Role::parse(&b.role).map_err(|e| anyhow::anyhow!("stored role: {e}"))?;
    let time_zone = b.own_time_zone.unwrap_or(b.company_time_zone);
    Ok(Some(ApiPerson {
        person: Person {
            company_id: b.company_id,
            user_id: b.user_id,
            role,
            days: Days::new(&time_zone, &b.week_start),
        },
        token_id: b.token_id,
        name: b.name,
        email: b.email,
        company_name: b.company_name,
        time_zone,
        stamps: Stamps {
            tasks: b.tasks_stamp,
            time: b.time_stamp,
        },
    }))
}
