use std::collections::HashMap;
use std::sync::Arc;

use diesel::{Connection, RunQueryDsl};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::HeaderValue;
use reqwest::{redirect, Response, StatusCode};
use taskbridge::config::Settings;
use taskbridge::db::Pool;
use taskbridge::Application;

pub const PASSWORD: &str = "plum-kettle-orbit-42";
pub const TEST_KEY: &str = "test-secret-key-0123456789abcdef0123456789abcdef";

/// The secret key every test app runs with.
pub fn settings_for_key() -> taskbridge::config::SecretKey {
    taskbridge::config::SecretKey::from_text(TEST_KEY).unwrap()
}

/// A database for one test; dropped with it.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> Self {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("tb_test_{}", uuid_like());
                let mut conn = diesel::PgConnection::establish(&admin_url)
                    .expect("TEST_DATABASE_URL must answer");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .unwrap();
                let mut url = url::Url::parse(&admin_url).unwrap();
                url.set_path(&name);
                TestDb {
                    url: url.to_string(),
                    _dir: None,
                    pg: Some((admin_url, name)),
                }
            }
            None => {
                let dir = tempfile::tempdir().unwrap();
                let url = dir.path().join("test.db").display().to_string();
                TestDb {
                    url,
                    _dir: Some(dir),
                    pg: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

fn uuid_like() -> String {
    use rand::Rng;
    let n: u64 = rand::thread_rng().gen();
    format!("{n:016x}")
}

pub fn settings_for(db: &TestDb, extra: &[(&str, &str)]) -> Settings {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), db.url.clone()),
        ("TASKBRIDGE_BIND".into(), "127.0.0.1:0".into()),
        ("TASKBRIDGE_BASE_URL".into(), "http://127.0.0.1:0".into()),
        (
            "TASKBRIDGE_SECRET_KEY".into(),
            "test-secret-key-0123456789abcdef0123456789abcdef".into(),
        ),
    ]);
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    Settings::from_lookup(|k| vars.get(k).cloned()).unwrap()
}

pub struct TestApp {
    pub address: String,
    pub pool: Pool,
    pub settings: Settings,
    /// Kept so the database lives as long as the app.
    db: Arc<TestDb>,
}

/// A person's browser: its own cookie jar.
pub struct Client {
    pub address: String,
    pub http: reqwest::Client,
    pub jar: Arc<Jar>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(extra: &[(&str, &str)]) -> Self {
        let db = Arc::new(TestDb::new());
        let settings = settings_for(&db, extra);
        Self::start(db, settings).await
    }

