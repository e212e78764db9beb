//! Hostile input on every route: each input of each route in `ROUTES` gets each value of
//! `hostile_values()`, anonymously and as a signed-in admin (session cookie, valid CSRF token,
//! a personal access token for `/v4`), against the real binary as a child process. No answer
//! may be 5xx, the process must stay up, and its log must hold no ERROR line.
//!
//! `ROUTES` is the one list of routes; `every_route_of_the_app_is_swept` fails when a route is
//! added to the source without being added here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Client, Method, StatusCode};

use crate::helpers::{self, csrf_in, new_secret_in, tempfile_dir::TempDir, PASSWORD};

/// One route and its inputs, with a harmless value for each input that is not under test.
pub struct Route {
    pub method: &'static str,
    /// The pattern as written in the source (`{name}` for a path parameter).
    pub path: &'static str,
    pub query: &'static [&'static str],
    /// Form fields (pages) or JSON fields (`/v4`): name and harmless value (raw JSON for `/v4`).
    pub fields: &'static [(&'static str, &'static str)],
    /// Would end the admin's session or undo the sweep's setup: swept anonymously only.
    pub anonymous_only: bool,
}

const fn page(method: &'static str, path: &'static str) -> Route {
    Route {
        method,
        path,
        query: &[],
        fields: &[],
        anonymous_only: false,
    }
}

