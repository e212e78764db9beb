//! A deploy's SIGTERM while a large export is being downloaded: the download either completes
//! (a whole document whose lists match its counts) or is cut off (bytes that do not parse as
//! JSON) — never a truncated document that parses as complete. Two downloads run: one reads on
//! and completes during the drain; one stalls, so the server still holds it when its shutdown
//! timeout (30 s) ends, and is cut. The exports write nothing but their audit records, and the
//! process still exits 0.
//!
//! The data is prepared by an in-process app; then the real binary serves the same database
//! and receives the signal.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meetergo_console::db::DatabaseUrl;
use serde_json::Value;

use crate::helpers::client::cookie_less_http;
use crate::helpers::db::{events_of_kind, user};
use crate::helpers::fixtures::sign_up;
use crate::helpers::{email, reserve_port, TempDir, TestApp};

use super::large::seed;

/// Settings::for_tests's key: the binary must hash the API key as the test app did.
const TEST_SECRET_KEY: &str = "test-secret-key-that-is-long-enough-0123456789";

struct Console(Child);

impl Drop for Console {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

async fn start_binary(dir: &std::path::Path, url: &DatabaseUrl, port: u16) -> Console {
    let database_url = match url {
        DatabaseUrl::Sqlite(path) => path.clone(),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    let log = std::fs::File::create(dir.join("console.log")).expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_meetergo-console"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", dir)
        .env("DATABASE_URL", &database_url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("SECRET_KEY", TEST_SECRET_KEY)
        .env("SHUTDOWN_DRAIN_SECS", "1")
        .env("STATIC_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
        .env("RUST_LOG", "info")
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("the console binary starts");
    let console = Console(child);
    let http = cookie_less_http();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
        {
            if r.status().is_success() {
                return console;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the console did not start: {}",
            std::fs::read_to_string(dir.join("console.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One export download in progress: the bytes so far.
struct Download {
    response: reqwest::Response,
    body: Vec<u8>,
}

impl Download {
    async fn start(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), 200);
        let mut d = Self {
            response,
            body: Vec::new(),
        };
        let first = d
            .response
            .chunk()
            .await
            .expect("a first chunk")
            .expect("bytes");
        d.body.extend_from_slice(&first);
        d
    }

    /// Reads to the end: Ok when the body ended cleanly, the error when it was cut off.
    async fn finish(&mut self) -> Result<(), String> {
        loop {
            match self.response.chunk().await {
                Ok(Some(bytes)) => self.body.extend_from_slice(&bytes),
                Ok(None) => return Ok(()),
                Err(e) => return Err(format!("{e:?}")),
            }
        }
    }

    /// Complete, or visibly cut: never a short document that parses.
    fn judge(&self, ended: &Result<(), String>) {
        let parsed = serde_json::from_slice::<Value>(&self.body);
        match ended {
            Ok(()) => {
                let doc = parsed.expect("a download that ended cleanly is one JSON document");
                let appointments = doc["appointments"].as_array().expect("appointments");
                assert_eq!(
                    appointments.len() as u64,
                    doc["counts"]["appointments"].as_u64().expect("count"),
                    "the document is whole"
                );
                assert!(appointments.len() >= 50_000, "{}", appointments.len());
                eprintln!("an export completed ({} bytes)", self.body.len());
            }
            Err(e) => {
                assert!(
                    parsed.is_err(),
                    "a cut-off download ({e}) must not parse as a complete document"
                );
                eprintln!("an export was cut off after {} bytes: {e}", self.body.len());
            }
        }
    }
}

#[actix_web::test]
async fn sigterm_during_an_export_never_leaves_a_document_that_looks_complete() {
    // 1. The data, by the in-process app: an owner, a Platform API key, 50,000 appointments.
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Signal Co", "Sid Signal", &email("signal")).await;
    let key = owner.browser.create_api_key("Export", "30").await;
    let person = user(&app, &owner.id);
    seed(&app, &person.id, &person.company_id);
    let url = app.settings.database_url.clone();
    app.shut_down().await;
    let events_before = events_of_kind(&app, "user.exported").len();

    // 2. The real binary on that database; the download starts, then the signal comes.
    let dir = TempDir::new();
    let port = reserve_port();
    let mut console = start_binary(&dir.0, &url, port).await;
    let http = cookie_less_http();
    let download = || {
        http.get(format!(
            "http://127.0.0.1:{port}/v4/user/{}/export",
            owner.id
        ))
        .bearer_auth(&key)
        .header("x-meetergo-api-user-id", owner.id.as_str())
        .send()
    };
    // Two downloads under way: one reads on, one stalls (a slow client) until the process is
    // gone, so that both endings happen: completed during the drain, and cut off when the
    // server gives up on the connections still open after its shutdown timeout.
    let (mut reader, mut staller) = (
        Download::start(download().await.expect("an export starts")).await,
        Download::start(download().await.expect("an export starts")).await,
    );
    let kill = Command::new("kill")
        .args(["-TERM", &console.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let read_on = reader.finish().await;
    reader.judge(&read_on);
    assert!(
        read_on.is_ok(),
        "a client that reads on gets the whole file during the drain"
    );
    // The process ends by itself, cleanly.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = console.0.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the console still runs 60 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        status.success(),
        "exit status {status:?}: {}",
        std::fs::read_to_string(dir.0.join("console.log")).unwrap_or_default()
    );
    let stalled = staller.finish().await;
    staller.judge(&stalled);
    // 15 MB do not fit in the socket buffers: the stalled download cannot have been finished.
    assert!(stalled.is_err(), "the stalled download was cut off");
    // Nothing written by the exports but their audit records (and no file in the data folder).
    assert_eq!(
        events_of_kind(&app, "user.exported").len(),
        events_before + 2
    );
    let files: Vec<_> = std::fs::read_dir(&dir.0)
        .expect("data dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "console.log" && n != "mail")
        .collect();
    assert!(files.is_empty(), "files written: {files:?}");
}
