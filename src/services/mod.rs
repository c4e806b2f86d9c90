//! Use cases shared by the web handlers and the command line.

pub mod account;
pub mod api_tokens;
pub mod company;
pub mod credentials;
pub mod integrations;
pub mod kept;
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

/// What `create_company` made.
pub struct CreatedCompany {
    pub company_id: i64,
    /// The owner's email already had an account: the company was added to it, and its
    /// password stays as it was.
    pub joined_existing: bool,
}

/// Creates a company and its owner; refuses bad input with a message naming it. An
/// email that already has an account becomes the new company's owner with that account
/// (as "Add a company" does), and the password given is not used.
pub async fn create_company(
    pool: &Pool,
    company_name: &str,
    owner_name: &str,
    email: &str,
    secret: &str,
) -> Result<CreatedCompany, String> {
    let company_name = parse_name(company_name, "the company's name")?;
    let owner_name = parse_name(owner_name, "the owner's name")?;
    let email = Email::parse(email)?;
    let address = email.as_str().to_owned();
    let existing = db::run(pool, move |conn| Ok(login::by_email(conn, &address)?))
        .await
        .map_err(|e| e.to_string())?;
    let hash = match existing {
        Some(_) => None,
        None => {
            let person = password::PasswordFor {
                email: email.as_str(),
                name: &owner_name,
                company: &company_name,
            };
            password::validate(secret, &person)?;
            let hash = password::hash_off_executor(secret.to_owned()).await;
            Some(hash.map_err(|e| e.to_string())?)
        }
    };
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            let (login_id, joined_existing) = match (login::by_email(conn, email.as_str())?, &hash)
            {
                (Some(found), _) => (found.id, true),
                (None, Some(hash)) => (login::create(conn, email.as_str(), hash, true)?, false),
                (None, None) => {
                    return Err(AppError::BadRequest(format!(
                        "{email}'s account went away meanwhile; run the command again"
                    )))
                }
            };
            let company_id = models::company::create(conn, &company_name)?;
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
            Ok(CreatedCompany {
                company_id,
                joined_existing,
            })
        })
    })
    .await
    .map_err(|e| e.to_string())
}