/// Every route of the console. Add a route here when you add it to the app.
pub const ROUTES: &[Route] = &[
    page("GET", "/healthz"),
    page("GET", "/readyz"),
    page("GET", "/"),
    page("GET", "/login"),
    Route {
        fields: &[
            ("email", "nobody@example.com"),
            ("password", "wrong password"),
        ],
        ..page("POST", "/login")
    },
    Route {
        anonymous_only: true,
        ..page("POST", "/logout")
    },
    page("GET", "/signup"),
    Route {
        // The harmless email is invalid, so no sweep request creates an account.
        fields: &[
            ("company_name", "Hostile Co"),
            ("name", "Hostile"),
            ("email", "not-an-address"),
            ("password", PASSWORD),
        ],
        ..page("POST", "/signup")
    },
    page("GET", "/invite/{token}"),
    Route {
        fields: &[("name", "Invitee"), ("password", PASSWORD)],
        ..page("POST", "/invite/{token}")
    },
    Route {
        query: &["purpose", "invitation"],
        ..page("GET", "/auth/oidc/{provider}/start")
    },
    Route {
        query: &["code", "state", "error", "error_description"],
        ..page("GET", "/auth/oidc/{provider}/callback")
    },
    Route {
        fields: &[("identifier", "nobody@example.com")],
        ..page("POST", "/sso/start")
    },
    page("GET", "/sso/saml/{slug}/metadata"),
    Route {
        fields: &[
            ("SAMLResponse", "PHNhbWxwOlJlc3BvbnNlLz4="),
            ("RelayState", "x"),
        ],
        ..page("POST", "/sso/saml/{slug}/acs")
    },
    page("GET", "/dashboard"),
    page("GET", "/integrations"),
    page("GET", "/integrations/api"),
    Route {
        fields: &[("name", "sweep"), ("expiry", "30"), ("expires_at", "")],
        ..page("POST", "/integrations/api/tokens")
    },
    page("POST", "/integrations/api/tokens/{id}/revoke"),
    page("GET", "/admin/api-keys"),
    Route {
        fields: &[("name", "sweep"), ("expiry", "30"), ("expires_at", "")],
        ..page("POST", "/admin/api-keys")
    },
    page("POST", "/admin/api-keys/{id}/deactivate"),
    page("POST", "/admin/api-keys/{id}/activate"),
    page("POST", "/admin/api-keys/{id}/revoke"),
    page("GET", "/settings"),
    Route {
        query: &["q", "page"],
        ..page("GET", "/settings/members")
    },
    Route {
        fields: &[("role", "member")],
        ..page("POST", "/settings/members/{id}/role")
    },
    page("POST", "/settings/members/{id}/sign-out"),
    Route {
        query: &["transfer_to"],
        ..page("GET", "/settings/members/{id}/offboard")
    },
    Route {
        fields: &[("transfer_to", "00000000-0000-4000-8000-000000000000")],
        ..page("POST", "/settings/members/{id}/offboard")
    },
    Route {
        fields: &[("email", "invitee@example.com"), ("role", "nobody")],
        ..page("POST", "/settings/members/invite")
    },
    page("POST", "/settings/invitations/{id}/resend"),
    page("POST", "/settings/invitations/{id}/revoke"),
    Route {
        query: &["actor", "kind", "from", "to", "page"],
        ..page("GET", "/settings/audit")
    },
    Route {
        query: &["actor", "kind", "from", "to"],
        ..page("GET", "/settings/audit.csv")
    },
    page("GET", "/settings/company"),
    Route {
        fields: &[
            ("name", "Hostile Co"),
            ("require_invitation", "on"),
            ("allowed_domains", ""),
        ],
        ..page("POST", "/settings/company")
    },
    Route {
        fields: &[
            ("user_id", "00000000-0000-4000-8000-000000000000"),
            ("password", "wrong password"),
        ],
        ..page("POST", "/settings/company/transfer-ownership")
    },
    page("GET", "/settings/sso"),
    Route {
        fields: &[
            ("metadata_xml", "<EntityDescriptor/>"),
            ("allow_sha1", "on"),
            ("allow_idp_initiated", "on"),
            ("enforce_sso", "on"),
        ],
        ..page("POST", "/settings/sso")
    },
    Route {
        anonymous_only: true,
        ..page("POST", "/settings/sso/remove")
    },
    page("GET", "/profile"),
    page("POST", "/profile/identities/{id}/unlink"),
    page("GET", "/static/{file}"),
    // The JSON API: fields hold raw JSON.
    page("GET", "/v4/user/me"),
    Route {
        query: &["limit", "offset"],
        ..page("GET", "/v4/user")
    },
    Route {
        fields: &[
            ("email", r#""not-an-address""#),
            ("givenName", r#""Ada""#),
            ("familyName", r#""Lovelace""#),
            ("role", r#""member""#),
        ],
        ..page("POST", "/v4/user")
    },
    Route {
        fields: &[("givenName", r#""Ada""#), ("familyName", r#""Lovelace""#)],
        ..page("PATCH", "/v4/user/{id}")
    },
    page("DELETE", "/v4/user/{id}"),
    page("GET", "/v4/meeting-type"),
    Route {
        fields: &[
            ("title", r#""Sweep""#),
            ("slug", r#""sweep""#),
            ("duration", "30"),
        ],
        ..page("POST", "/v4/meeting-type")
    },
    page("GET", "/v4/meeting-type/{id}"),
    Route {
        fields: &[
            ("title", r#""Sweep""#),
            ("slug", r#""sweep-2""#),
            ("duration", "45"),
        ],
        ..page("PATCH", "/v4/meeting-type/{id}")
    },
    Route {
        query: &["userId", "page", "limit"],
        ..page("GET", "/v4/appointment/paginated")
    },
    page("GET", "/v4/openapi.json"),
    // Last: it deletes the meeting type the routes above use.
    page("DELETE", "/v4/meeting-type/{id}"),
];

/// A value a person might send to hurt or confuse the console.
pub struct Hostile {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

pub fn hostile_values() -> Vec<Hostile> {
    let text = |name, s: &str| Hostile {
        name,
        bytes: s.as_bytes().to_vec(),
    };
    vec![
        text("NUL", "\0"),
        text("NUL inside", "ada\0@example.com"),
        text("control characters", "\u{1}\u{7}\u{8}\u{1b}[31m\u{7f}"),
        text("C1 control", "x\u{85}y"),
        text("CR LF", "a\r\nSet-Cookie: x=1"),
        text("100 kB", &"A".repeat(100_000)),
        Hostile {
            name: "invalid UTF-8",
            bytes: vec![0xFF, 0xFE, b'x', 0xC0, 0x80],
        },
        text("bidi override", "\u{202E}moc.elpmaxe@ada"),
        text("zero width", "ad\u{200B}a@exam\u{FEFF}ple.com"),
        text("SQL", "' OR 1=1 --"),
        text("SQL drop", "'; DROP TABLE users; --"),
        text("LIKE wildcards", "%_\\%\\"),
        text("HTML", "<script>alert(1)</script>"),
        text("HTML attribute", "\"><img src=x onerror=alert(1)>"),
        text("quoted email", "a\"xxxx@x.test"),
        text("huge number", "99999999999999999999"),
        text("negative huge number", "-99999999999999999999"),
        text("minus one", "-1"),
        text("zero", "0"),
        text("i64 max", "9223372036854775807"),
        text("float overflow", "1e309"),
        text("malformed UUID", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"),
        text("nil UUID", "00000000-0000-0000-0000-000000000000"),
        text("path traversal", "../../../etc/passwd"),
        text("encoded NUL text", "%00"),
        text("base64 XML bomb", &base64(BILLION_LAUGHS)),
        text("base64 XXE", &base64(XXE)),
        text("empty", ""),
        text("spaces", "   "),
    ]
}

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&g;</samlp:Response>"#;
const XXE: &str = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">&x;</samlp:Response>"#;

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// IdP metadata with a signing certificate (self-signed, for these tests only), so the SAML
/// routes of the sweep's company have a configuration to check responses against.
const IDP_METADATA: &str = concat!(
    r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" "#,
    r#"xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="http://127.0.0.1:9/idp">"#,
    r#"<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">"#,
    r#"<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>"#,
    "MIIDFTCCAf2gAwIBAgIUdraprTVbdi6RgrrhNEQHiKwqdxEwDQYJKoZIhvcNAQELBQAwGTEXMBUGA1UEAwwOc3dlZXAtaWRwLnRlc3QwIBcNMjYxMjAxMTQ1MjIxWhgPMjEyNjExMDcxNDUyMjFaMBkxFzAVBgNVBAMMDnN3ZWVwLWlkcC50ZXN0MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3S/0TdT7PyG8exnXdSRbd9ZVEWhJppczKQEQbpEDsbVNAX37wKf4cAM36OW5fjIdaH3ZkCx4Uktej5cPWouUgudlWTdQXlzGiPllU+4ZWeqyyGz48kF1kqxZPB4sud+HmmmgW21LCojkgLwVDcbTvkV4gNw2HD6TSIm/HbySJaj65mo5QVDm7y/kPtC1JJLKbSxFYPdeZU2puEcDnfQgY7hPT62GaVjeJ4fV9wHna+94T8lfbpDuoAFvgDGtMBQhlJ6ulBhOQtB2n1mPTX6+lbhzPHi+wyvbgZz8oeLGdgsI7w7noT6Vz8r60mdoqglKkMQEbUI0iIa0iabQEWfUQQIDAQABo1MwUTAdBgNVHQ4EFgQUuLMZPs+5HjK6jAu690UbE/5gQzAwHwYDVR0jBBgwFoAUuLMZPs+5HjK6jAu690UbE/5gQzAwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAw8GNdZZBdXq1DPospkahtQCmduX4EDUCfFVhFr70d8nWzRsi9oGZMUngFLwLy6r8zHM4UQDYsvo7Ty7yBXJ0KeLQusw/noogrcI2W4kFJ0pZxulV+j2utR/ULC3GCqW2UFvb3as5zbICUevneg/MrbOQEqmlmQbX20uDnJF/ZysbIB+RQNRvDYi+yjYUpswRTeV44XmbavudFY9Gs0VR30UUS4nZLm+v3JYk7xiQX6d/94c4jZw89ya2JOInBgr9sTnXQS20GOKM5m5V6Y29w/jla97mFGAdSZVBLJAXzGKxN1H3ecmZWB2pYkqrhSfmW8gcS1wYXFF8ypnLJKxOEw==",
    r#"</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#,
    r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" "#,
    r#"Location="http://127.0.0.1:9/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#
);

/// The longest value put in a path or a query (an address must stay under 64 kB).
const MAX_IN_ADDRESS: usize = 50_000;

/// Percent-encodes every byte but the unreserved ones: safe in a path segment, a query or a form.
fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A value as a JSON string, bytes that are not UTF-8 left raw (which makes the body invalid
/// JSON, as a hostile client would send it).
fn json_string(bytes: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(bytes) {
        Ok(s) => serde_json::to_vec(s).unwrap(),
        Err(_) => [b"\"".as_slice(), bytes, b"\""].concat(),
    }
}

/// The values that stand for the path parameters not under test.
struct Known {
    me: String,
    /// A member of the admin's company, so member pages reach their forms.
    member: String,
    meeting_type: String,
}

fn harmless_param(route: &Route, name: &str, known: &Known) -> String {
    match (route.path, name) {
        // The admin's own id where changing it is harmless, so the handler reads the body.
        ("/v4/user/{id}", _) if route.method == "PATCH" => known.me.clone(),
        ("/v4/meeting-type/{id}", _) => known.meeting_type.clone(),
        (path, "id") if path.starts_with("/settings/members/{id}") => known.member.clone(),
        (_, "provider") => "okta".into(),
        (_, "slug") => "hostile-co".into(),
        (_, "file") => "app.css".into(),
        (_, "token") => "Qk2d9xSweepTokenThatDoesNotExist00".into(),
        // A well-formed id that names nothing: nothing is changed or removed.
        _ => "0b6f4d1e-3c2a-4f5b-9d8e-7a6b5c4d3e2f".into(),
    }
}

fn params_of(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// One request of the sweep.
#[derive(Clone)]
struct Probe {
    label: String,
    method: Method,
    path: String,
    body: Option<(&'static str, Vec<u8>)>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// Who sends the probes.
struct Caller {
    name: &'static str,
    client: Client,
    csrf: String,
    bearer: Option<String>,
    /// `x-meetergo-api-user-id` when it is not the input under test.
    user_header: Option<String>,
    signed_in: bool,
    /// Sends only the `/v4` probes (a Platform API key has no pages).
    api_only: bool,
}

fn probes_for(route: &Route, caller: &Caller, known: &Known, values: &[Hostile]) -> Vec<Probe> {
    let api = route.path.starts_with("/v4");
    let method = Method::from_bytes(route.method.as_bytes()).unwrap();
    let params = params_of(route.path);
    let build = |param: Option<(&str, &[u8])>,
                 query: Option<(&str, &[u8])>,
                 field: Option<(&str, &[u8])>,
                 header: Option<(&str, &[u8])>,
                 label: String|
     -> Probe {
        let mut path = route.path.to_owned();
        for p in &params {
            let value = match param {
                Some((name, v)) if name == *p => encode(v),
                _ => encode(harmless_param(route, p, known).as_bytes()),
            };
            path = path.replace(&format!("{{{p}}}"), &value);
        }
        if let Some((name, v)) = query {
            path = format!("{path}?{name}={}", encode(v));
        }
        let body = if method == Method::GET || method == Method::DELETE {
            None
        } else if api {
            let mut json = b"{".to_vec();
            for (i, (name, harmless)) in route.fields.iter().enumerate() {
                if i > 0 {
                    json.push(b',');
                }
                json.extend(serde_json::to_vec(name).unwrap());
                json.push(b':');
                match field {
                    Some((f, v)) if f == *name => json.extend(v),
                    _ => json.extend(harmless.as_bytes()),
                }
            }
            json.push(b'}');
            Some(("application/json", json))
        } else {
            let mut form: Vec<String> = route
                .fields
                .iter()
                .map(|(name, harmless)| match field {
                    Some((f, v)) if f == *name => format!("{name}={}", encode(v)),
                    _ => format!("{name}={}", encode(harmless.as_bytes())),
                })
                .collect();
            form.push(format!("csrf_token={}", caller.csrf));
            Some((
                "application/x-www-form-urlencoded",
                form.join("&").into_bytes(),
            ))
        };
        let mut headers = Vec::new();
        if api {
            let bearer = match header {
                Some(("authorization", v)) => Some([b"Bearer ".as_slice(), v].concat()),
                _ => caller
                    .bearer
                    .as_ref()
                    .map(|b| format!("Bearer {b}").into_bytes()),
            };
            let named = match header {
                Some(("x-meetergo-api-user-id", v)) => Some(v.to_vec()),
                _ => caller.user_header.as_ref().map(|h| h.clone().into_bytes()),
            };
            // Values a header cannot carry (NUL, CR LF) are left out, as HTTP clients do.
            for (name, value) in [
                (reqwest::header::AUTHORIZATION, bearer),
                (HeaderName::from_static("x-meetergo-api-user-id"), named),
            ] {
                if let Some(v) = value.and_then(|v| HeaderValue::from_bytes(&v).ok()) {
                    headers.push((name, v));
                }
            }
        }
        Probe {
            label: format!(
                "{} {} {} [{}]",
                caller.name, route.method, route.path, label
            ),
            method: method.clone(),
            path,
            body,
            headers,
        }
    };

    let mut probes = vec![build(None, None, None, None, "harmless".into())];
    for value in values {
        let v = value.bytes.as_slice();
        let json = json_string(v);
        // HTTP clients refuse addresses over 64 kB: the longest values go in as long as allowed.
        let in_address = v.get(..MAX_IN_ADDRESS).unwrap_or(v);
        for p in params.iter().copied() {
            probes.push(build(
                Some((p, in_address)),
                None,
                None,
                None,
                format!("{{{p}}} = {}", value.name),
            ));
        }
        for q in route.query {
            probes.push(build(
                None,
                Some((q, in_address)),
                None,
                None,
                format!("?{q} = {}", value.name),
            ));
        }
        for (f, _) in route.fields {
            if api {
                probes.push(build(
                    None,
                    None,
                    Some((f, json.as_slice())),
                    None,
                    format!("{f} = {}", value.name),
                ));
                // Numbers as numbers too, not only as strings.
                if serde_json::from_slice::<serde_json::Number>(v).is_ok() || v == b"1e309" {
                    probes.push(build(
                        None,
                        None,
                        Some((f, v)),
                        None,
                        format!("{f} = raw {}", value.name),
                    ));
                }
            } else {
                probes.push(build(
                    None,
                    None,
                    Some((f, v)),
                    None,
                    format!("{f} = {}", value.name),
                ));
            }
        }
        if api {
            for h in ["authorization", "x-meetergo-api-user-id"] {
                probes.push(build(
                    None,
                    None,
                    None,
                    Some((h, v)),
                    format!("{h}: {}", value.name),
                ));
            }
        }
        // A query parameter no route knows, and the path's own bytes.
        probes.push(build(
            None,
            Some(("unexpected", in_address)),
            None,
            None,
            format!("?unexpected = {}", value.name),
        ));
    }
    probes
}

/// The console binary, spawned with its output in a log file; killed on drop.
struct Console {
    child: Child,
    address: String,
    log: PathBuf,
    _dir: TempDir,
}

impl Console {
    async fn start() -> Self {
        let dir = TempDir::new();
        let database_url = match helpers::fresh_database(&dir.0) {
            meetergo_console::db::DatabaseUrl::Sqlite(path) => path,
            meetergo_console::db::DatabaseUrl::Postgres(url) => url,
        };
        let port = helpers::reserve_port();
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
                format!("http://127.0.0.1:{}", helpers::reserve_port()),
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

    fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lines of the log at ERROR level (ANSI colours removed, in case they were written).
fn error_lines(log: &str) -> Vec<String> {
    log.lines()
        .map(strip_ansi)
        .filter(|line| line.split_whitespace().nth(1) == Some("ERROR") || line.contains(" ERROR "))
        .collect()
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

async fn csrf_of(client: &Client, console: &Console, page: &str) -> String {
    let html = client
        .get(console.url(page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    csrf_in(&html).unwrap_or_else(|| panic!("no CSRF token on {page}"))
}

/// An anonymous visitor with a CSRF cookie and token (so forms get past CSRF), and a signed-in
/// owner with a personal access token, plus the ids the sweep needs.
async fn callers(console: &Console) -> (Vec<Caller>, Known) {
    let anonymous = helpers::client();
    let anonymous_csrf = csrf_of(&anonymous, console, "/login").await;

    let admin = helpers::client();
    let csrf = csrf_of(&admin, console, "/signup").await;
    let r = admin
        .post(console.url("/signup"))
        .form(&[
            ("company_name", "Hostile Co"),
            ("name", "Sweep Admin"),
            ("email", "sweep-admin@example.com"),
            ("password", PASSWORD),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "signup: {}", r.status());
    let csrf = csrf_of(&admin, console, "/settings/sso").await;
    let r = admin
        .post(console.url("/settings/sso"))
        .form(&[
            ("metadata_xml", IDP_METADATA),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "SAML set up for the sweep's company");
    let csrf = csrf_of(&admin, console, "/integrations/api").await;
    let r = admin
        .post(console.url("/integrations/api/tokens"))
        .form(&[
            ("name", "sweep"),
            ("expiry", "30"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "creating the sweep's PAT");
    let pat = new_secret_in(&r.text().await.unwrap()).expect("PAT shown");
    let csrf = csrf_of(&admin, console, "/admin/api-keys").await;
    let r = admin
        .post(console.url("/admin/api-keys"))
        .form(&[
            ("name", "sweep"),
            ("expiry", "30"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "creating the sweep's API key");
    let api_key = new_secret_in(&r.text().await.unwrap()).expect("API key shown");
    let me: serde_json::Value = admin
        .get(console.url("/v4/user/me"))
        .bearer_auth(&pat)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created: serde_json::Value = admin
        .post(console.url("/v4/meeting-type"))
        .bearer_auth(&pat)
        .json(&serde_json::json!({"title": "Intro", "slug": "intro", "duration": 30}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let member: serde_json::Value = admin
        .post(console.url("/v4/user"))
        .bearer_auth(&api_key)
        .json(&serde_json::json!({"email": "sweep-member@example.com", "givenName": "Mia"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let known = Known {
        me: me["id"].as_str().expect("my id").to_owned(),
        member: member["userId"].as_str().expect("member id").to_owned(),
        meeting_type: created["id"].as_str().expect("meeting type id").to_owned(),
    };
    // The setup is real, or the sweep of the routes that need it would stay shallow.
    for page in [
        format!("/settings/members/{}/offboard", known.member),
        format!("/v4/meeting-type/{}", known.meeting_type),
        "/sso/saml/hostile-co/metadata".to_owned(),
    ] {
        let r = admin
            .get(console.url(&page))
            .bearer_auth(&pat)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{page}");
    }
    let callers = vec![
        Caller {
            name: "anonymous",
            client: anonymous,
            csrf: anonymous_csrf,
            bearer: None,
            user_header: None,
            signed_in: false,
            api_only: false,
        },
        Caller {
            name: "admin",
            client: admin,
            csrf,
            bearer: Some(pat),
            user_header: None,
            signed_in: true,
            api_only: false,
        },
        Caller {
            name: "api key",
            client: helpers::client(),
            csrf: String::new(),
            bearer: Some(api_key),
            user_header: Some(known.me.clone()),
            signed_in: false,
            api_only: true,
        },
    ];
    (callers, known)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_answers_5xx_to_hostile_input() {
    let started = Instant::now();
    let mut console = Console::start().await;
    let (callers, known) = callers(&console).await;
    let values = hostile_values();

    let mut failures = Vec::new();
    let mut sent = 0usize;
    for caller in &callers {
        let probes: Vec<Probe> = ROUTES
            .iter()
            .filter(|r| !(caller.signed_in && r.anonymous_only))
            .filter(|r| !caller.api_only || r.path.starts_with("/v4"))
            .flat_map(|r| probes_for(r, caller, &known, &values))
            .collect();
        sent += probes.len();
        let results: Vec<(String, Result<StatusCode, String>)> = stream::iter(probes)
            .map(|probe| {
                let client = caller.client.clone();
                let url = console.url(&probe.path);
                async move {
                    let mut req = client.request(probe.method.clone(), url);
                    for (name, value) in probe.headers {
                        req = req.header(name, value);
                    }
                    if let Some((content_type, body)) = probe.body {
                        req = req
                            .header(reqwest::header::CONTENT_TYPE, content_type)
                            .body(body);
                    }
                    let outcome = match req.send().await {
                        Ok(r) => {
                            let status = r.status();
                            // Read the body so the connection is reused.
                            let _ = r.bytes().await;
                            Ok(status)
                        }
                        Err(e) => Err(e.without_url().to_string()),
                    };
                    (probe.label, outcome)
                }
            })
            .buffer_unordered(6)
            .collect()
            .await;
        for (label, outcome) in results {
            match outcome {
                Ok(status) if status.is_server_error() => {
                    failures.push(format!("{label}: {status}"))
                }
                Ok(_) => {}
                Err(e) => failures.push(format!("{label}: no answer ({e})")),
            }
        }
        // The signed-in caller must still be signed in, or the rest of its sweep was shallow.
        if caller.signed_in {
            let r = caller
                .client
                .get(console.url("/dashboard"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "the admin was signed out during the sweep");
        }
    }
    failures.sort();
    failures.dedup();
    let still_up = console
        .child
        .try_wait()
        .is_ok_and(|exited| exited.is_none());
    let health = Client::new().get(console.url("/healthz")).send().await;
    let log = console.log_text();
    let errors = error_lines(&log);
    eprintln!(
        "hostile sweep ({}): {sent} requests in {:.1} s",
        helpers::backend(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {sent} requests failed:\n{}\nERROR lines of the log:\n{}",
        failures.len(),
        failures.join("\n"),
        errors.join("\n")
    );
    assert!(still_up, "the console process exited; its log:\n{log}");
    assert!(
        health.is_ok_and(|r| r.status() == StatusCode::OK),
        "the console no longer answers /healthz"
    );
    assert!(
        log.contains(" INFO "),
        "the log is not in the expected format:\n{log}"
    );
    assert!(
        errors.is_empty(),
        "the log has ERROR lines:\n{}",
        errors.join("\n")
    );
}

/// The routes registered in the source (`.route(paths::X, web::get()...)`), with each constant
/// read from its `paths.rs` and `/v4` for the API's scope.
fn routes_in_source() -> BTreeSet<(String, String)> {
    fn constants(file: &Path) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(file).unwrap();
        text.lines()
            .filter_map(|line| line.strip_prefix("pub const "))
            .filter_map(|rest| {
                let (name, value) = rest.split_once(": &str = \"")?;
                Some((name.to_owned(), value.split('"').next()?.to_owned()))
            })
            .collect()
    }
    fn walk(
        dir: &Path,
        prefix: &str,
        paths: &BTreeMap<String, String>,
        found: &mut BTreeSet<(String, String)>,
    ) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, prefix, paths, found);
                continue;
            }
            // Without whitespace, so a registration rustfmt split over lines reads the same.
            let text: String = std::fs::read_to_string(&path)
                .unwrap()
                .split_whitespace()
                .collect();
            for registration in text.split(".route(paths::").skip(1) {
                let (name, rest) = registration.split_once(",web::").unwrap();
                let method = rest.split("()").next().unwrap();
                let route = paths
                    .get(name)
                    .unwrap_or_else(|| panic!("no paths::{name}"));
                found.insert((method.to_uppercase(), format!("{prefix}{route}")));
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeSet::new();
    let web_paths = constants(&src.join("web/paths.rs"));
    walk(&src.join("web"), "", &web_paths, &mut found);
    let api_paths = constants(&src.join("api/paths.rs"));
    let scope = api_paths.get("SCOPE").unwrap().clone();
    walk(&src.join("api"), &scope, &api_paths, &mut found);
    found
}

#[test]
fn every_route_of_the_app_is_swept() {
    let swept: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    let in_source = routes_in_source();
    assert!(
        in_source.len() > 40,
        "route registrations not found: {in_source:?}"
    );
    let missing: Vec<_> = in_source.difference(&swept).collect();
    assert!(
        missing.is_empty(),
        "routes missing from hostile::ROUTES: {missing:?}"
    );
}

#[test]
fn the_log_check_finds_error_lines() {
    let log = "2026-12-01T10:00:00.000001Z  INFO meetergo-console listening\n\
               2026-12-01T10:00:01.000001Z ERROR HTTP request{http.method=GET}: internal error\n\
               \u{1b}[2m2026-12-01T10:00:02Z\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m boom\n";
    assert_eq!(error_lines(log).len(), 2);
    assert!(error_lines("2026-12-01T10:00:00Z  WARN an ERRORS word\n").is_empty());
}
