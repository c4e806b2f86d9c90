//! The HTTP side: one route table, thin handlers grouped by feature.

pub mod account;
pub mod api_tokens;
pub mod assets;
pub mod companies;
pub mod company;
pub mod confirm;
pub mod flash;
pub mod format;
pub mod health;
pub mod health_pages;
pub mod integrations;
pub mod outbox;
pub mod pages;
pub mod password;
pub mod people;
pub mod profile;
pub mod reports;
pub mod shell;
pub mod tasks;
pub mod time;
pub mod verification;

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::error::AppResult;
use crate::urls;

/// The whole route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::HEALTHZ, web::get().to(health::healthz))
        .route(urls::STATIC_ROUTE, web::get().to(assets::serve))
        .route(urls::HOME, web::get().to(pages::home))
        .service(
            web::resource(urls::SIGN_UP)
                .route(web::get().to(account::sign_up_form))
                .route(web::post().to(account::sign_up)),
        )
        .service(
            web::resource(urls::LOG_IN)
                .route(web::get().to(account::log_in_form))
                .route(web::post().to(account::log_in)),
        )
        .route(urls::LOG_OUT, web::post().to(account::log_out))
        .route(urls::SIGN_UP_VERIFY, web::get().to(verification::verify))
        .route(urls::SIGN_UP_RESEND, web::post().to(verification::resend))
        .service(
            web::resource(urls::PASSWORD_FORGOT)
                .route(web::get().to(password::forgot_form))
                .route(web::post().to(password::forgot)),
        )
        .service(
            web::resource(urls::PASSWORD_RESET)
                .route(web::get().to(password::reset_form))
                .route(web::post().to(password::reset)),
        )
        .route(
            urls::INVITE_LOG_IN_ROUTE,
            web::get().to(people::log_in_to_accept),
        )
        .service(
            web::resource(urls::INVITE_ROUTE)
                .route(web::get().to(people::accept_form))
                .route(web::post().to(people::accept)),
        )
        .route(urls::MY_TASKS, web::get().to(tasks::my_tasks))
        .route(urls::SYNC_NOW, web::post().to(tasks::sync_now))
        .route(
            urls::CHECKLIST_DISMISS,
            web::post().to(tasks::dismiss_checklist),
        )
        .route(urls::SYNC_STATUS, web::get().to(tasks::sync_status))
        .route(urls::HELP_ERRORS, web::get().to(health_pages::catalogue))
        .route(urls::NOTIFICATIONS, web::get().to(pages::notifications))
        .route(
            urls::NOTIFICATIONS_READ,
            web::post().to(pages::notifications_read),
        )
        .route(
            urls::INTEGRATION_SETTINGS,
            web::get().to(integrations::settings_page),
        )
        .route(
            urls::PERSONAL_ON_ROUTE,
            web::post().to(integrations::personal_turn_on),
        )
        .route(
            urls::PERSONAL_OFF_ROUTE,
            web::post().to(integrations::personal_turn_off),
        )
        .route(
            urls::PERSONAL_FORGET_TOKEN_ROUTE,
            web::post().to(integrations::personal_forget_token),
        )
        .route(
            urls::PERSONAL_CONNECTED_ROUTE,
            web::get().to(integrations::personal_connected),
        )
        .route(urls::PROBLEM_ROUTE, web::get().to(integrations::problem))
        .route(
            urls::OAUTH_CALLBACK_ROUTE,
            web::get().to(integrations::callback),
        )
        .service(
            web::resource(urls::OAUTH_CHOOSE_ROUTE)
                .route(web::get().to(integrations::choose_form))
                .route(web::post().to(integrations::choose)),
        )
        .route(urls::TIMER_START, web::post().to(time::start))
        .route(urls::TIMER_STOP, web::post().to(time::stop))
        .route(urls::TIMESHEET, web::get().to(time::timesheet))
        .route(urls::TIME_ENTRIES, web::post().to(time::add))
        .route(urls::TIME_ENTRY_NEW, web::get().to(time::new_entry))
        .route(urls::ENTRY_EDIT_ROUTE, web::get().to(time::edit_form))
        .route(urls::ENTRY_ROUTE, web::post().to(time::update))
        .route(urls::ENTRY_DELETE_ROUTE, web::post().to(time::delete))
        .route(urls::ACCOUNT, web::get().to(profile::page))
        .route(
            urls::ACCOUNT_PASSWORD,
            web::post().to(profile::change_password),
        )
        .route(
            urls::ACCOUNT_END_OTHER_SESSIONS,
            web::post().to(profile::end_other_sessions),
        )
        .route(urls::SWITCH_COMPANY, web::post().to(companies::switch))
        .route(urls::ADD_COMPANY, web::get().to(companies::add_form))
        .route(urls::ADD_COMPANY, web::post().to(companies::add))
        .route(urls::MEMBER_LOGO_ROUTE, web::get().to(companies::logo))
        .route(urls::PREFERENCES, web::get().to(time::preferences))
        .route(urls::PREFERENCES, web::post().to(time::save_preferences))
        .route(
            urls::PREFERENCES_EMAIL,
            web::post().to(account::save_email_notices),
        )
        // Open to everyone signed in: the handlers choose the company report or the
        // person's own by role.
        .route(urls::REPORTS, web::get().to(reports::page))
        .route(urls::REPORTS_CSV, web::get().to(reports::csv))
        .route(urls::API_TOKENS, web::get().to(api_tokens::list))
        .route(urls::API_TOKENS, web::post().to(api_tokens::create))
        .route(
            urls::API_TOKEN_REVOKE_ROUTE,
            web::post().to(api_tokens::revoke),
        )
        .configure(company_routes);
}