    pub async fn start(db: Arc<TestDb>, settings: Settings) -> Self {
        let mut kept = settings.clone();
        let app = Application::build(settings).await.expect("the app builds");
        let port = app.port();
        let pool = app.pool().clone();
        tokio::spawn(app.run_until_stopped());
        kept.base_url.set_port(Some(port)).unwrap();
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            pool,
            settings: kept,
            db,
        }
    }

    /// Another instance of the app on the same database, as behind a load balancer.
    pub async fn second_instance(&self) -> TestApp {
        TestApp::start(self.db.clone(), settings_for(&self.db, &[])).await
    }

    pub fn client(&self) -> Client {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .cookie_provider(jar.clone())
            .build()
            .unwrap();
        Client {
            address: self.address.clone(),
            http,
            jar,
        }
    }

    /// Signs up a new company; returns the owner's signed-in client.
    pub async fn sign_up(&self, company: &str, name: &str, email: &str) -> Client {
        let client = self.client();
        let response = client
            .post_form(
                "/signup",
                "/signup",
                &[
                    ("company_name", company),
                    ("name", name),
                    ("email", email),
                    ("password", PASSWORD),
                ],
            )
            .await;
        if response.status() == StatusCode::OK {
            // With SMTP the account waits for its mailed link (tests/api/verification.rs
            // walks that); here it is confirmed directly and signed in.
            let page = response.text().await.unwrap();
            assert!(
                page.contains("Check your email"),
                "sign-up succeeds: {page}"
            );
            self.confirm_email(email);
            let response = client.log_in_as(email, PASSWORD).await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "log-in succeeds");
            return client;
        }
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-up succeeds");
        assert_eq!(location(&response), "/tasks");
        client
    }

    /// Marks the account of `email` as having confirmed its email.
    pub fn confirm_email(&self, email: &str) {
        use diesel::prelude::*;
        use taskbridge::schema::logins;
        let email = email.to_owned();
        self.query(move |conn| {
            diesel::update(logins::table.filter(logins::email.eq(email)))
                .set(logins::email_verified_at.eq(now_secs()))
                .execute(conn)
                .unwrap()
        });
    }

    /// `owner` invites `email` as `role` from the Users page; answers the invite's path.
    pub async fn invite(&self, owner: &Client, email: &str, role: &str) -> String {
        let page = owner
            .post_form(
                "/company/users",
                "/company/users/invite",
                &[("email", email), ("role", role)],
            )
            .await;
        assert_eq!(page.status(), StatusCode::OK);
        let body = page.text().await.unwrap();
        let link = extract_invite_link(&body).expect("the invite link is shown");
        link.strip_prefix(&self.address)
            .expect("link on this server")
            .to_owned()
    }

    /// Invites `email` as `role` from `owner`, accepts as a new client; returns it.
    pub async fn invite_and_accept(
        &self,
        owner: &Client,
        email: &str,
        name: &str,
        role: &str,
    ) -> Client {
        let path = self.invite(owner, email, role).await;
        let person = self.client();
        let response = person
            .post_form(&path, &path, &[("name", name), ("password", PASSWORD)])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "invite accepted");
        person
    }

    /// The SQLite file, when the test runs on SQLite.
    pub fn sqlite_path(&self) -> Option<String> {
        self.db.pg.is_none().then(|| self.db.url.clone())
    }

    pub fn query<T: Send + 'static>(&self, f: impl FnOnce(&mut taskbridge::db::DbConn) -> T) -> T {
        let mut conn = self.pool.get().unwrap();
        f(&mut conn)
    }
}

impl Client {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    /// The CSRF token from the form on `page`.
    pub async fn csrf_from(&self, page: &str) -> String {
        let (status, body) = self.get_text(page).await;
        assert!(status.is_success(), "GET {page} gave {status}");
        csrf_in(&body).unwrap_or_else(|| panic!("no csrf token on {page}"))
    }

    /// Posts a form the way a browser would: with the page's CSRF token and Origin.
    /// Disables a person of the company from the Users page, confirmed.
    pub async fn disable_person(&self, person: i64) -> Response {
        let action = format!("/company/users/{person}/disable");
        self.post_form("/company/users", &action, &[("confirmed", "yes")])
            .await
    }

    /// Posts the log-in form as a browser does.
    pub async fn log_in_as(&self, email: &str, password: &str) -> Response {
        let fields = [("email", email), ("password", password)];
        self.post_form("/login", "/login", &fields).await
    }

