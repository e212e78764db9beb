//! A deploy sends SIGTERM to the real binary while clients keep sending requests on keep-alive
//! connections: nothing is reset, `/readyz` turns 503 at once, every response during the drain
//! closes its connection, and the process exits 0 once the drain period is over.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use meetergo_console::db::DatabaseUrl;
use reqwest::header::CONNECTION;
use reqwest::StatusCode;

use crate::helpers::client::cookie_less_http;
use crate::helpers::{csrf_in, fresh_database, TempDir};

const DRAIN: Duration = Duration::from_secs(2);
const CLIENTS: usize = 6;

/// The console binary, killed if the test ends before it exited by itself.
struct Console {
    child: Child,
    base: String,
}

impl Drop for Console {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

async fn start_console(dir: &std::path::Path) -> Console {
    let database_url = match fresh_database(dir) {
        DatabaseUrl::Sqlite(path) => path,
        DatabaseUrl::Postgres(url) => url,
    };
    let port = free_port();
    let log = std::fs::File::create(dir.join("console.log")).expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_meetergo-console"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", dir)
        .env("DATABASE_URL", &database_url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("SECRET_KEY", "shutdown-test-secret-key-0123456789abcdef")
        .env("SHUTDOWN_DRAIN_SECS", DRAIN.as_secs().to_string())
        .env("LOGIN_RATE_LIMIT_PER_MINUTE", "100000")
        // The clients fail sign-in on one account far more than 100 times an hour.
        .env("LOGIN_ACCOUNT_FAILURES_PER_HOUR", "1000000")
        .env("STATIC_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
        .env("RUST_LOG", "info")
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("the console binary starts");
    let console = Console {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = cookie_less_http();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{}/healthz", console.base)).send().await {
            if r.status() == StatusCode::OK {
                return console;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the console did not answer /healthz within 60 s: {}",
            std::fs::read_to_string(dir.join("console.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What one request saw.
struct Seen {
    what: &'static str,
    sent: Instant,
    answered: Instant,
    outcome: Result<(StatusCode, bool), String>,
}

/// One browser-like client on its own keep-alive connection: GET the sign-in page, POST the
/// form (with a wrong password), again and again until `stop`.
async fn keep_alive_client(base: String, stop: Arc<AtomicBool>) -> Vec<Seen> {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1)
        .build()
        .expect("client");
    let mut seen = Vec::new();
    let mut token = String::new();
    while !stop.load(Ordering::SeqCst) {
        let sent = Instant::now();
        let outcome = match http.get(format!("{base}/login")).send().await {
            Ok(r) => {
                let status = r.status();
                let close = closes(&r);
                match r.text().await {
                    Ok(html) => {
                        token = csrf_in(&html).unwrap_or_default();
                        Ok((status, close))
                    }
                    Err(e) => Err(format!("{e:?}")),
                }
            }
            Err(e) => Err(format!("{e:?}")),
        };
        seen.push(Seen {
            what: "GET /login",
            sent,
            answered: Instant::now(),
            outcome,
        });
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let sent = Instant::now();
        let outcome = http
            .post(format!("{base}/login"))
            .form(&[
                ("email", "nobody@example.com"),
                ("password", "not the password"),
                ("csrf_token", token.as_str()),
            ])
            .send()
            .await
            .map(|r| (r.status(), closes(&r)))
            .map_err(|e| format!("{e:?}"));
        seen.push(Seen {
            what: "POST /login",
            sent,
            answered: Instant::now(),
            outcome,
        });
    }
    seen
}

fn closes(r: &reqwest::Response) -> bool {
    r.headers()
        .get(CONNECTION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("close"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_without_dropping_a_request_then_exits_0() {
    let dir = TempDir::new();
    let mut console = start_console(&dir.0).await;
    let http = cookie_less_http();
    let ready = http
        .get(format!("{}/readyz", console.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK);

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(keep_alive_client(console.base.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;

    let signalled = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &console.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());

    // /readyz answers 503 at once (well within the drain period), on a new connection.
    let mut readyz_503_at = None;
    while signalled.elapsed() < Duration::from_secs(1) {
        let r = cookie_less_http()
            .get(format!("{}/readyz", console.base))
            .send()
            .await
            .expect("/readyz answers while draining");
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert!(closes(&r), "the 503 closes its connection");
            readyz_503_at = Some(Instant::now());
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // (Measured to the answer: on a loaded machine the request itself takes a while.)
    let readyz_503_at = readyz_503_at.expect("/readyz turned 503 within 1 s of SIGTERM");

    // The clients keep going for most of the drain period.
    tokio::time::sleep(
        (signalled + DRAIN).saturating_duration_since(Instant::now() + Duration::from_millis(300)),
    )
    .await;
    stop.store(true, Ordering::SeqCst);
    let mut seen = Vec::new();
    for c in clients {
        seen.extend(c.await.expect("client task"));
    }

    let failures: Vec<String> = seen
        .iter()
        .filter_map(|s| {
            s.outcome.as_ref().err().map(|e| {
                format!(
                    "{} sent {:?} after SIGTERM: {e}",
                    s.what,
                    s.sent.checked_duration_since(signalled)
                )
            })
        })
        .collect();
    assert!(failures.is_empty(), "requests failed: {failures:#?}");

    let before: Vec<_> = seen.iter().filter(|s| s.answered < signalled).collect();
    let during: Vec<_> = seen.iter().filter(|s| s.sent >= readyz_503_at).collect();
    assert!(
        before.len() >= CLIENTS,
        "traffic before SIGTERM: {}",
        before.len()
    );
    assert!(
        during.len() >= CLIENTS,
        "traffic during the drain: {}",
        during.len()
    );
    for s in &during {
        let (status, close) = s.outcome.as_ref().map(|o| *o).unwrap_or_default();
        assert!(
            close,
            "{} during the drain kept its connection open",
            s.what
        );
        let expected = match s.what {
            "GET /login" => StatusCode::OK,
            _ => StatusCode::UNAUTHORIZED,
        };
        assert_eq!(status, expected, "{} during the drain", s.what);
    }
    assert!(
        before
            .iter()
            .all(|s| s.outcome.as_ref().is_ok_and(|(_, close)| !close)),
        "before SIGTERM, responses keep their connection alive"
    );

    // Once the drain period is over the process stops by itself, with status 0.
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = console.child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the console still runs 15 s after the drain: {}",
            std::fs::read_to_string(dir.0.join("console.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let stopped_after = signalled.elapsed();
    assert!(
        status.success(),
        "exit status {status:?}: {}",
        std::fs::read_to_string(dir.0.join("console.log")).unwrap_or_default()
    );
    assert!(
        stopped_after >= DRAIN,
        "stopped {stopped_after:?} after SIGTERM, before the drain period ended"
    );
}
