//! The real application on port 0 against a fresh database of the backend named by
//! `TEST_BACKEND` (`sqlite`, the default, or `postgres`), and the callers that talk HTTP to it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use meetergo_console::clock::Clock;
use meetergo_console::config::Settings;
use meetergo_console::db::{DatabaseUrl, Db};
use meetergo_console::jobs::{Jobs, JobsReport};
use meetergo_console::startup::Application;
use reqwest::Client;

use super::client::{cookie_less_http, Anonymous, Browser, TokenUser};

pub fn backend() -> &'static str {
    static B: OnceLock<String> = OnceLock::new();
    B.get_or_init(|| std::env::var("TEST_BACKEND").unwrap_or_else(|_| "sqlite".into()))
}

fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new, empty database of the configured backend. A missing PostgreSQL fails the test.
pub fn fresh_database(dir: &Path) -> DatabaseUrl {
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

/// A temporary folder, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p =
            std::env::temp_dir().join(format!("console-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&p).expect("temp dir");
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A free port on 127.0.0.1 right now (the listener is dropped before returning).
pub fn reserve_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

pub struct TestApp {
    pub address: String,
    /// `http://ip:port` of the metrics listener, when `metrics_addr` was set.
    pub metrics_address: Option<String>,
    pub db: Db,
    pub settings: Settings,
    /// The app's clock: tests move it forward instead of rewriting times in rows (see time.rs).
    pub clock: Clock,
    pub data_dir: PathBuf,
    /// Shared by the cookie-less callers, so they reuse connections.
    http: Client,
    /// The API usage this instance counted and has not written yet (`flush_usage`).
    pub usage: std::sync::Arc<meetergo_console::services::usage::UsageRecorder>,
    server: actix_web::dev::ServerHandle,
    running: std::sync::Mutex<Option<actix_web::rt::task::JoinHandle<std::io::Result<()>>>>,
    /// The app's job runner (its background loop is off in tests: see `run_jobs`).
    jobs: Jobs,
    _dir: TempDir,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let dir = TempDir::new();
        let url = fresh_database(&dir.0);
        Self::spawn_on(dir, url, configure).await
    }

    /// The app on a database of the caller's (a private PostgreSQL cluster, for example).
    pub async fn spawn_on(
        dir: TempDir,
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
        let metrics_address = app.metrics_addr().map(|a| format!("http://{a}"));
        mail_dirs()
            .lock()
            .expect("mail dirs")
            .insert(address.clone(), dir.0.join("mail"));
        let db = app.db().clone();
        let (usage, server, jobs) = (app.usage(), app.handle(), app.jobs());
        let running = actix_web::rt::spawn(app.run_until_stopped());
        Self {
            address,
            metrics_address,
            db,
            settings,
            clock,
            data_dir: dir.0.clone(),
            http: cookie_less_http(),
            usage,
            server,
            running: std::sync::Mutex::new(Some(running)),
            jobs,
            _dir: dir,
        }
    }

    /// Writes the API usage counted so far, as the periodic flush would; the requests written.
    pub async fn flush_usage(&self) -> u64 {
        self.usage
            .flush(&self.db, self.clock.now())
            .await
            .expect("usage flush")
    }

    /// Stops the server gracefully, as a deploy's signal does, and waits until it is done
    /// (the last usage is written then).
    pub async fn shut_down(&self) {
        self.server.stop(true).await;
        let running = self.running.lock().expect("running").take();
        if let Some(running) = running {
            running
                .await
                .expect("the server task ends")
                .expect("the server stops cleanly");
        }
    }

    /// One round of the app's jobs, now as its clock says; returns when it is done.
    pub async fn run_jobs(&self) -> JobsReport {
        self.jobs.run_once().await
    }

    /// Delivers the webhooks due now as the app's clock says, as the server's delivery loop
    /// would (off in tests); returns when every attempt is recorded.
    pub async fn deliver_webhooks(&self) -> meetergo_console::webhooks::delivery::DeliveryReport {
        self.jobs
            .deliver_webhooks()
            .await
            .expect("webhook delivery round")
    }

    /// The app's job runner, to run a round from a task of the test's own.
    pub fn jobs(&self) -> Jobs {
        self.jobs.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A caller with no cookies and no credential.
    pub fn anonymous(&self) -> Anonymous {
        Anonymous::new(&self.address, self.http.clone())
    }

    /// A new browser: its own cookie jar, not signed in.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.address)
    }

    /// A caller with a personal access token or a Platform API key.
    pub fn token(&self, secret: &str) -> TokenUser {
        TokenUser::new(&self.address, self.http.clone(), secret)
    }
}

/// Where the app at each address drops its mail (`.eml` files): a browser that only knows the
/// address reads the links mailed to the people it acts for.
fn mail_dirs() -> &'static std::sync::Mutex<std::collections::HashMap<String, PathBuf>> {
    static DIRS: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, PathBuf>>> =
        std::sync::OnceLock::new();
    DIRS.get_or_init(Default::default)
}

pub fn mail_dir_of(base: &str) -> PathBuf {
    mail_dirs()
        .lock()
        .expect("mail dirs")
        .get(base)
        .cloned()
        .unwrap_or_else(|| panic!("no test app at {base}"))
}
