//! Spawns the real application on port 0 against a fresh database of the backend named by
//! `TEST_BACKEND` (`sqlite`, the default, or `postgres`), and talks HTTP to it.

use std::path::PathBuf;
use std::sync::OnceLock;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use meetergo_console::clock::Clock;
use meetergo_console::config::Settings;
use meetergo_console::db::{DatabaseUrl, Db};
use meetergo_console::startup::Application;
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};

pub const PASSWORD: &str = "a sturdy passphrase for tests";

pub fn backend() -> &'static str {
    static B: OnceLock<String> = OnceLock::new();
    B.get_or_init(|| std::env::var("TEST_BACKEND").unwrap_or_else(|_| "sqlite".into()))
}

fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new, empty database of the configured backend. A missing PostgreSQL fails the test.
pub fn fresh_database(dir: &std::path::Path) -> DatabaseUrl {
    match backend() {
        "postgres" => {
            let name = format!("console_test_{}", uuid::Uuid::new_v4().simple());
            let admin = postgres_admin_url();
            let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
                panic!("TEST_BACKEND=postgres but PostgreSQL is not reachable at {admin}: {e}")
            });
            conn.batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create test database");
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_owned())
                .expect("postgres url");
            // No TLS on loopback: libpq would otherwise load OpenSSL into every pooled
            // connection, whose global state is torn down while the test binary exits.
            DatabaseUrl::Postgres(format!("{base}/{name}?sslmode=disable"))
        }
        "sqlite" => DatabaseUrl::Sqlite(dir.join("test.sqlite").to_string_lossy().into_owned()),
        other => panic!("unknown TEST_BACKEND {other}"),
    }
}

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub db: Db,
    pub settings: Settings,
    /// The app's clock: tests move it forward instead of rewriting times in rows.
    pub clock: Clock,
    pub data_dir: PathBuf,
    _dir: tempfile_dir::TempDir,
}

