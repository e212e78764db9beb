//! The console binary as a child process for the sweep, and the callers that sweep it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};
use serde_json::json;

use crate::helpers::client::cookie_less_http;
use crate::helpers::{
    fresh_database, reserve_port, Browser, RequestHelper, TempDir, TokenUser, PASSWORD,
};

use super::probes::{Caller, Known};
use super::values::IDP_METADATA;
use crate::helpers::html::new_secret_in;

/// The console binary, spawned with its output in a log file; killed on drop.
pub struct Console {
    pub child: Child,
    pub address: String,
    log: PathBuf,
    _dir: TempDir,
}

impl Console {
    pub async fn start() -> Self {
        let dir = TempDir::new();
        let database_url = match fresh_database(&dir.0) {
            meetergo_console::db::DatabaseUrl::Sqlite(path) => path,
            meetergo_console::db::DatabaseUrl::Postgres(url) => url,
        };
        let port = reserve_port();
        let log = dir.0.join("console.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_meetergo-console"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATA_DIR", &dir.0)
            .env("DATABASE_URL", &database_url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env("SECRET_KEY", "hostile-sweep-secret-key-0123456789abcdef")
            .env("LOGIN_RATE_LIMIT_PER_MINUTE", "1000000")
            .env("API_RATE_LIMIT_PER_MINUTE", "1000000")
            .env("API_RATE_LIMIT_BURST", "1000000")
            // An OpenID provider that cannot be reached: the routes still check their input.
            .env("OIDC_PROVIDERS", "okta")
            .env(
                "OKTA_ISSUER_URL",
                format!("http://127.0.0.1:{}", reserve_port()),
            )
            .env("OKTA_CLIENT_ID", "sweep")
            .env("OKTA_CLIENT_SECRET", "sweep-secret")
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .expect("the console binary starts");
        let mut console = Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        let client = Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let up = client
                .get(format!("{}/healthz", console.address))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK);
            if up {
                break;
            }
            assert!(
                console.child.try_wait().unwrap().is_none() && Instant::now() < deadline,
                "the console did not come up; its log:\n{}",
                console.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        console
    }

    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An anonymous visitor with a CSRF cookie and token (so forms get past CSRF), a signed-in
/// owner with a personal access token, and the company's API key, plus the ids the sweep needs.
pub async fn callers(console: &Console) -> (Vec<Caller>, Known) {
    let anonymous = Browser::new(&console.address);
    let anonymous_csrf = anonymous.csrf_token().await;

    let admin = Browser::new(&console.address);
    let r = admin
        .post_form(
            "/signup",
            &[
                ("company_name", "Hostile Co"),
                ("name", "Sweep Admin"),
                ("email", "sweep-admin@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "signup: {}", r.body);
    let r = admin
        .post_form("/settings/sso", &[("metadata_xml", IDP_METADATA)])
        .await;
    assert_eq!(r.status, 303, "SAML set up for the sweep's company");
    let pat = admin.create_pat("sweep", "30").await;
    let api_key = admin.create_api_key("sweep", "30").await;
    let r = admin.post_form("/settings/provisioning/secret", &[]).await;
    assert_eq!(r.status, 200, "SCIM secret generated: {}", r.body);
    let scim_secret = new_secret_in(&r.body).expect("the SCIM secret is shown");
    let csrf = admin.csrf_token().await;
    let as_admin = TokenUser::new(&console.address, cookie_less_http(), &pat);
    let me = as_admin.get("/v4/user/me").await;
    let created = as_admin
        .post_json(
            "/v4/meeting-type",
            &json!({"title": "Intro", "slug": "intro", "duration": 30}),
        )
        .await;
    let member = TokenUser::new(&console.address, cookie_less_http(), &api_key)
        .post_json(
            "/v4/user",
            &json!({"email": "sweep-member@example.com", "givenName": "Mia"}),
        )
        .await;
    let known = Known {
        me: me.json()["id"].as_str().expect("my id").to_owned(),
        member: member.json()["userId"]
            .as_str()
            .expect("member id")
            .to_owned(),
        meeting_type: created.json()["id"]
            .as_str()
            .expect("meeting type id")
            .to_owned(),
    };
    // The setup is real, or the sweep of the routes that need it would stay shallow.
    for page in [
        format!("/settings/members/{}/offboard", known.member),
        format!("/v4/meeting-type/{}", known.meeting_type),
        "/sso/saml/hostile-co/metadata".to_owned(),
    ] {
        let with_both = admin.request(Method::GET, &page).bearer_auth(&pat);
        let r = admin.send(with_both).await;
        assert_eq!(r.status, 200, "{page}");
    }
    let r = TokenUser::new(&console.address, cookie_less_http(), &scim_secret)
        .get(&format!("/scim/v2/Users/{}", known.member))
        .await;
    assert_eq!(r.status, 200, "SCIM reaches the member: {}", r.body);
    let callers = vec![
        Caller {
            name: "anonymous",
            client: anonymous.http().clone(),
            csrf: anonymous_csrf,
            bearer: None,
            user_header: None,
            signed_in: false,
            api_only: false,
            scim_bearer: None,
        },
        Caller {
            name: "admin",
            client: admin.http().clone(),
            csrf,
            bearer: Some(pat),
            user_header: None,
            signed_in: true,
            api_only: false,
            scim_bearer: Some(scim_secret),
        },
        Caller {
            name: "api key",
            client: cookie_less_http(),
            csrf: String::new(),
            bearer: Some(api_key),
            user_header: Some(known.me.clone()),
            signed_in: false,
            api_only: true,
            scim_bearer: None,
        },
    ];
    (callers, known)
}
