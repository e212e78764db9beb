//! The database goes away and comes back while people use the console: pages and the API answer
//! 503 (never 500) while it is down, quickly, and work again within seconds of it accepting
//! connections, with no restart of the console. A private PostgreSQL cluster of the test's own
//! is restarted and stopped; the shared server on 5432 is never touched.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::RunQueryDsl;
use meetergo_console::db::{DatabaseUrl, Db};
use meetergo_console::error::AppError;

use crate::helpers::fixtures::sign_up;
use crate::helpers::{backend, email, fresh_database, RequestHelper, TempDir, TestApp};

/// A PostgreSQL cluster in a temporary folder on a port of its own, run as an unprivileged user
/// when the tests run as root (the server refuses root).
pub(crate) struct PrivateCluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl PrivateCluster {
    pub(crate) fn start() -> Self {
        let bin = postgres_bin_dir();
        let dir =
            std::env::temp_dir().join(format!("console-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        if is_root() {
            let chown = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown");
            assert!(chown.success(), "chown of the cluster dir");
        }
        let port = free_port();
        let cluster = Self { dir, bin, port };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        cluster.pg_ctl(&["start"]);
        cluster
    }

    fn data(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = cmd
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("running {tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctl ACTION`, waiting until it is done (started: accepting connections).
    pub(crate) fn pg_ctl(&self, action: &[&str]) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.to_string_lossy()
        );
        let log = self.dir.join("server.log").to_string_lossy().into_owned();
        let mut args = vec![
            "-D",
            &self.data(),
            "-o",
            &options,
            "-l",
            &log,
            "-w",
            "-m",
            "fast",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
        args.extend(action.iter().map(|a| (*a).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run("pg_ctl", &args);
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
        if !is_root() {
            let _ = Command::new(self.bin.join("pg_ctl"))
                .args(["-D", &self.data(), "-m", "immediate", "stop"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The newest installed PostgreSQL's `bin` folder (Debian keeps them under /usr/lib/postgresql).
fn postgres_bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| Path::new(p).join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("an initdb under /usr/lib/postgresql")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One request of the load: when it was sent, how long it took, what it answered (0: no
/// answer at all).
#[derive(Debug, Clone, Copy)]
struct Sample {
    sent: Instant,
    took: Duration,
    status: u16,
    page: bool,
}

async fn cluster_op(cluster: &Arc<PrivateCluster>, action: &'static [&'static str]) {
    let c = Arc::clone(cluster);
    actix_web::rt::task::spawn_blocking(move || c.pg_ctl(action))
        .await
        .expect("pg_ctl task");
}

#[actix_web::test]
async fn the_console_recovers_by_itself_when_postgresql_restarts_or_stops() {
    if backend() != "postgres" {
        // A PostgreSQL restart is this backend's fault; the SQLite run covers the pool test
        // below. The PostgreSQL run of the suite executes this one.
        return;
    }
    let cluster = Arc::new(PrivateCluster::start());
    let app = TestApp::spawn_on(TempDir::new(), DatabaseUrl::Postgres(cluster.url()), |s| {
        s.api_rate_limit_per_minute = 1_000_000;
        s.api_rate_limit_burst = 1_000_000;
    })
    .await;
    let owner = sign_up(&app, "Outage Ltd", "Olga Outage", &email("outage")).await;
    let pat = owner.browser.create_pat("load", "30").await;

    let stop = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let mut workers = Vec::new();
    for worker in 0..6 {
        let (stop, samples) = (Arc::clone(&stop), Arc::clone(&samples));
        let page = worker % 3 == 0;
        // Raw requests with a timeout: a load driver counts failures rather than stopping.
        let client = owner.browser.http().clone();
        let url = if page {
            owner.browser.url("/integrations/api")
        } else {
            owner.browser.url("/v4/user/me")
        };
        let pat = pat.clone();
        workers.push(actix_web::rt::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let mut req = client.get(&url).timeout(Duration::from_secs(15));
                if !page {
                    req = req.header("authorization", format!("Bearer {pat}"));
                }
                let status = req.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
                samples.lock().unwrap().push(Sample {
                    sent,
                    took: sent.elapsed(),
                    status,
                    page,
                });
                actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }

    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    // 1. A restart: the server goes down and is back within a second or so.
    cluster_op(&cluster, &["restart"]).await;
    let back_after_restart = Instant::now();
    actix_web::rt::time::sleep(Duration::from_secs(7)).await;
    // 2. A stop of a few seconds, then a start.
    cluster_op(&cluster, &["stop"]).await;
    let stopped = Instant::now();
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    let readyz_down = app.anonymous().get("/readyz").await.status;
    // The periodic work meanwhile: a round of jobs fails and says so (the loop goes on), and
    // the usage counted in memory is kept for the next flush rather than lost.
    let counted = app.usage.pending_requests();
    let jobs_started = Instant::now();
    let jobs_down = app.run_jobs().await;
    let jobs_took = jobs_started.elapsed();
    let flush_down = app.usage.flush(&app.db, app.clock.now()).await;
    let kept = app.usage.pending_requests();
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    let starting = Instant::now();
    cluster_op(&cluster, &["start"]).await;
    let back_after_stop = Instant::now();
    actix_web::rt::time::sleep(Duration::from_secs(7)).await;
    let readyz_up = app.anonymous().get("/readyz").await.status;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("load worker");
    }
    let jobs_up = app.run_jobs().await;
    let written = app.flush_usage().await;

    assert!(
        jobs_down.failures > 0,
        "a round while down fails: {jobs_down}"
    );
    assert!(
        jobs_took < Duration::from_secs(30),
        "and does not hang ({jobs_took:?})"
    );
    assert_eq!(jobs_up.failures, 0, "the next round succeeds: {jobs_up}");
    assert!(flush_down.is_err(), "a flush while down fails");
    assert!(
        counted > 0 && kept >= counted,
        "its counts are kept ({counted} counted, {kept} kept)"
    );
    assert!(
        written >= kept,
        "and written once the database is back ({written} written, {kept} kept)"
    );

    let samples = samples.lock().unwrap().clone();
    assert!(
        samples.len() > 200,
        "the load ran ({} requests)",
        samples.len()
    );
    // Never a 500, never a dropped request: only 200 or 503.
    let odd: Vec<_> = samples
        .iter()
        .filter(|s| s.status != 200 && s.status != 503)
        .collect();
    assert!(odd.is_empty(), "answers other than 200/503: {odd:?}");
    // While the server was stopped: 503, quickly (not the whole pool timeout and more).
    let while_down: Vec<_> = samples
        .iter()
        .filter(|s| s.sent > stopped + Duration::from_millis(300) && s.sent + s.took < starting)
        .collect();
    assert!(
        while_down.iter().any(|s| s.page) && while_down.iter().any(|s| !s.page),
        "pages and API were tried while the database was down"
    );
    assert!(
        while_down.iter().all(|s| s.status == 503),
        "503 while down: {while_down:?}"
    );
    let slowest = while_down.iter().map(|s| s.took).max().unwrap_or_default();
    assert!(
        slowest <= Duration::from_millis(3500),
        "no request waits longer than the pool timeout while down (slowest {slowest:?})"
    );
    assert_eq!(readyz_down, 503, "/readyz while down");
    assert_eq!(readyz_up, 200, "/readyz after recovery");
    // Within 5 s of PostgreSQL accepting connections again, every request succeeds.
    // (Each phase lasts 7 s after the database is back; the window ends before the next one.)
    for back in [back_after_restart, back_after_stop] {
        let (from, to) = (
            back + Duration::from_secs(5),
            back + Duration::from_millis(6500),
        );
        let after: Vec<_> = samples
            .iter()
            .filter(|s| s.sent > from && s.sent + s.took < to)
            .collect();
        assert!(
            after.len() > 20 && after.iter().any(|s| s.page),
            "requests ran after recovery"
        );
        assert!(
            after.iter().all(|s| s.status == 200),
            "all succeed 5 s after the database is back: {:?}",
            after
                .iter()
                .filter(|s| s.status != 200)
                .map(|s| (s.sent - back, s.page))
                .collect::<Vec<_>>()
        );
    }
}

/// With one pooled connection: a job that panics inside a transaction must not leave that
/// transaction open for the next job, whose write must really commit.
#[actix_web::test]
async fn a_panic_inside_a_transaction_does_not_poison_the_pool() {
    let dir = TempDir::new();
    let url = fresh_database(&dir.0);
    let db = Db::connect(&url, 1).expect("pool");
    db.run(|c| c.batch_execute("CREATE TABLE probe (n INTEGER NOT NULL)"))
        .await
        .expect("table");
    let panicked = db
        .transaction(|c| -> Result<(), AppError> {
            c.batch_execute("INSERT INTO probe (n) VALUES (1)")?;
            panic!("a bug in the middle of a transaction");
        })
        .await;
    assert!(panicked.is_err(), "the panic is reported as an error");
    db.transaction(|c| {
        c.batch_execute("INSERT INTO probe (n) VALUES (2)")?;
        Ok(())
    })
    .await
    .expect("the next write");

    // A second, independent connection sees exactly the committed write.
    let other = Db::connect(&url, 1).expect("second pool");
    let rows: Vec<i64> = other
        .run(|c| {
            diesel::select(diesel::dsl::sql::<BigInt>(
                "CAST(COALESCE(SUM(n * 10 + 1), 0) AS BIGINT) FROM probe",
            ))
            .load::<i64>(c)
        })
        .await
        .expect("read back");
    // Only n = 2 (21): the panicked insert (11) was rolled back, the later one committed.
    assert_eq!(rows, vec![21]);
}

/// Session and sign-in bookkeeping commits without waiting for the disk on PostgreSQL; all other
/// work (revoking sessions, audit events, credentials) waits as usual.
#[actix_web::test]
async fn only_bookkeeping_skips_the_wait_for_the_disk() {
    if backend() != "postgres" {
        // SQLite (WAL, synchronous = NORMAL) has no per-commit flush to skip.
        return;
    }
    let dir = TempDir::new();
    let db = Db::connect(&fresh_database(&dir.0), 2).expect("pool");
    let setting = |c: &mut meetergo_console::db::DbConnection| {
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
            "current_setting('synchronous_commit')",
        ))
        .load::<String>(c)
    };
    assert_eq!(db.run(setting).await.expect("main pool"), vec!["on"]);
    assert_eq!(
        db.run_bookkeeping(setting).await.expect("bookkeeping pool"),
        vec!["off"]
    );
}
