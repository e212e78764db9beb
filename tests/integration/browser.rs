//! End-to-end flows in a real headless Chromium, driven over WebDriver (chromedriver).
//!
//! Chromium and chromedriver are required: if either is missing these tests fail, they never
//! skip.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::Method;
use serde_json::json;

use crate::helpers::tempfile_dir::TempDir;
use crate::helpers::{email, TestApp, PASSWORD};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const WAIT: Duration = Duration::from_secs(15);

/// A chromedriver child process on a free port, with a fresh Chromium profile directory.
/// Killed (with the Chromium it started) on drop.
pub struct ChromeDriver {
    child: Child,
    port: u16,
    profile: PathBuf,
    log: PathBuf,
    _dir: TempDir,
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // chromedriver runs in its own process group; Chromium inherits it. Take both down so
        // a failed test leaves no browser behind.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

impl ChromeDriver {
    /// Starts chromedriver and waits until it reports ready. Panics, with the reason, if
    /// chromedriver or Chromium is missing or does not come up.
    pub async fn start() -> Self {
        for (what, path, package) in [
            ("chromedriver", CHROMEDRIVER, "chromium-driver"),
            ("Chromium", CHROMIUM, "chromium"),
        ] {
            assert!(
                Path::new(path).exists(),
                "browser tests need {what} at {path} (Debian package `{package}`); it is missing"
            );
        }
        let dir = TempDir::new();
        let profile = dir.0.join("chromium-profile");
        std::fs::create_dir_all(&profile).expect("chromium profile dir");
        let log = dir.0.join("chromedriver.log");
        let port = free_port();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("could not start chromedriver ({CHROMEDRIVER}): {e}"))
        };
        let mut driver = Self {
            child,
            port,
            profile,
            log,
            _dir: dir,
        };
        driver.wait_until_ready().await;
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_until_ready(&mut self) {
        let http = reqwest::Client::new();
        let status = format!("{}/status", self.url());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(exit) = self.child.try_wait().expect("chromedriver status") {
                panic!(
                    "chromedriver exited before answering ({exit}); log:\n{}",
                    self.log_text()
                );
            }
            if let Ok(r) = http.get(&status).send().await {
                if let Ok(body) = r.json::<serde_json::Value>().await {
                    if body["value"]["ready"] == json!(true) {
                        return;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {status} within {WAIT:?}; log:\n{}",
                self.log_text()
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new headless Chromium session.
    pub async fn connect(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    format!("--user-data-dir={}", self.profile.display()),
                ],
            }),
        );
        ClientBuilder::native()
            .capabilities(caps)
            .connect(&self.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "could not open a Chromium session through chromedriver: {e}; log:\n{}",
                    self.log_text()
                )
            })
    }
}

/// chromedriver plus a connected session. Keep the driver alive as long as the client.
pub async fn browser() -> (ChromeDriver, Client) {
    let driver = ChromeDriver::start().await;
    let client = driver.connect().await;
    (driver, client)
}

pub(crate) fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// Waits for the element matching `css`.
pub(crate) async fn find(c: &Client, css: &str) -> Element {
    match c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => {
            let url = c.current_url().await.map(|u| u.to_string());
            let source = c.source().await.unwrap_or_default();
            panic!("no element `{css}` on {url:?} after {WAIT:?}: {e}\npage:\n{source}")
        }
    }
}

pub(crate) async fn by_testid(c: &Client, id: &str) -> Element {
    find(c, &testid(id)).await
}

pub(crate) async fn fill(c: &Client, id: &str, text: &str) {
    let field = by_testid(c, id).await;
    field.clear().await.expect("clear field");
    field.send_keys(text).await.expect("type into field");
}

pub(crate) async fn click(c: &Client, id: &str) {
    by_testid(c, id)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {id}: {e}"));
}

pub(crate) async fn text_of(c: &Client, id: &str) -> String {
    by_testid(c, id).await.text().await.expect("element text")
}

async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css)).await.expect("find_all").len()
}

async fn path(c: &Client) -> String {
    c.current_url()
        .await
        .expect("current url")
        .path()
        .to_owned()
}