/// A tiny temp-dir holder (removed on drop).
pub mod tempfile_dir {
    pub struct TempDir(pub std::path::PathBuf);
    impl TempDir {
        pub fn new() -> Self {
            let p = std::env::temp_dir()
                .join(format!("console-test-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&p).expect("temp dir");
            Self(p)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("client")
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile_dir::TempDir::new();
        let url = fresh_database(&dir.0);
        Self::spawn_on(dir, url, configure).await
    }

    /// The app on a database of the caller's (a private PostgreSQL cluster, for example).
    pub async fn spawn_on(
        dir: tempfile_dir::TempDir,
        url: DatabaseUrl,
        configure: impl FnOnce(&mut Settings),
    ) -> Self {
        let mut settings = Settings::for_tests(url, dir.0.clone());
        configure(&mut settings);
        let clock = Clock::adjustable();
        let app = Application::build_with_clock(settings.clone(), clock.clone())
            .await
            .expect("app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let db = app.db().clone();
        actix_web::rt::spawn(app.run_until_stopped());
        Self {
            address,
            client: client(),
            db,
            settings,
            clock,
            data_dir: dir.0.clone(),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let status = r.status();
        (status, r.text().await.expect("body"))
    }

    /// The CSRF token of the form on `page`.
    pub async fn csrf_for(&self, page: &str) -> String {
        let (_, html) = self.get_html(page).await;
        csrf_in(&html).unwrap_or_else(|| panic!("no csrf_token on {page}"))
    }

    /// POSTs a form, with the CSRF token read from `page` first.
    pub async fn post_form(&self, page: &str, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_for(page).await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.client
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .expect("POST")
    }

    pub async fn signup(&self, company: &str, name: &str, email: &str) -> Response {
        self.post_form(
            "/signup",
            "/signup",
            &[
                ("company_name", company),
                ("name", name),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_form(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn logout(&self) -> Response {
        self.post_form("/dashboard", "/logout", &[]).await
    }

    /// Creates a PAT through the page and returns the clear token shown once.
    pub async fn create_pat(&self, name: &str, expiry: &str) -> String {
        let r = self
            .post_form(
                "/integrations/api",
                "/integrations/api/tokens",
                &[("name", name), ("expiry", expiry)],
            )
            .await;
        assert_eq!(r.status(), 200, "creating PAT {name}");
        new_secret_in(&r.text().await.expect("body")).expect("new token shown")
    }

    /// Creates a Platform API Key through the admin page and returns it.
    pub async fn create_api_key(&self, name: &str, expiry_days: &str) -> String {
        let r = self
            .post_form(
                "/admin/api-keys",
                "/admin/api-keys",
                &[("name", name), ("expiry", expiry_days)],
            )
            .await;
        assert_eq!(r.status(), 200, "creating API key {name}");
        new_secret_in(&r.text().await.expect("body")).expect("new key shown")
    }

    /// Another browser (its own cookie jar) on the same app.
    pub fn another_browser(&self) -> Browserless<'_> {
        Browserless {
            app: self,
            client: client(),
        }
    }

    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        user_header: Option<&str>,
    ) -> (StatusCode, serde_json::Value) {
        let mut req = reqwest::Client::new().request(method, self.url(path));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        if let Some(h) = user_header {
            req = req.header("x-meetergo-api-user-id", h);
        }
        let r = req.send().await.expect("api call");
        let status = r.status();
        let body = r.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }
}

/// A second cookie jar against the same app: another person's browser.
pub struct Browserless<'a> {
    pub app: &'a TestApp,
    pub client: Client,
}

impl Browserless<'_> {
    pub fn as_app(&self) -> TestAppView<'_> {
        TestAppView {
            address: &self.app.address,
            client: &self.client,
        }
    }
}

/// The form helpers of `TestApp`, for another cookie jar.
pub struct TestAppView<'a> {
    pub address: &'a str,
    pub client: &'a Client,
}

impl TestAppView<'_> {
    pub async fn get_html(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET");
        let s = r.status();
        (s, r.text().await.expect("body"))
    }

    pub async fn post_form(&self, page: &str, path: &str, fields: &[(&str, &str)]) -> Response {
        let (_, html) = self.get_html(page).await;
        let token = csrf_in(&html).unwrap_or_default();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.client
            .post(format!("{}{path}", self.address))
            .form(&all)
            .send()
            .await
            .expect("POST")
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_form(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn signup(&self, company: &str, name: &str, email: &str) -> Response {
        self.post_form(
            "/signup",
            "/signup",
            &[
                ("company_name", company),
                ("name", name),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await
    }

    /// Creates a PAT through the page in this browser and returns the clear token shown once.
    pub async fn create_pat(&self, name: &str, expiry: &str) -> String {
        let r = self
            .post_form(
                "/integrations/api",
                "/integrations/api/tokens",
                &[("name", name), ("expiry", expiry)],
            )
            .await;
        assert_eq!(r.status(), 200, "creating PAT {name}");
        new_secret_in(&r.text().await.expect("body")).expect("new token shown")
    }

    /// Creates a Platform API Key through the admin page in this browser and returns it.
    pub async fn create_api_key(&self, name: &str, expiry_days: &str) -> String {
        let r = self
            .post_form(
                "/admin/api-keys",
                "/admin/api-keys",
                &[("name", name), ("expiry", expiry_days)],
            )
            .await;
        assert_eq!(r.status(), 200, "creating API key {name}");
        new_secret_in(&r.text().await.expect("body")).expect("new key shown")
    }
}

pub fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let rest = html.get(start..)?;
    Some(rest.get(..rest.find('"')?)?.to_owned())
}

pub fn new_secret_in(html: &str) -> Option<String> {
    let marker = "data-testid=\"new-token\">";
    let start = html.find(marker)? + marker.len();
    let rest = html.get(start..)?;
    Some(rest.get(..rest.find('<')?)?.trim().to_owned())
}

pub fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A unique email for this test run.
pub fn email(who: &str) -> String {
    format!(
        "{who}-{}@example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

// ---------------------------------------------------------------------------------------------
// OpenID Connect: the test provider of tests/oidc, and an app configured to use it
// ---------------------------------------------------------------------------------------------

pub const OIDC_PROVIDER_KEY: &str = "okta";
pub const OIDC_CLIENT_ID: &str = "console-tests";
pub const OIDC_CLIENT_SECRET: &str = "console-tests-secret";

/// A free port on 127.0.0.1 right now (the listener is dropped before returning).
pub fn reserve_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// The OpenID provider of `tests/oidc` (npm `oidc-provider` on Node) as a child process,
/// killed on drop. A missing Node.js or provider fails the test; it never skips.
pub struct OidcProvider {
    child: std::process::Child,
    /// The listening URL from the `ready` line (what the app is configured with).
    pub issuer: String,
    pub port: u16,
    pub redirect_uri: String,
    log: PathBuf,
    _dir: tempfile_dir::TempDir,
}

impl OidcProvider {
    /// Starts the provider on `port` (0: any free one) for the one redirect URI, with
    /// `extra` arguments (like `--issuer-claim X`), and waits for its `ready` line.
    pub fn start(port: u16, redirect_uri: &str, extra: &[&str]) -> Self {
        use std::io::BufRead;
        use std::process::{Command, Stdio};

        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
        assert!(
            here.join("node_modules/oidc-provider").is_dir(),
            "the OIDC test provider is not installed: run `bash tests/oidc/setup.sh` (needs Node.js >= 20.18 and npm)"
        );
        let dir = tempfile_dir::TempDir::new();
        let log = dir.0.join("provider.log");
        let stderr = std::fs::File::create(&log).expect("provider log file");
        let mut child = Command::new("node")
            .arg(here.join("provider.mjs"))
            .args(["--port", &port.to_string()])
            .args(["--client-id", OIDC_CLIENT_ID])
            .args(["--client-secret", OIDC_CLIENT_SECRET])
            .args(["--redirect-uri", redirect_uri])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("the OIDC tests need Node.js (`node` on PATH) to run tests/oidc/provider.mjs: {e}")
            });
        let stdout = child.stdout.take().expect("provider stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(read.map(|_| line));
        });
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(90))
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let Some(issuer) = line.trim().strip_prefix("ready ").map(str::to_owned) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the OIDC test provider did not print `ready <issuer>` (got {line:?}); its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        let port = url::Url::parse(&issuer)
            .ok()
            .and_then(|u| u.port())
            .expect("the issuer has a port");
        Self {
            child,
            issuer,
            port,
            redirect_uri: redirect_uri.to_owned(),
            log,
            _dir: dir,
        }
    }

    /// Stops this provider and starts another on the same port and redirect URI, with `extra`
    /// arguments: new keys, no sessions, and (with `--issuer-claim`) another issuer.
    pub fn restart(&mut self, extra: &[&str]) {
        self.stop();
        let next = Self::start(self.port, &self.redirect_uri, extra);
        *self = next;
    }

    /// What the provider logged so far (for failure messages).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.stop();
    }
}

impl TestApp {
    /// The app with one OpenID provider, `okta`, served by the test provider started with
    /// `provider_args`. The provider must know the exact redirect URI before the app exists,
    /// so the app's port is reserved first and the app is bound to it.
    pub async fn spawn_with_oidc(provider_args: &[&str]) -> (Self, OidcProvider) {
        let port = reserve_port();
        let redirect_uri =
            format!("http://127.0.0.1:{port}/auth/oidc/{OIDC_PROVIDER_KEY}/callback");
        let provider = OidcProvider::start(0, &redirect_uri, provider_args);
        let issuer = provider.issuer.clone();
        let app = Self::spawn_with(move |settings| {
            settings.bind_addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            settings.oidc_providers = vec![meetergo_console::auth::oidc::ProviderConfig {
                key: OIDC_PROVIDER_KEY.into(),
                display_name: "Okta".into(),
                issuer,
                client_id: OIDC_CLIENT_ID.into(),
                client_secret: secrecy::SecretString::from(OIDC_CLIENT_SECRET.to_owned()),
                tenant_template: false,
            }];
        })
        .await;
        assert_eq!(
            app.address,
            format!("http://127.0.0.1:{port}"),
            "the app is bound to the reserved port"
        );
        (app, provider)
    }
}
