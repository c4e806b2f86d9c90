//! What every signed-in page's layout needs: the left menu bar and the company menu.

use actix_session::Session;

use crate::auth::CurrentUser;
use crate::domain::initials;
use crate::services::time::duration::hms;
use crate::services::time::tool_name;
use crate::web::flash::{self, Flash};

/// Which item of the left menu is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    MyTasks,
    Notifications,
    CompanyIntegrations,
    IntegrationSettings,
    Users,
    CompanySettings,
    Health,
    Timesheet,
    Preferences,
    Account,
    Reports,
    ApiTokens,
    Outbox,
    Other,
}

/// The running timer as the app shell shows it on every page.
pub struct TimerView {
    pub label: String,
    pub tool: Option<&'static str>,
    /// UTC seconds, for the script that makes the elapsed time tick.
    pub started_at: i64,
    pub now: i64,
    /// As of the page load: "1:02:05".
    pub elapsed: String,
    /// "Wed 2 Dec, 09:30" in the person's zone.
    pub since: String,
    /// Running past `TASKBRIDGE_TIMER_LIMIT_HOURS`: shown as "still running since …"
    /// with a way to stop it at the right time. Never cut.
    pub over_limit: bool,
    /// The person's today, for the "stop at" form.
    pub today: String,
}

impl TimerView {
    pub fn of(user: &CurrentUser) -> Option<Self> {
        let entry = user.running.as_ref()?;
        let days = user.days();
        let now = crate::db::now();
        let elapsed = entry.seconds(now);
        Some(Self {
            label: entry.label().to_owned(),
            tool: tool_name(entry.provider.as_deref()),
            started_at: entry.started_at,
            now,
            elapsed: hms(elapsed),
            since: days.describe(entry.started_at),
            over_limit: elapsed > user.timer_limit_secs,
            today: days.date_of(now).to_string(),
        })
    }
}

pub struct Shell {
    pub user_name: String,
    pub user_email: String,
    pub role_label: &'static str,
    pub company_name: String,
    pub company_initials: String,
    pub company_has_logo: bool,
    pub manages_company: bool,
    pub sees_health: bool,
    pub csrf_token: String,
    pub unread: i64,
    /// Connections of the person's that need them (Integration Settings' badge).
    pub attention: i64,
    pub nav: Nav,
    pub flash: Option<Flash>,
    pub sandbox: bool,
    pub timer: Option<TimerView>,
    /// The person's other companies, for "Switch company".
    pub other_companies: Vec<OtherCompany>,
}

/// A company of the person's in the switcher: its name and logo (or initials).
pub struct OtherCompany {
    pub id: i64,
    pub name: String,
    pub initials: String,
    pub logo: Option<String>,
}

impl Shell {
    pub fn new(user: &CurrentUser, session: &Session, nav: Nav, sandbox: bool) -> Self {
        Self {
            user_name: user.name.clone(),
            user_email: user.email.clone(),
            role_label: user.role.label(),
            company_name: user.company_name.clone(),
            company_initials: initials(&user.company_name),
            company_has_logo: user.company_has_logo,
            manages_company: user.role.manages_company(),
            sees_health: user.role.sees_health(),
            csrf_token: user.csrf_token.clone(),
            unread: user.unread_notifications,
            attention: user.needs_attention,
            nav,
            flash: flash::take(session),
            sandbox,
            timer: TimerView::of(user),
            other_companies: user
                .other_companies
                .iter()
                .map(|m| OtherCompany {
                    id: m.company_id,
                    name: m.company_name.clone(),
                    initials: initials(&m.company_name),
                    logo: m
                        .company_logo_mime
                        .as_ref()
                        .map(|_| crate::urls::member_logo(m.company_id)),
                })
                .collect(),
        }
    }

    pub fn current(&self, nav: Nav) -> &'static str {
        if nav == self.nav {
            "page"
        } else {
            "false"
        }
    }

    pub fn in_company_menu(&self) -> bool {
        // The company report is in the company menu; a plain user's own report is not.
        (self.nav == Nav::Reports && self.sees_health)
            || matches!(
                self.nav,
                Nav::CompanyIntegrations
                    | Nav::IntegrationSettings
                    | Nav::Users
                    | Nav::CompanySettings
                    | Nav::Health
                    | Nav::Outbox
            )
    }
}

