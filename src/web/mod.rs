//! The HTTP side: one route table, thin handlers grouped by feature.

pub mod account;
pub mod assets;
pub mod company;
pub mod flash;
pub mod format;
pub mod health;
pub mod health_pages;
pub mod integrations;
pub mod pages;
pub mod paths;
pub mod people;
pub mod shell;
pub mod tasks;

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::error::AppResult;

/// The whole route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::HEALTHZ, web::get().to(health::healthz))
        .route("/static/{file}", web::get().to(assets::serve))
        .route(paths::HOME, web::get().to(pages::home))
        .service(
            web::resource(paths::SIGN_UP)
                .route(web::get().to(account::sign_up_form))
                .route(web::post().to(account::sign_up)),
        )
        .service(
            web::resource(paths::LOG_IN)
                .route(web::get().to(account::log_in_form))
                .route(web::post().to(account::log_in)),
        )
        .route(paths::LOG_OUT, web::post().to(account::log_out))
        .service(
            web::resource("/invite/{token}")
                .route(web::get().to(people::accept_form))
                .route(web::post().to(people::accept)),
        )
        .route(paths::MY_TASKS, web::get().to(tasks::my_tasks))
        .route("/tasks/sync", web::post().to(tasks::sync_now))
        .route("/tasks/sync/status", web::get().to(tasks::sync_status))
        .route("/help/errors", web::get().to(health_pages::catalogue))
        .route(paths::NOTIFICATIONS, web::get().to(pages::notifications))
        .route(
            paths::NOTIFICATIONS_READ,
            web::post().to(pages::notifications_read),
        )
        .route(
            paths::INTEGRATION_SETTINGS,
            web::get().to(integrations::settings_page),
        )
        .route(
            "/integrations/{tool}/on",
            web::post().to(integrations::personal_turn_on),
        )
        .route(
            "/integrations/{tool}/off",
            web::post().to(integrations::personal_turn_off),
        )
        .route(
            "/integrations/{tool}/connected",
            web::get().to(integrations::personal_connected),
        )
        .route(
            "/integrations/{tool}/problem",
            web::get().to(integrations::problem),
        )
        .route(
            "/oauth/{tool}/callback",
            web::get().to(integrations::callback),
        )
        .service(
            web::resource("/oauth/{tool}/choose")
                .route(web::get().to(integrations::choose_form))
                .route(web::post().to(integrations::choose)),
        )
        .service(
            web::scope("/company")
                .route("/users", web::get().to(people::list))
                .route("/users/invite", web::post().to(people::invite))
                .route("/users/{id}/role", web::post().to(people::change_role))
                .route("/users/{id}/disable", web::post().to(people::disable))
                .route("/users/{id}/enable", web::post().to(people::enable))
                .route(
                    "/invites/{id}/revoke",
                    web::post().to(people::revoke_invite),
                )
                .route("/health", web::get().to(health_pages::health))
                .route(
                    "/health/connections/{id}",
                    web::get().to(health_pages::history),
                )
                .route("/settings", web::get().to(company::settings))
                .route("/settings", web::post().to(company::save_settings))
                .route("/logo", web::get().to(company::logo))
                .route("/logo", web::post().to(company::upload_logo))
                .route("/logo/remove", web::post().to(company::remove_logo))
                .route("/integrations", web::get().to(integrations::company_list))
                .route(
                    "/integrations/{tool}",
                    web::get().to(integrations::company_details),
                )
                .route(
                    "/integrations/{tool}/on",
                    web::post().to(integrations::company_turn_on),
                )
                .route(
                    "/integrations/{tool}/off",
                    web::get().to(integrations::company_off_confirm),
                )
                .route(
                    "/integrations/{tool}/off",
                    web::post().to(integrations::company_turn_off),
                )
                .route(
                    "/integrations/{tool}/connected",
                    web::get().to(integrations::company_connected),
                ),
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
