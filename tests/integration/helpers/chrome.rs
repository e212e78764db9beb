//! A real headless Chromium, driven over WebDriver (chromedriver), and the element helpers the
//! browser tests share. Chromium and chromedriver are required: if either is missing the
//! browser tests fail, they never skip.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use super::app::{reserve_port, TempDir, TestApp};
use super::client::RequestHelper;
use super::PASSWORD;

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
        let port = reserve_port();
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
pub async fn chromium() -> (ChromeDriver, Client) {
    let driver = ChromeDriver::start().await;
    let client = driver.connect().await;
    (driver, client)
}

pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// Waits for the element matching `css`.
pub async fn find(c: &Client, css: &str) -> Element {
    match c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => {
            let url = c.current_url().await.map(|u| u.to_string());
            let source = c.source().await.unwrap_or_default();
            panic!("no element `{css}` on {url:?} after {WAIT:?}: {e}\npage:\n{source}")
        }
    }
}

pub async fn by_testid(c: &Client, id: &str) -> Element {
    find(c, &testid(id)).await
}

pub async fn fill(c: &Client, id: &str, text: &str) {
    let field = by_testid(c, id).await;
    field.clear().await.expect("clear field");
    field.send_keys(text).await.expect("type into field");
}

pub async fn click(c: &Client, id: &str) {
    by_testid(c, id)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {id}: {e}"));
}

pub async fn text_of(c: &Client, id: &str) -> String {
    by_testid(c, id).await.text().await.expect("element text")
}

pub async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css)).await.expect("find_all").len()
}

pub async fn path(c: &Client) -> String {
    c.current_url()
        .await
        .expect("current url")
        .path()
        .to_owned()
}

/// Polls until `check` returns true, or fails with `what`.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
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

pub async fn wait_for_path(c: &Client, want: &str) {
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

pub async fn wait_for_row_status(c: &Client, row_css: &str, want: &str) {
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
pub fn dates_in(days: i64) -> Vec<String> {
    let d = |t: chrono::DateTime<chrono::Utc>| {
        (t.date_naive() + chrono::Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
    };
    let now = chrono::Utc::now();
    vec![d(now), d(now + chrono::Duration::minutes(5))]
}

/// Signs up through the pages and checks the dashboard greets the new owner.
pub async fn sign_up(c: &Client, app: &TestApp, company: &str, name: &str, who: &str) {
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

/// The credential works: `GET /v4/user/me` answers as `who`.
pub async fn assert_api_accepts(app: &TestApp, secret: &str, who: &str) {
    let r = app.token(secret).get("/v4/user/me").await;
    assert_eq!(
        r.status, 200,
        "GET /v4/user/me with the credential: {}",
        r.body
    );
    assert_eq!(r.json()["email"], json!(who), "acting user: {}", r.body);
}

/// The credential is refused as invalid.
pub async fn assert_api_refuses(app: &TestApp, secret: &str) {
    let r = app.token(secret).get("/v4/user/me").await;
    assert_eq!(r.status, 401, "GET /v4/user/me must be refused: {}", r.body);
    assert_eq!(r.code(), "invalid_credential", "{}", r.body);
}

/// The two widths every page is checked at: a laptop and a phone (iPhone 12-15 portrait).
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (390, 844);

/// Resizes the browser window so the page's viewport is `width` CSS pixels wide (headless
/// Chromium has no window frame, so the window size is the viewport).
pub async fn set_width(c: &Client, (width, height): (u32, u32)) {
    c.set_window_size(width, height)
        .await
        .unwrap_or_else(|e| panic!("resize the window to {width}x{height}: {e}"));
}

/// axe-core's source, installed by tests/axe/setup.sh from its lock file.
fn axe_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/axe/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "axe-core is missing at {} ({e}); run `bash tests/axe/setup.sh` (scripts/test does)",
                path.display()
            )
        })
    })
}

/// Runs axe-core (WCAG 2.0/2.1 A and AA rules) on the current page and returns one line per
/// violation: the rule, its impact and the CSS targets of the offending nodes. Empty when the
/// page passes.
pub async fn axe_violations(c: &Client) -> Vec<String> {
    c.execute(axe_source(), vec![])
        .await
        .expect("inject axe-core into the page");
    let script = r#"
        const done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
          .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
                 v.nodes.map(n => n.target.join(' ')).join(' | '))))
          .catch(e => done(['axe-core failed: ' + e]));
    "#;
    let out = c.execute_async(script, vec![]).await.expect("run axe-core");
    serde_json::from_value(out).expect("axe-core's violations as a list of strings")
}

/// How much wider than the viewport the page is, in CSS pixels (0 when it fits: no sideways
/// scrolling), and the widest offending elements for the failure message.
pub async fn horizontal_overflow(c: &Client) -> (i64, Vec<String>) {
    let out = c
        .execute(
            r#"
            const vw = window.innerWidth;
            const over = document.documentElement.scrollWidth - vw;
            const culprits = [];
            for (const el of document.querySelectorAll('body *')) {
              const r = el.getBoundingClientRect();
              if (r.right > vw + 1 && r.width > 0) {
                culprits.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                  (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '') +
                  ' right=' + Math.round(r.right));
              }
            }
            return [over, culprits.slice(0, 8)];
            "#,
            vec![],
        )
        .await
        .expect("measure the page width");
    serde_json::from_value(out).expect("overflow and culprits")
}

impl ChromeDriver {
    /// A new headless Chromium session with JavaScript turned off, as some people browse:
    /// the pages must work without it.
    pub async fn connect_without_js(&self) -> Client {
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
                    "--blink-settings=scriptEnabled=false",
                    format!("--user-data-dir={}", self.profile.display()),
                ],
                "prefs": { "profile.managed_default_content_settings.javascript": 2 },
            }),
        );
        ClientBuilder::native()
            .capabilities(caps)
            .connect(&self.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "could not open a Chromium session without JavaScript: {e}; log:\n{}",
                    self.log_text()
                )
            })
    }
}

/// The `data-testid` of the focused element ("" when it has none).
pub async fn focused_testid(c: &Client) -> String {
    let el = c.active_element().await.expect("the focused element");
    el.attr("data-testid")
        .await
        .expect("data-testid of the focused element")
        .unwrap_or_default()
}

/// Presses a key (e.g. `"\u{e004}"`, Tab) on whatever has the focus, as a person would.
pub async fn press(c: &Client, key: &str) {
    c.active_element()
        .await
        .expect("the focused element")
        .send_keys(key)
        .await
        .unwrap_or_else(|e| panic!("press {key:?}: {e}"));
}

pub const TAB: &str = "\u{e004}";
pub const ENTER: &str = "\u{e007}";

/// Presses Tab until the element with this `data-testid` has the focus; fails after 80 presses.
pub async fn tab_to(c: &Client, id: &str) {
    for _ in 0..80 {
        if focused_testid(c).await == id {
            return;
        }
        press(c, TAB).await;
    }
    panic!(
        "Tab never reached {id}; last focused: {:?}",
        focused_testid(c).await
    );
}
