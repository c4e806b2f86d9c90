use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

/// A chromedriver of our own and a headless Chromium session on it.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    /// Pages axe-core has checked already (path and query).
    audited: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// axe-core (MPL-2.0), vendored from npm for the accessibility check of every page.
const AXE: &str = include_str!("vendor/axe-core-4.14.1.min.js");

fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// `None` (with one visible line) when the suite cannot run here.
pub async fn open() -> Option<Browser> {
    // Both ring and aws-lc-rs are in the tree; pick one for the process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let driver_bin = find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
    let chrome_bin = find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
    let (Some(driver_bin), Some(chrome_bin)) = (driver_bin, chrome_bin) else {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "browser suite cannot run: install Debian's chromium and chromium-driver"
        );
        eprintln!("browser suite skipped: chromium or chromedriver not found (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Command::new(driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chrome_bin,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last = None;
    for _ in 0..50 {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                return Some(Browser {
                    client,
                    driver,
                    _profile: profile,
                    audited: Default::default(),
                })
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not start: {last:?}");
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
        self.audit().await;
    }

    /// Runs axe-core on the page, once per path and query, and fails on any serious or
    /// critical violation, naming the rule and the elements.
    pub async fn audit(&self) {
        let Ok(url) = self.client.current_url().await else {
            return;
        };
        let key = format!("{}?{}", url.path(), url.query().unwrap_or(""));
        if !self.audited.lock().unwrap().insert(key.clone()) {
            return;
        }
        let loaded = self
            .client
            .execute("return typeof window.axe !== 'undefined';", vec![])
            .await
            .unwrap();
        if loaded != true {
            self.client.execute(AXE, vec![]).await.unwrap();
        }
        let found = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ["violations"] }).then((r) => done(
                  r.violations
                    .filter((v) => v.impact === "serious" || v.impact === "critical")
                    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`)
                ), (e) => done([`axe failed: ${e}`]));"#,
                vec![],
            )
            .await
            .unwrap();
        let violations: Vec<String> = serde_json::from_value(found).unwrap();
        assert!(
            violations.is_empty(),
            "accessibility violations on {key}:\n{}",
            violations.join("\n")
        );
    }

    pub async fn fill(&self, label_for: &str, value: &str) {
        let field = self.client.find(Locator::Id(label_for)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Clicks the button or link whose visible text is `text`.
    pub async fn click_text(&self, text: &str) {
        let xpath = format!(
            "//button[normalize-space()='{text}'] | //a[normalize-space()='{text}'] | //input[@type='submit' and @value='{text}']"
        );
        let element = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button or link {text:?}: {e}"));
        element.click().await.unwrap();
    }

    pub async fn click_css(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Waits for a navigation to land on `expected`; panics with the page text if not.
    pub async fn expect_path(&self, expected: &str) {
        for _ in 0..100 {
            if self.path().await == expected && self.ready().await {
                self.audit().await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "expected {expected}, at {}:\n{}",
            self.path().await,
            self.text().await
        );
    }

    /// Waits for the page to show `text` (pages on the sandbox have no path to wait for);
    /// panics with the page text if it never does.
    pub async fn wait_for_text(&self, text: &str) {
        let mut seen = String::new();
        for _ in 0..100 {
            if self.ready().await {
                if let Ok(body) = self.client.find(Locator::Css("body")).await {
                    if let Ok(t) = body.text().await {
                        if t.contains(text) {
                            self.audit().await;
                            return;
                        }
                        seen = t;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no {text:?} at {}:\n{seen}",
            self.client
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default()
        );
    }

    /// Clicks the `<label>` whose visible text is `text` (a radio button's or checkbox's).
    pub async fn click_label(&self, text: &str) {
        let xpath = format!("//label[normalize-space()='{text}']");
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no label {text:?}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// The value of `attribute` on the first element matching `css`.
    pub async fn attr(&self, css: &str, attribute: &str) -> Option<String> {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css:?}: {e}"))
            .attr(attribute)
            .await
            .unwrap()
    }

    async fn ready(&self) -> bool {
        self.client
            .execute("return document.readyState", vec![])
            .await
            .map(|v| v == "complete")
            .unwrap_or(false)
    }

    pub async fn is_visible_text(&self, text: &str) -> bool {
        let xpath = format!("//*[normalize-space(text())='{text}']");
        match self.client.find(Locator::XPath(&xpath)).await {
            Ok(e) => e.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Saves a PNG under target/screenshots/, once CSS transitions (Pico's are 0.2 s)
    /// have settled, so a control is not caught halfway between two states.
    pub async fn screenshot(&self, name: &str) {
        for _ in 0..20 {
            let running = self
                .client
                .execute(
                    "return document.getAnimations().some(a => a.playState === 'running')",
                    vec![],
                )
                .await
                .map(|v| v == true)
                .unwrap_or(false);
            if !running {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn forget_cookies(&self) {
        self.client.delete_all_cookies().await.unwrap();
    }

    pub async fn close(mut self) {
        let checked = self.audited.lock().map(|a| a.len()).unwrap_or(0);
        eprintln!("axe-core checked {checked} pages: no serious or critical violation");
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