/// The company menu. Every handler here takes a role extractor (`CompanyManager` or
/// `HealthViewer`), so a route cannot forget its check; `tests/api/roles.rs` walks
/// this table as a plain user.
pub fn company_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::USERS, web::get().to(people::list))
        .route(urls::INVITE_CREATE, web::post().to(people::invite))
        .route(urls::USER_ROLE_ROUTE, web::post().to(people::change_role))
        .route(urls::USER_DISABLE_ROUTE, web::post().to(people::disable))
        .route(urls::USER_ENABLE_ROUTE, web::post().to(people::enable))
        .route(
            urls::INVITE_REVOKE_ROUTE,
            web::post().to(people::revoke_invite),
        )
        .route(
            urls::INVITE_RESEND_ROUTE,
            web::post().to(people::resend_invite),
        )
        .route(urls::OUTBOX, web::get().to(outbox::page))
        .route(urls::HEALTH, web::get().to(health_pages::health))
        .route(
            urls::CONNECTION_HISTORY_ROUTE,
            web::get().to(health_pages::history),
        )
        .route(urls::COMPANY_SETTINGS, web::get().to(company::settings))
        .route(
            urls::COMPANY_SETTINGS,
            web::post().to(company::save_settings),
        )
        .route(urls::COMPANY_TIME, web::post().to(time::save_company_time))
        .route(urls::COMPANY_LOGO, web::get().to(company::logo))
        .route(urls::COMPANY_LOGO, web::post().to(company::upload_logo))
        .route(
            urls::COMPANY_LOGO_REMOVE,
            web::post().to(company::remove_logo),
        )
        .route(
            urls::COMPANY_INTEGRATIONS,
            web::get().to(integrations::company_list),
        )
        .route(
            urls::COMPANY_DETAILS_ROUTE,
            web::get().to(integrations::company_details),
        )
        .route(
            urls::COMPANY_ON_ROUTE,
            web::post().to(integrations::company_turn_on),
        )
        .route(
            urls::COMPANY_OFF_ROUTE,
            web::get().to(integrations::company_off_confirm),
        )
        .route(
            urls::COMPANY_OFF_ROUTE,
            web::post().to(integrations::company_turn_off),
        )
        .route(
            urls::COMPANY_CONNECTED_ROUTE,
            web::get().to(integrations::company_connected),
        )
        .route(
            urls::COMPANY_GITHUB_PULL_REQUESTS,
            web::post().to(integrations::company_github_pull_requests),
        );
}

/// Renders a page as an HTML response.
pub fn render(page: &impl Template) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(page.render()?))
}

/// Renders a page with a non-200 status (a form with errors, say).
pub fn render_status(
    status: actix_web::http::StatusCode,
    page: &impl Template,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(page.render()?))
}

/// 303 See Other: the answer to every successful form post.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}

/// Whether a path belongs to another party's conventions (the JSON API's problems, the
/// emulated tools' own errors) rather than to the app's pages.
fn answers_on_its_own(path: &str) -> bool {
    path.starts_with("/sandbox/")
        || path
            .strip_prefix(urls::API_SCOPE)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A form that cannot be read gets the app's own page: 413 when it is too large.
pub fn form_error(
    err: actix_web::error::UrlencodedError,
    req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::{PayloadError, UrlencodedError};
    if answers_on_its_own(req.path()) {
        return err.into();
    }
    match err {
        UrlencodedError::Overflow { .. } | UrlencodedError::Payload(PayloadError::Overflow) => {
            crate::error::AppError::PayloadTooLarge.into()
        }
        _ => crate::error::AppError::BadRequest(
            "This form could not be read. Go back, reload the page and try again.".into(),
        )
        .into(),
    }
}

/// A query string that cannot be read gets the app's own 400 page.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    req: &actix_web::HttpRequest,
) -> actix_web::Error {
    if answers_on_its_own(req.path()) {
        return err.into();
    }
    crate::error::AppError::BadRequest(
        "This link is incomplete or was changed on the way. Go back and follow it again.".into(),
    )
    .into()
}