#[derive(askama::Template)]
#[template(path = "app_error.html")]
struct AppErrorPage {
    shell: Shell,
    status: u16,
    title: String,
    message: String,
}

/// Middleware: error pages for a signed-in person are shown in the app's layout, with
/// the left menu bar, instead of the signed-out one.
pub async fn errors_in_app_layout(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_session::SessionExt;
    use actix_web::FromRequest;
    use askama::Template;

    let response = next.call(req).await?.map_into_boxed_body();
    let Some(shown) = response
        .response()
        .extensions()
        .get::<crate::error::ShownError>()
        .cloned()
    else {
        return Ok(response);
    };
    let request = response.request().clone();
    let Ok(user) = CurrentUser::extract(&request).await else {
        return Ok(response);
    };
    let sandbox = request
        .app_data::<actix_web::web::Data<crate::config::Settings>>()
        .is_some_and(|s| s.sandbox);
    let status = response.status();
    let page = AppErrorPage {
        shell: Shell::new(&user, &request.get_session(), Nav::Other, sandbox),
        status: status.as_u16(),
        title: shown.title,
        message: shown.message,
    };
    let Ok(body) = page.render() else {
        return Ok(response);
    };
    let mut replaced = actix_web::HttpResponse::build(status);
    replaced
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"));
    // A 429 keeps its Retry-After inside the app's layout too.
    let retry_after = actix_web::http::header::RETRY_AFTER;
    if let Some(wait) = response.headers().get(&retry_after) {
        replaced.insert_header((retry_after, wait.clone()));
    }
    let replaced = replaced.body(body);
    Ok(response.into_response(replaced).map_into_boxed_body())
}

/// The person behind a page, whichever extractor checked their role.
pub trait Signed {
    fn current(&self) -> &CurrentUser;
}

impl Signed for CurrentUser {
    fn current(&self) -> &CurrentUser {
        self
    }
}

impl Signed for crate::auth::CompanyManager {
    fn current(&self) -> &CurrentUser {
        &self.0
    }
}

impl Signed for crate::auth::HealthViewer {
    fn current(&self) -> &CurrentUser {
        &self.0
    }
}

/// What a signed-in page needs besides its own data: the person (checked by `U`, the
/// role extractor: `Page<CompanyManager>` answers 403 to everyone else before the
/// handler runs), the session for flash messages, and whether the sandbox is on. A
/// handler takes one and builds its layout with [`Page::shell`].
pub struct Page<U = CurrentUser> {
    pub user: U,
    pub session: Session,
    /// The client's address, for the audit log.
    pub ip: String,
    sandbox: bool,
}

/// The same context for a form post that redirects: the person (checked by `U`), the
/// session for the flash message and the address for the audit log.
pub type Action<U = CurrentUser> = Page<U>;

impl<U: Signed> Page<U> {
    pub fn shell(&self, nav: Nav) -> Shell {
        Shell::new(self.user.current(), &self.session, nav, self.sandbox)
    }
}

impl<U> Page<U> {
    /// A flash message saying what was done, shown on the next page.
    pub fn success(&self, message: impl Into<String>) {
        crate::web::flash::success(&self.session, message);
    }

    /// A flash message saying why it was not done.
    pub fn error(&self, message: impl Into<String>) {
        crate::web::flash::error(&self.session, message);
    }
}

impl<U> actix_web::FromRequest for Page<U>
where
    U: actix_web::FromRequest<Error = crate::error::AppError> + 'static,
{
    type Error = crate::error::AppError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(
        req: &actix_web::HttpRequest,
        payload: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        use actix_session::SessionExt;
        let user = U::from_request(req, payload);
        let session = req.get_session();
        let ip = crate::auth::client_ip(req);
        let sandbox = req
            .app_data::<actix_web::web::Data<crate::config::Settings>>()
            .is_some_and(|s| s.sandbox);
        Box::pin(async move {
            Ok(Page {
                user: user.await?,
                session,
                ip,
                sandbox,
            })
        })
    }
}
