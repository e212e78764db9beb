//! Nothing in clear, in the database or the logs: credentials are stored as HMACs only, and
//! neither they nor their secrets appear in any stored byte or log line.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use diesel::prelude::*;
use meetergo_console::auth::keys::Keys;
use meetergo_console::db::schema::{personal_access_tokens, platform_api_keys};
use meetergo_console::db::DatabaseUrl;

use crate::helpers::fixtures::{create_user, secret_part, sign_up};
use crate::helpers::{backend, email, RequestHelper, TestApp};

#[derive(Clone)]
struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs, once per test binary, a global subscriber that keeps every log line (the server's
/// at trace level) in memory. None when another subscriber was installed first.
fn captured_logs() -> Option<Arc<Mutex<Vec<u8>>>> {
    static LOGS: OnceLock<Option<Arc<Mutex<Vec<u8>>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = LogSink(buf.clone());
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,meetergo_console=trace,tracing_actix_web=trace",
            ))
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .try_init()
            .ok()
            .map(|()| buf)
    })
    .clone()
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    v: String,
}

/// Everything the database holds, as bytes: the SQLite files, or every row of every PostgreSQL
/// table as JSON.
fn database_bytes(app: &TestApp) -> Vec<u8> {
    match &app.settings.database_url {
        DatabaseUrl::Sqlite(path) => {
            let mut all = Vec::new();
            for suffix in ["", "-wal", "-shm", "-journal"] {
                if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                    all.extend_from_slice(&bytes);
                }
            }
            assert!(
                std::path::Path::new(path).starts_with(&app.data_dir),
                "the database is the test's own file"
            );
            all
        }
        DatabaseUrl::Postgres(url) => {
            let mut conn = diesel::PgConnection::establish(url).expect("connect");
            let tables: Vec<TextRow> = diesel::sql_query(
                "SELECT table_name::text AS v FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .load(&mut conn)
            .expect("tables");
            assert!(tables.iter().any(|t| t.v == "personal_access_tokens"));
            let mut all = Vec::new();
            for t in tables {
                let rows: Vec<TextRow> = diesel::sql_query(format!(
                    "SELECT row_to_json(t)::text AS v FROM \"{}\" t",
                    t.v
                ))
                .load(&mut conn)
                .expect("rows");
                for r in rows {
                    all.extend_from_slice(r.v.as_bytes());
                    all.push(b'\n');
                }
            }
            all
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn is_hmac_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[actix_web::test]
async fn no_credential_is_stored_or_logged_in_clear() {
    let logs = captured_logs();
    let app = TestApp::spawn().await;
    let vault = sign_up(&app, "Vault", "Va Ult", &email("vault")).await;
    let owner = vault.id.clone();

    let mut secrets = Vec::new();
    for (name, expiry) in [("one", "7"), ("two", "30"), ("three", "none")] {
        secrets.push(vault.browser.create_pat(name, expiry).await);
    }
    for (name, days) in [("Production", "30"), ("Staging", "90")] {
        secrets.push(vault.browser.create_api_key(name, days).await);
    }
    // Use each (valid, with a wrong header, and a mistyped copy), so every path that sees a
    // credential has run: authentication, last-used, audit, errors.
    for s in &secrets {
        let header = if s.starts_with("ak_live:") {
            Some(owner.as_str())
        } else {
            None
        };
        let r = app.token(s).acting_as_opt(header).get("/v4/user/me").await;
        assert_eq!(r.status, 200);
        let r = app
            .token(s)
            .acting_as("someone-else")
            .get("/v4/meeting-type")
            .await;
        assert_eq!(r.status, 403);
        let r = app.token(&format!("{s}x")).get("/v4/user/me").await;
        assert_eq!(r.status, 401);
    }
    let key = secrets.last().expect("a key").clone();
    create_user(&app, &key, "Newbie", "member").await;
    let page = vault.browser.get("/admin/api-keys").await.body;
    assert!(!secrets.iter().any(|s| page.contains(s.as_str())));
    // The SCIM secret, used both ways and mistyped.
    let scim = crate::scim::generate_secret(&vault).await;
    assert_eq!(app.token(&scim).get("/scim/v2/Users").await.status, 200);
    let r = crate::scim::basic(
        &app,
        reqwest::Method::GET,
        "/scim/Users",
        &vault.company_id,
        &scim,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = app.token(&format!("{scim}x")).get("/scim/v2/Users").await;
    assert_eq!(r.status, 401);

    // Stored: only the HMAC of each, as hex.
    let keys = Keys::derive(app.settings.secret_key_bytes());
    let (pat_hashes, key_hashes) = {
        let mut conn = app.db.conn().expect("db");
        let p: Vec<String> = personal_access_tokens::table
            .select(personal_access_tokens::token_hash)
            .load(&mut *conn)
            .expect("pats");
        let k: Vec<String> = platform_api_keys::table
            .select(platform_api_keys::secret_hash)
            .load(&mut *conn)
            .expect("keys");
        (p, k)
    };
    assert_eq!(pat_hashes.len(), 3);
    assert_eq!(key_hashes.len(), 2);
    for h in pat_hashes.iter().chain(&key_hashes) {
        assert!(is_hmac_hex(h), "stored as HMAC-SHA256 hex: {h}");
    }
    for s in &secrets {
        let hash = keys.credential_hash(s);
        let stored = if s.starts_with("rgo-") {
            &pat_hashes
        } else {
            &key_hashes
        };
        assert!(
            stored.contains(&hash),
            "the HMAC of each credential is stored"
        );
    }

    let db = database_bytes(&app);
    assert!(db.len() > 1000, "read the {} database", backend());
    assert!(
        contains(&db, &pat_hashes[0]),
        "the scan sees the stored hashes"
    );
    assert!(!contains(&db, &scim), "the SCIM secret is stored in clear");
    assert!(
        contains(&db, &keys.credential_hash(&scim)),
        "the SCIM secret's HMAC is stored"
    );
    for s in &secrets {
        assert!(!contains(&db, s), "a credential is stored in clear");
        assert!(
            !contains(&db, secret_part(s)),
            "a credential's secret is stored in clear"
        );
    }

    match logs {
        Some(buf) => {
            let logged = buf.lock().expect("logs").clone();
            assert!(
                contains(&logged, "/v4/user/me"),
                "the capture sees the request log"
            );
            for s in &secrets {
                assert!(
                    !contains(&logged, secret_part(s)),
                    "a credential is logged in clear"
                );
            }
            assert!(
                !contains(&logged, &scim),
                "the SCIM secret is logged in clear"
            );
        }
        None => eprintln!("another tracing subscriber was installed first: logs not checked"),
    }
}
