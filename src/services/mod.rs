//! Use cases shared by the web handlers and the command line.

pub mod account;
pub mod api_tokens;
pub mod company;
pub mod credentials;
pub mod integrations;
pub mod logo;
pub mod mail;
pub mod memberships;
pub mod oauth_flow;
pub mod people;
pub mod reports;
pub mod sign_up;
pub mod sync_now;
pub mod time;
pub mod tools;

use crate::auth::password;
use crate::db::{self, Pool};
use crate::domain::{parse_name, Email, Role};
use crate::error::AppError;
use crate::models::{self, audit, login, user};

/// Creates a company and its owner; refuses bad input with a message naming it.
pub async fn create_company(
    pool: &Pool,
    company_name: &str,
    owner_name: &str,
    email: &str,
    secret: &str,
) -> Result<i64, String> {
    let company_name = parse_name(company_name, "the company's name")?;
    let owner_name = parse_name(owner_name, "the owner's name")?;
    let email = Email::parse(email)?;
    password::validate(
        secret,
        &password::PasswordFor {
            email: email.as_str(),
            name: &owner_name,
            company: &company_name,
        },
    )?;
    let secret = secret.to_owned();
    let hash = password::hash_off_executor(secret)
        .await
        .map_err(|e| e.to_string())?;
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            if login::email_taken(conn, email.as_str())? {
                return Err(AppError::BadRequest(format!(
                    "{email} already has an account"
                )));
            }
            let company_id = models::company::create(conn, &company_name)?;
            let login_id = login::create(conn, email.as_str(), &hash, true)?;
            let user_id = user::create(conn, company_id, login_id, &owner_name, Role::Owner)?;
            login::set_last_user(conn, login_id, user_id)?;
            audit::record(
                conn,
                Some(company_id),
                Some(user_id),
                audit::Action::SignUp,
                "created from the command line",
                None,
            )?;
            Ok(company_id)
        })
    })
    .await
    .map_err(|e| e.to_string())
}
