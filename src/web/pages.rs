//! The home redirect and the notifications page.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::auth::CurrentUser;
use crate::db::{self, Pool};
use crate::error::AppResult;
use crate::models::notification;
use crate::urls;
use crate::web::shell::{Nav, Page, Shell};
use crate::web::{render, see_other};

pub async fn home(req: HttpRequest) -> HttpResponse {
    use actix_web::FromRequest;
    if CurrentUser::extract(&req).await.is_ok() {
        see_other(urls::MY_TASKS)
    } else {
        see_other(urls::LOG_IN)
    }
}

pub struct NoticeRow {
    pub message: String,
    pub link: Option<String>,
    pub unread: bool,
    pub when: String,
}

#[derive(Template)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    pub shell: Shell,
    pub notices: Vec<NoticeRow>,
}

pub async fn notifications(page: Page, pool: web::Data<Pool>) -> AppResult<HttpResponse> {
    let user_id = page.user.id;
    // Opening the page reads them; the list still marks which were new.
    let rows = db::run(&pool, move |conn| {
        let rows = notification::recent(conn, user_id)?;
        notification::mark_all_read(conn, user_id)?;
        Ok(rows)
    })
    .await?;
    render(&NotificationsPage {
        shell: page.shell(Nav::Notifications),
        notices: rows
            .into_iter()
            .map(|n| NoticeRow {
                unread: n.read_at.is_none(),
                when: crate::web::format::timestamp(n.created_at),
                message: n.message,
                link: n.link,
            })
            .collect(),
    })
}

pub async fn notifications_read(
    user: CurrentUser,
    pool: web::Data<Pool>,
) -> AppResult<HttpResponse> {
    let user_id = user.id;
    db::run(&pool, move |conn| {
        Ok(notification::mark_all_read(conn, user_id)?)
    })
    .await?;
    Ok(see_other(urls::NOTIFICATIONS))
}