/// Polls until `check` returns true, or fails with `what`.
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn wait_for_path(c: &Client, want: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = path(c).await;
        if now == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "expected to land on {want}, still on {now}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `data-status` of the single credential row matching `row_css`, read afresh.
async fn row_status(c: &Client, row_css: &str) -> Option<String> {
    let rows = c.find_all(Locator::Css(row_css)).await.ok()?;
    match rows.as_slice() {
        [row] => row.attr("data-status").await.ok().flatten(),
        _ => None,
    }
}

async fn wait_for_row_status(c: &Client, row_css: &str, want: &str) {
    eventually(&format!("{row_css} to show status {want}"), || async {
        row_status(c, row_css).await.as_deref() == Some(want)
    })
    .await;
    // The visible badge agrees with the attribute.
    let row = find(c, row_css).await;
    let badge = row
        .find(Locator::Css(".badge"))
        .await
        .expect("status badge")
        .text()
        .await
        .expect("badge text");
    assert_eq!(badge, want, "status badge of {row_css}");
}

/// Today + `days` as the pages print it, accepting a date roll-over during the test.
fn dates_in(days: i64) -> Vec<String> {
    let d = |t: chrono::DateTime<chrono::Utc>| {
        (t.date_naive() + chrono::Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
    };
    let now = chrono::Utc::now();
    vec![d(now), d(now + chrono::Duration::minutes(5))]
}

/// Signs up through the pages and checks the dashboard greets the new owner.
pub(crate) async fn sign_up(c: &Client, app: &TestApp, company: &str, name: &str, who: &str) {
    c.goto(&app.url("/signup")).await.expect("open /signup");
    fill(c, "signup-company", company).await;
    fill(c, "signup-name", name).await;
    fill(c, "signup-email", who).await;
    fill(c, "signup-password", PASSWORD).await;
    click(c, "signup-submit").await;
    wait_for_path(c, "/dashboard").await;
    assert_eq!(
        text_of(c, "dashboard-title").await,
        format!("Welcome, {name}")
    );
    assert_eq!(text_of(c, "dashboard-role").await, "owner");
}

async fn api_me(app: &TestApp, secret: &str) -> (reqwest::StatusCode, serde_json::Value) {
    app.api(Method::GET, "/v4/user/me", Some(secret), None)
        .await
}

pub(crate) async fn assert_api_accepts(app: &TestApp, secret: &str, who: &str) {
    let (status, body) = api_me(app, secret).await;
    assert_eq!(status, 200, "GET /v4/user/me with the credential: {body}");
    assert_eq!(body["email"], json!(who), "acting user: {body}");
}

pub(crate) async fn assert_api_refuses(app: &TestApp, secret: &str) {
    let (status, body) = api_me(app, secret).await;
    assert_eq!(status, 401, "GET /v4/user/me must be refused: {body}");
    assert_eq!(body["code"], json!("invalid_credential"), "{body}");
}

#[actix_web::test]
async fn signup_logout_login_in_a_browser() {
    let app = TestApp::spawn().await;
    let (_driver, c) = browser().await;
    let who = email("browser");

    // An anonymous visitor lands on the sign-in page and follows the link to sign up.
    c.goto(&app.url("/")).await.expect("open /");
    wait_for_path(&c, "/login").await;
    let link = by_testid(&c, "signup-link").await;
    assert_eq!(link.text().await.expect("link text"), "Create a workspace");
    link.click().await.expect("follow signup link");
    wait_for_path(&c, "/signup").await;

    fill(&c, "signup-company", "Browser GmbH").await;
    fill(&c, "signup-name", "Bea Browser").await;
    fill(&c, "signup-email", &who).await;
    fill(&c, "signup-password", PASSWORD).await;
    click(&c, "signup-submit").await;
    wait_for_path(&c, "/dashboard").await;
    assert_eq!(text_of(&c, "dashboard-title").await, "Welcome, Bea Browser");
    assert_eq!(text_of(&c, "dashboard-role").await, "owner");
    assert_eq!(
        text_of(&c, "current-user").await,
        "Bea Browser · Browser GmbH"
    );
    assert_eq!(
        text_of(&c, "flash").await,
        "Welcome! Your account is ready."
    );

    // Log out: back on the sign-in page, and the dashboard is closed again.
    click(&c, "logout").await;
    wait_for_path(&c, "/login").await;
    by_testid(&c, "login-form").await;
    assert_eq!(text_of(&c, "flash").await, "You have been signed out.");
    assert_eq!(count(&c, &testid("logout")).await, 0, "no logout when out");
    c.goto(&app.url("/dashboard"))
        .await
        .expect("open /dashboard");
    wait_for_path(&c, "/login").await;

    // Log in again.
    fill(&c, "login-email", &who).await;
    fill(&c, "login-password", PASSWORD).await;
    click(&c, "login-submit").await;
    wait_for_path(&c, "/dashboard").await;
    assert_eq!(text_of(&c, "dashboard-title").await, "Welcome, Bea Browser");
    assert_eq!(text_of(&c, "dashboard-role").await, "owner");

    c.close().await.expect("close browser session");
}

#[actix_web::test]
async fn pat_lifecycle_in_a_browser() {
    let app = TestApp::spawn().await;
    let (_driver, c) = browser().await;
    let who = email("pat");
    sign_up(&c, &app, "Token AG", "Tom Token", &who).await;
    assert_eq!(text_of(&c, "active-token-count").await, "0");

    c.goto(&app.url("/integrations"))
        .await
        .expect("open /integrations");
    click(&c, "api-card-link").await;
    wait_for_path(&c, "/integrations/api").await;
    by_testid(&c, "tokens-empty").await;

    fill(&c, "token-name", "CRM sync").await;
    let radio = by_testid(&c, "expiry-30").await;
    radio.click().await.expect("choose 30 days");
    assert!(radio.is_selected().await.expect("radio state"));
    let expected_dates = dates_in(30);
    click(&c, "create-token").await;

    let token = text_of(&c, "new-token").await;
    assert!(token.starts_with("rgo-"), "a PAT is shown: {token:?}");
    assert!(token.len() > 20, "a full token, not a prefix: {token:?}");
    let row_css = testid("token-row");
    wait_for_row_status(&c, &row_css, "active").await;
    let row_text = find(&c, &row_css).await.text().await.expect("row text");
    assert!(
        row_text.contains("CRM sync"),
        "row names the token: {row_text}"
    );
    assert!(
        expected_dates.iter().any(|d| row_text.contains(d.as_str())),
        "expires in 30 days ({expected_dates:?}): {row_text}"
    );

    assert_api_accepts(&app, &token, &who).await;

    // Loaded again, the page never shows the token. (A plain reload would re-POST the
    // creation form, so the page is opened afresh.)
    c.goto(&app.url("/integrations/api"))
        .await
        .expect("open /integrations/api again");
    wait_for_row_status(&c, &row_css, "active").await;
    assert_eq!(count(&c, &testid("new-token")).await, 0);
    let source = c.source().await.expect("page source");
    assert!(
        !source.contains(&token),
        "the token must not be shown again"
    );

    // Revoke, confirming in the disclosure.
    let summary = find(&c, &format!("summary{}", testid("revoke-token"))).await;
    summary.click().await.expect("open revoke confirmation");
    let confirm = by_testid(&c, "confirm-revoke").await;
    eventually("the revoke confirmation to show", || async {
        confirm.is_displayed().await.unwrap_or(false)
    })
    .await;
    confirm.click().await.expect("confirm revoke");
    wait_for_row_status(&c, &row_css, "revoked").await;
    assert!(
        text_of(&c, "flash").await.contains("revoked"),
        "revocation is confirmed"
    );
    assert_eq!(count(&c, &testid("revoke-token")).await, 0);

    assert_api_refuses(&app, &token).await;

    c.close().await.expect("close browser session");
}

#[actix_web::test]
async fn admin_api_key_lifecycle_in_a_browser() {
    let app = TestApp::spawn().await;
    let (_driver, c) = browser().await;
    let who = email("admin");
    sign_up(&c, &app, "Keys Ltd", "Kim Keys", &who).await;
    let settings = by_testid(&c, "nav-settings").await;
    assert_eq!(
        settings.attr("href").await.expect("href").as_deref(),
        Some("/settings/members"),
        "owners see the settings link"
    );
    settings.click().await.expect("open settings");
    by_testid(&c, "settings-nav-api-keys")
        .await
        .click()
        .await
        .expect("open Settings → API");
    by_testid(&c, "keys-empty").await;
    fill(&c, "key-name", "Production").await;
    let radio = by_testid(&c, "expiry-30").await;
    radio.click().await.expect("choose 30 days");
    assert!(radio.is_selected().await.expect("radio state"));
    let expected_dates = dates_in(30);
    click(&c, "create-key").await;

    let key = text_of(&c, "new-token").await;
    assert!(key.len() > 20, "a full key is shown: {key:?}");
    let row_css = testid("key-row");
    wait_for_row_status(&c, &row_css, "active").await;
    let row_text = find(&c, &row_css).await.text().await.expect("row text");
    assert!(
        row_text.contains("Production"),
        "row names the key: {row_text}"
    );
    assert!(
        expected_dates.iter().any(|d| row_text.contains(d.as_str())),
        "expires in 30 days ({expected_dates:?}): {row_text}"
    );
    // Without x-meetergo-api-user-id a key acts as the owner: us.
    assert_api_accepts(&app, &key, &who).await;

    // Deactivate: the key stops working.
    click(&c, "deactivate-key").await;
    wait_for_row_status(&c, &row_css, "deactivated").await;
    assert_eq!(count(&c, &testid("deactivate-key")).await, 0);
    by_testid(&c, "activate-key").await;
    assert_api_refuses(&app, &key).await;

    // Activate: it works again.
    click(&c, "activate-key").await;
    wait_for_row_status(&c, &row_css, "active").await;
    assert_eq!(count(&c, &testid("activate-key")).await, 0);
    by_testid(&c, "deactivate-key").await;
    assert_api_accepts(&app, &key, &who).await;

    // Revoke, confirming in the disclosure: for good.
    let summary = find(&c, &format!("summary{}", testid("revoke-key"))).await;
    summary.click().await.expect("open revoke confirmation");
    let confirm = by_testid(&c, "confirm-revoke").await;
    eventually("the revoke confirmation to show", || async {
        confirm.is_displayed().await.unwrap_or(false)
    })
    .await;
    confirm.click().await.expect("confirm revoke");
    wait_for_row_status(&c, &row_css, "revoked").await;
    for gone in ["deactivate-key", "activate-key", "revoke-key"] {
        assert_eq!(count(&c, &testid(gone)).await, 0, "{gone} after revoke");
    }
    assert_api_refuses(&app, &key).await;

    c.close().await.expect("close browser session");
}