    pub async fn post_form(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_from(page).await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        self.http
            .post(self.url(action))
            .header("Origin", &self.address)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub fn session_cookie(&self) -> Option<String> {
        let url = url::Url::parse(&self.address).unwrap();
        self.jar
            .cookies(&url)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .and_then(|all| {
                all.split("; ")
                    .find(|c| c.starts_with(taskbridge::SESSION_COOKIE))
                    .map(str::to_owned)
            })
    }

    /// The same browser (its cookies) talking to another instance of the app.
    pub fn at(&self, app: &TestApp) -> Client {
        Client {
            address: app.address.clone(),
            http: self.http.clone(),
            jar: self.jar.clone(),
        }
    }

    /// A second browser holding a copy of this one's cookie.
    pub fn clone_cookie_into(&self, other: &Client) {
        let url = url::Url::parse(&self.address).unwrap();
        if let Some(cookie) = self.session_cookie() {
            other
                .jar
                .set_cookies(&mut [HeaderValue::from_str(&cookie).unwrap()].iter(), &url);
        }
    }
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn csrf_in(body: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')?;
    Some(body[start..start + end].to_owned())
}

pub fn extract_invite_link(body: &str) -> Option<String> {
    let marker = "id=\"invite-link\" value=\"";
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')?;
    Some(
        body[start..start + end]
            .replace("&#x2f;", "/")
            .replace("&#47;", "/"),
    )
}

/// The id of a user of the app's database, by email (their first company's, for a
/// person in several).
pub fn user_id(app: &TestApp, email: &str) -> i64 {
    use diesel::prelude::*;
    use taskbridge::schema::{logins, users};
    let email = email.to_owned();
    app.query(move |conn| {
        users::table
            .inner_join(logins::table)
            .filter(logins::email.eq(email))
            .order(users::id)
            .select(users::id)
            .first::<i64>(conn)
            .unwrap()
    })
}

/// Builder fixture: a person's Basecamp connection with open tasks, as a sync leaves
/// them. Returns the tasks' ids, in the order of `titles`.
pub fn seed_tasks(app: &TestApp, email: &str, titles: &[&str]) -> Vec<i64> {
    use diesel::prelude::*;
    use taskbridge::schema::tasks;
    let email = email.to_owned();
    let titles: Vec<String> = titles.iter().map(|t| t.to_string()).collect();
    app.query(move |conn| {
        let (user_id, company_id) = person_ids(conn, &email);
        let connection_id = seed_connection(conn, (user_id, company_id), "basecamp", &email);
        titles
            .iter()
            .enumerate()
            .map(|(i, title)| {
                diesel::insert_into(tasks::table)
                    .values((
                        tasks::connection_id.eq(connection_id),
                        tasks::user_id.eq(user_id),
                        tasks::provider.eq("basecamp"),
                        tasks::external_id.eq(format!("todo-{i}")),
                        tasks::title.eq(title),
                        tasks::status.eq("open"),
                        tasks::project.eq("Website"),
                        tasks::url.eq(format!("https://3.basecamp.com/999/todos/{i}")),
                        tasks::content_hash.eq("x"),
                        tasks::archived.eq(false),
                        tasks::seen_pass.eq(0i64),
                        tasks::created_at.eq(0i64),
                        tasks::updated_at.eq(0i64),
                    ))
                    .returning(tasks::id)
                    .get_result::<i64>(conn)
                    .unwrap()
            })
            .collect()
    })
}

/// Builder fixture: an active connection of the person (`(user_id, company_id)`) to
/// `tool`, which the sync engine leaves alone.
pub fn seed_connection(
    conn: &mut taskbridge::db::DbConn,
    (user_id, company_id): (i64, i64),
    tool: &str,
    display_name: &str,
) -> i64 {
    use diesel::prelude::*;
    use taskbridge::schema::connections;
    diesel::insert_into(connections::table)
        .values((
            connections::company_id.eq(company_id),
            connections::user_id.eq(user_id),
            connections::provider.eq(tool),
            connections::status.eq("active"),
            connections::external_user_id.eq(format!("{tool}-{user_id}")),
            connections::external_account_id.eq("999"),
            connections::account_name.eq("Acme HQ"),
            connections::display_name.eq(display_name),
            connections::created_at.eq(0i64),
            connections::updated_at.eq(0i64),
            // Far in the future: the sync engine leaves these seeded rows alone.
            connections::next_sync_at.eq(i64::MAX / 2),
        ))
        .returning(connections::id)
        .get_result(conn)
        .unwrap()
}

/// Builder fixture: a finished (or, with `end` None, running) time entry.
pub fn seed_entry(app: &TestApp, email: &str, start: i64, end: Option<i64>, note: &str) -> i64 {
    use diesel::prelude::*;
    use taskbridge::schema::time_entries;
    let (email, note) = (email.to_owned(), note.to_owned());
    app.query(move |conn| {
        let (user_id, company_id) = person_ids(conn, &email);
        diesel::insert_into(time_entries::table)
            .values((
                time_entries::company_id.eq(company_id),
                time_entries::user_id.eq(user_id),
                time_entries::note.eq(note),
                time_entries::started_at.eq(start),
                time_entries::ended_at.eq(end),
                time_entries::created_at.eq(start),
                time_entries::updated_at.eq(start),
            ))
            .returning(time_entries::id)
            .get_result(conn)
            .unwrap()
    })
}

/// Seconds since the epoch, as the app counts them.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A person's (id, company id), by email, on a connection a fixture holds.
pub fn person_ids(conn: &mut taskbridge::db::DbConn, email: &str) -> (i64, i64) {
    use diesel::prelude::*;
    use taskbridge::schema::{logins, users};
    users::table
        .inner_join(logins::table)
        .filter(logins::email.eq(email))
        .order(users::id)
        .select((users::id, users::company_id))
        .first(conn)
        .unwrap()
}

/// The page at `path` once it says `text` (a sync lands within 20 s), or a panic with
/// what it said last.
pub async fn wait_for_text(client: &Client, path: &str, text: &str) -> String {
    let mut last = String::new();
    for _ in 0..80 {
        let (_, body) = client.get_text(path).await;
        if body.contains(text) {
            return body;
        }
        last = body;
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("{path} never said {text:?}:\n{last}");
}

/// The sandbox's open tasks of one tool assigned to `email`.
pub async fn sandbox_tasks(app: &TestApp, tool: &str, email: &str) -> Vec<serde_json::Value> {
    let state: serde_json::Value = reqwest::get(format!("{}/sandbox/_control/state", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    state[tool]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["assignee_email"] == email && t["closed"] == false)
        .cloned()
        .collect()
}

/// Polls the database until `check` holds (20 s at most), or panics naming `what`.
pub async fn wait_until(
    app: &TestApp,
    what: &str,
    check: impl Fn(&mut taskbridge::db::DbConn) -> bool,
) {
    for _ in 0..80 {
        if app.query(|conn| check(conn)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("never happened: {what}");
}

/// Waits until the (only) connection's pass has ended and its lease is let go.
pub async fn wait_for_the_pass_to_end(app: &TestApp) {
    use diesel::QueryDsl;
    use taskbridge::schema::connections;
    wait_until(app, "the pass ends and the lease is let go", |conn| {
        connections::table
            .select((
                connections::sync_cursor,
                connections::pass_id,
                connections::lease_owner,
            ))
            .first::<(Option<String>, Option<i64>, Option<String>)>(conn)
            .unwrap()
            == (None, None, None)
    })
    .await;
}

/// Every sync run's (status, error code), oldest first.
pub fn run_outcomes(app: &TestApp) -> Vec<(String, Option<String>)> {
    use diesel::QueryDsl;
    use taskbridge::schema::sync_runs;
    app.query(|conn| {
        sync_runs::table
            .select((sync_runs::status, sync_runs::error_code))
            .order(sync_runs::id)
            .load(conn)
            .unwrap()
    })
}

/// The runs' outcomes (as [`run_outcomes`]) once the last run is recorded as finished.
pub async fn outcomes_once_the_last_is_ok(app: &TestApp) -> Vec<(String, Option<String>)> {
    use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
    use taskbridge::schema::sync_runs;
    wait_until(app, "the last run is recorded as finished", |conn| {
        sync_runs::table
            .select(sync_runs::status)
            .order(sync_runs::id.desc())
            .first::<String>(conn)
            .optional()
            .unwrap()
            .is_some_and(|status| status == "ok")
    })
    .await;
    run_outcomes(app)
}
