//! SAML single sign-on against a real identity provider: tests/saml/idp.py builds and signs
//! every response with pysaml2 and the `xmlsec1` binary, so the Rust code under test takes no
//! part in making them. Python, its virtualenv (tests/saml/setup.sh) and xmlsec1 are required:
//! if any is missing these tests fail, they never skip.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::Duration;

use diesel::prelude::*;
use meetergo_console::auth::password::hash_now;
use meetergo_console::db::models::{AuditEvent, Company, User};
use meetergo_console::db::schema::{
    audit_events, companies, identities, saml_configs, sessions, sso_requests, users,
};
use meetergo_console::domain::{Email, Label, Role};
use meetergo_console::services::joining::{add_member, NewAccount};
use reqwest::{Client, Response, StatusCode};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Mutex;

use crate::browser::{browser, by_testid, click, fill, text_of, wait_for_path};
use crate::helpers::tempfile_dir::TempDir;
use crate::helpers::{client, email, location, TestApp, TestAppView, PASSWORD};

const IDP_TIMEOUT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------- the test IdP

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python of the IdP's virtualenv: `SAML_PYTHON`, or what tests/saml/setup.sh prints.
fn saml_python() -> String {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let python = match std::env::var("SAML_PYTHON") {
                Ok(p) if !p.trim().is_empty() => p.trim().to_owned(),
                _ => {
                    let setup = repo().join("tests/saml/setup.sh");
                    let out = std::process::Command::new("bash")
                        .arg(&setup)
                        .output()
                        .unwrap_or_else(|e| panic!("could not run {}: {e}", setup.display()));
                    assert!(
                        out.status.success(),
                        "{} failed ({}); the SAML tests need python3 with venv and pip, and \
                         xmlsec1 (apt-get install -y xmlsec1 openssl python3-venv):\n{}",
                        setup.display(),
                        out.status,
                        String::from_utf8_lossy(&out.stderr)
                    );
                    String::from_utf8_lossy(&out.stdout)
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .trim()
                        .to_owned()
                }
            };
            assert!(
                Path::new(&python).is_file(),
                "the SAML test IdP's python {python:?} does not exist (SAML_PYTHON or tests/saml/setup.sh)"
            );
            let xmlsec1 = std::env::var("XMLSEC1").unwrap_or_else(|_| "xmlsec1".into());
            let version = std::process::Command::new(&xmlsec1)
                .arg("--version")
                .output();
            assert!(
                version.is_ok_and(|o| o.status.success()),
                "the SAML test IdP signs with the xmlsec1 binary ({xmlsec1}), which is missing: \
                 apt-get install -y xmlsec1"
            );
            python
        })
        .clone()
}

/// One identity provider as a company configures it: its entity id, its SSO URL and the key
/// pair (`idp` or `wrong`, from tests/saml/keys.sh) it signs with.
#[derive(Debug, Clone)]
struct Tenant {
    entity_id: String,
    sso_url: String,
    key: &'static str,
}

impl Tenant {
    fn new(name: &str, key: &'static str) -> Self {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
        Self {
            entity_id: format!("https://{name}-{tag}.idp.example/saml"),
            sso_url: format!("https://{name}-{tag}.idp.example/sso"),
            key,
        }
    }
}

/// The console as a service provider for one company.
#[derive(Debug, Clone)]
struct Sp {
    slug: String,
    entity_id: String,
    acs_url: String,
    metadata_url: String,
}

fn sp(app: &TestApp, slug: &str) -> Sp {
    let metadata_url = app.url(&format!("/sso/saml/{slug}/metadata"));
    Sp {
        slug: slug.to_owned(),
        entity_id: metadata_url.clone(),
        acs_url: app.url(&format!("/sso/saml/{slug}/acs")),
        metadata_url,
    }
}

struct Batch {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// `idp.py batch`, kept running: one JSON line of arguments in, one JSON answer out.
struct Idp {
    python: String,
    keys: TempDir,
    batch: Mutex<Batch>,
}

impl Idp {
    async fn start() -> Self {
        let python = saml_python();
        let keys = TempDir::new();
        let out = Command::new("bash")
            .arg(repo().join("tests/saml/keys.sh"))
            .arg(&keys.0)
            .output()
            .await
            .expect("run tests/saml/keys.sh");
        assert!(
            out.status.success(),
            "tests/saml/keys.sh failed (is openssl installed?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut child = Command::new(&python)
            .arg(repo().join("tests/saml/idp.py"))
            .arg("batch")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {python} tests/saml/idp.py batch: {e}"));
        let stdin = child.stdin.take().expect("idp stdin");
        let stdout = BufReader::new(child.stdout.take().expect("idp stdout"));
        Self {
            python,
            keys,
            batch: Mutex::new(Batch {
                child,
                stdin,
                stdout,
            }),
        }
    }

    fn key_file(&self, file: &str) -> String {
        self.keys.0.join(file).to_string_lossy().into_owned()
    }

    /// Runs one idp.py command and returns its stdout. Any failure fails the test.
    async fn run(&self, args: Vec<String>) -> String {
        let mut batch = self.batch.lock().await;
        let mut line = serde_json::to_string(&args).expect("json args");
        line.push('\n');
        let answer = tokio::time::timeout(IDP_TIMEOUT, async {
            batch.stdin.write_all(line.as_bytes()).await?;
            batch.stdin.flush().await?;
            let mut answer = String::new();
            batch.stdout.read_line(&mut answer).await?;
            Ok::<_, std::io::Error>(answer)
        })
        .await
        .unwrap_or_else(|_| panic!("tests/saml/idp.py did not answer within {IDP_TIMEOUT:?}"));
        let answer = match answer {
            Ok(a) if !a.trim().is_empty() => a,
            other => {
                let mut stderr = String::new();
                if let Some(mut e) = batch.child.stderr.take() {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(5), e.read_to_string(&mut stderr))
                            .await;
                }
                panic!("tests/saml/idp.py batch ended ({other:?}); stderr:\n{stderr}")
            }
        };
        let v: serde_json::Value = serde_json::from_str(&answer).expect("idp.py answers JSON");
        assert_eq!(
            v["code"],
            serde_json::json!(0),
            "idp.py {args:?} failed: {}",
            v["stderr"]
        );
        v["stdout"].as_str().unwrap_or_default().trim().to_owned()
    }

    async fn metadata(&self, t: &Tenant, with_cert: bool) -> String {
        let mut args: Vec<String> = vec![
            "metadata".into(),
            "--entity-id".into(),
            t.entity_id.clone(),
            "--sso-url".into(),
            t.sso_url.clone(),
        ];
        if with_cert {
            args.push("--cert".into());
            args.push(self.key_file(&format!("{}.crt", t.key)));
        } else {
            args.push("--no-cert".into());
        }
        self.run(args).await
    }

    /// A base64 SAMLResponse from tenant `t` for `sp` about `name_id` (also the email
    /// attribute); `extra` options come last and so override the defaults.
    async fn response(&self, t: &Tenant, sp: &Sp, name_id: &str, extra: &[&str]) -> String {
        let mut args: Vec<String> = [
            "response",
            "--idp-entity-id",
            &t.entity_id,
            "--sp-entity-id",
            &sp.entity_id,
            "--acs-url",
            &sp.acs_url,
            "--name-id",
            name_id,
            "--email",
            name_id,
            "--key",
            &self.key_file(&format!("{}.key", t.key)),
            "--cert",
            &self.key_file(&format!("{}.crt", t.key)),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = self.run(args).await;
        assert!(!out.is_empty(), "idp.py printed no response");
        out
    }

    /// The XML of a redirect-binding SAMLRequest (base64 of raw DEFLATE).
    async fn inflate(&self, saml_request: &str) -> String {
        const INFLATE: &str = "import base64,sys,zlib;\
            sys.stdout.write(zlib.decompress(base64.b64decode(sys.argv[1]),-15).decode())";
        let out = Command::new(&self.python)
            .args(["-c", INFLATE, saml_request])
            .output()
            .await
            .expect("run python to inflate the SAMLRequest");
        assert!(
            out.status.success(),
            "SAMLRequest is not base64 of DEFLATE: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("SAMLRequest is UTF-8")
    }
}

/// The value of `name="…"` on the root element of `xml`.
fn root_attr(xml: &str, name: &str) -> Option<String> {
    let start = xml.find("AuthnRequest")?;
    let head = &xml[start..start + xml[start..].find('>')?];
    for quote in ['"', '\''] {
        let marker = format!(" {name}={quote}");
        if let Some(i) = head.find(&marker) {
            let rest = &head[i + marker.len()..];
            return Some(rest[..rest.find(quote)?].to_owned());
        }
    }
    None
}

// ---------------------------------------------------------------- the console side

fn view<'a>(app: &'a TestApp, c: &'a Client) -> TestAppView<'a> {
    TestAppView {
        address: &app.address,
        client: c,
    }
}

fn db(app: &TestApp) -> meetergo_console::db::PooledConnection {
    app.db.conn().expect("db connection")
}

fn user_by_email(app: &TestApp, address: &str) -> Option<User> {
    let e = Email::parse("email", address).expect("valid email");
    User::find_by_email(&mut db(app), &e).expect("find user")
}

fn company(app: &TestApp, id: &str) -> Company {
    companies::table
        .filter(companies::id.eq(id))
        .select(Company::as_select())
        .first(&mut *db(app))
        .expect("company")
}

/// Claims `domain` for the company and sets Require Invitation.
fn set_joining(app: &TestApp, company_id: &str, domain: &str, require_invitation: bool) {
    let n = diesel::update(companies::table.filter(companies::id.eq(company_id)))
        .set((
            companies::allowed_domains.eq(domain),
            companies::require_invitation.eq(require_invitation),
        ))
        .execute(&mut *db(app))
        .expect("update company");
    assert_eq!(n, 1);
}

/// A member (with the test password) added straight to the database.
fn add_user(app: &TestApp, company_id: &str, name: &str, address: &str, role: Role) -> User {
    let company = company(app, company_id);
    let account = NewAccount {
        name: Label::parse("name", "name", name, 100).expect("name"),
        email: Email::parse("email", address).expect("email"),
        password_hash: Some(hash_now(PASSWORD).expect("hash")),
    };
    add_member(&mut db(app), &company.id, account, role).expect("add member")
}

fn random_domain(prefix: &str) -> String {
    format!(
        "{prefix}-{}.example",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// `(issuer, subject, user)` of every linked identity.
fn identities_of_company(app: &TestApp, company_id: &str) -> Vec<(String, String, String)> {
    identities::table
        .inner_join(users::table)
        .filter(users::company_id.eq(company_id))
        .select((identities::issuer, identities::subject, identities::user_id))
        .load(&mut *db(app))
        .expect("identities")
}

fn events(app: &TestApp, company_id: &str, kind: &str) -> Vec<AuditEvent> {
    audit_events::table
        .filter(audit_events::company_id.eq(company_id))
        .filter(audit_events::kind.eq(kind))
        .order(audit_events::created_at.asc())
        .select(AuditEvent::as_select())
        .load(&mut *db(app))
        .expect("audit events")
}

fn details(app: &TestApp, company_id: &str, kind: &str) -> Vec<String> {
    events(app, company_id, kind)
        .into_iter()
        .map(|e| e.detail.unwrap_or_default())
        .collect()
}

/// What a refused sign-in must leave untouched.
#[derive(Debug, PartialEq, Eq)]
struct Footprint {
    users: i64,
    identities: i64,
    companies: i64,
    signed_in_sessions: i64,
    accounts: Vec<(String, String, String)>,
}

fn footprint(app: &TestApp) -> Footprint {
    let mut conn = db(app);
    Footprint {
        users: users::table.count().get_result(&mut *conn).expect("users"),
        identities: identities::table
            .count()
            .get_result(&mut *conn)
            .expect("identities"),
        companies: companies::table
            .count()
            .get_result(&mut *conn)
            .expect("companies"),
        signed_in_sessions: sessions::table
            .filter(sessions::user_id.is_not_null())
            .count()
            .get_result(&mut *conn)
            .expect("sessions"),
        accounts: users::table
            .select((users::email, users::role, users::company_id))
            .order(users::email.asc())
            .load(&mut *conn)
            .expect("users"),
    }
}

/// The email of the user this browser is signed in as, read from /profile.
async fn signed_in_as(app: &TestApp, c: &Client) -> Option<String> {
    let (status, html) = view(app, c).get_html("/profile").await;
    if status != StatusCode::OK {
        return None;
    }
    let at = html.find("<h1>Your profile</h1>")?;
    let rest = &html[at..];
    let p = rest.find("<p>")? + 3;
    let line = &rest[p..p + rest[p..].find("</p>")?];
    line.split(" · ").nth(1).map(|s| s.trim().to_owned())
}

/// The text of the element with this data-testid.
fn testid_text(html: &str, id: &str) -> Option<String> {
    let marker = format!("data-testid=\"{id}\"");
    let at = html.find(&marker)? + marker.len();
    let rest = &html[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')? + start;
    Some(rest[start..end].trim().to_owned())
}

/// A company with SAML configured through Settings → SSO by its owner.
struct Setup {
    idp: Rc<Idp>,
    tenant: Tenant,
    sp: Sp,
    company_id: String,
    owner: String,
}

async fn signup_company(app: &TestApp, c: &Client, company_name: &str, owner: &str) -> String {
    let r = view(app, c).signup(company_name, "Olga Owner", owner).await;
    assert_eq!(r.status(), 303, "signup {company_name}");
    user_by_email(app, owner)
        .expect("owner stored")
        .company_id
        .to_string()
}

async fn save_sso(app: &TestApp, c: &Client, metadata: &str, flags: &[&str]) -> Response {
    let mut fields: Vec<(&str, &str)> = vec![("metadata_xml", metadata)];
    fields.extend(flags.iter().map(|f| (*f, "on")));
    view(app, c)
        .post_form("/settings/sso", "/settings/sso", &fields)
        .await
}

/// Signs up a company (owner in `app.client`) and saves the tenant's metadata.
async fn setup(app: &TestApp, idp: Rc<Idp>, tenant: Tenant, company_name: &str) -> Setup {
    setup_in(app, &app.client, idp, tenant, company_name).await
}

async fn setup_in(
    app: &TestApp,
    owner_client: &Client,
    idp: Rc<Idp>,
    tenant: Tenant,
    company_name: &str,
) -> Setup {
    let owner = email("owner");
    let company_id = signup_company(app, owner_client, company_name, &owner).await;
    let slug = company(app, &company_id).slug;
    let metadata = idp.metadata(&tenant, true).await;
    let r = save_sso(app, owner_client, &metadata, &[]).await;
    assert_eq!(r.status(), 303, "saving the IdP metadata");
    Setup {
        idp,
        sp: sp(app, &slug),
        tenant,
        company_id,
        owner,
    }
}

impl Setup {
    /// POST /sso/start in browser `c`: checks the redirect to the IdP and returns the
    /// AuthnRequest's ID read from the deflated SAMLRequest.
    async fn start(&self, app: &TestApp, c: &Client, identifier: &str) -> String {
        start_sso(app, c, &self.idp, &self.tenant, &self.sp, identifier).await
    }

    async fn response(&self, name_id: &str, extra: &[&str]) -> String {
        self.idp
            .response(&self.tenant, &self.sp, name_id, extra)
            .await
    }

    /// A response to a request `c` just started.
    async fn solicited(&self, app: &TestApp, c: &Client, name_id: &str, extra: &[&str]) -> String {
        let id = self.start(app, c, &self.sp.slug).await;
        let mut all = vec!["--in-response-to", id.as_str()];
        all.extend_from_slice(extra);
        self.response(name_id, &all).await
    }

    async fn post(&self, app: &TestApp, c: &Client, saml_response: &str) -> Response {
        post_acs(app, c, &self.sp.slug, saml_response).await
    }

    /// Posts a response that must be accepted: 303 to the dashboard, signed in as `who`.
    async fn accept(&self, app: &TestApp, c: &Client, saml_response: &str, who: &str, what: &str) {
        let r = self.post(app, c, saml_response).await;
        let status = r.status();
        let loc = location(&r);
        let body = r.text().await.unwrap_or_default();
        assert_eq!(
            (status, loc.as_str()),
            (StatusCode::SEE_OTHER, "/dashboard"),
            "{what}: the response must be accepted; audit: {:?}; page: {body}",
            details(app, &self.company_id, "sign_in.failed").last()
        );
        assert_eq!(
            signed_in_as(app, c).await.as_deref(),
            Some(who.to_lowercase().as_str()),
            "{what}: signed in as {who}"
        );
    }

    /// Posts a response that must be refused: a 403 page, nobody signed in, nothing created,
    /// and one `sign_in.failed` event whose detail names `reason`.
    async fn refuse(
        &self,
        app: &TestApp,
        c: &Client,
        saml_response: &str,
        reason: &str,
        what: &str,
    ) {
        refuse_at(
            app,
            c,
            &self.sp.slug,
            &self.company_id,
            saml_response,
            reason,
            what,
        )
        .await;
    }
}

/// Decodes the character references a template puts into an attribute value.
fn html_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where POST /sso/start sends the browser: a 303 to the IdP, or a page that moves on to it
/// by itself (meta refresh, plus a Continue link), which keeps a form submission within the
/// login page's `form-action 'self'`.
async fn idp_redirect(r: Response, identifier: &str) -> String {
    let status = r.status();
    if status == StatusCode::SEE_OTHER {
        return location(&r);
    }
    let html = r.text().await.unwrap_or_default();
    assert_eq!(
        status,
        StatusCode::OK,
        "POST /sso/start with {identifier}: a redirect to the IdP; page: {html}"
    );
    let marker = "data-testid=\"sso-continue\"";
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("POST /sso/start with {identifier}: no Continue link: {html}"));
    let tag = &html[html[..at].rfind("<a").expect("the link's tag")..at];
    let href = tag
        .split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the Continue link's href");
    let refresh = html
        .split("http-equiv=\"refresh\" content=\"0;url=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a meta refresh to the IdP: {html}"));
    assert_eq!(
        refresh, href,
        "the refresh and the link lead to the same place"
    );
    html_unescape(href)
}

async fn start_sso(
    app: &TestApp,
    c: &Client,
    idp: &Idp,
    tenant: &Tenant,
    sp: &Sp,
    identifier: &str,
) -> String {
    let r = view(app, c)
        .post_form("/login", "/sso/start", &[("identifier", identifier)])
        .await;
    let loc = idp_redirect(r, identifier).await;
    assert!(
        loc.starts_with(&format!("{}?", tenant.sso_url)),
        "redirected to the IdP's SSO URL {}: {loc}",
        tenant.sso_url
    );
    let url = url::Url::parse(&loc).expect("IdP URL");
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query.get("RelayState").map(String::as_str),
        Some(sp.slug.as_str())
    );
    let xml = idp
        .inflate(
            query
                .get("SAMLRequest")
                .expect("SAMLRequest in the redirect"),
        )
        .await;
    let id = root_attr(&xml, "ID").unwrap_or_else(|| panic!("no ID in {xml}"));
    assert_eq!(
        root_attr(&xml, "AssertionConsumerServiceURL").as_deref(),
        Some(sp.acs_url.as_str()),
        "the request names this company's ACS: {xml}"
    );
    assert_eq!(
        root_attr(&xml, "Destination").as_deref(),
        Some(tenant.sso_url.as_str()),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(">{}</", sp.entity_id)),
        "the request's Issuer is the SP entity id {}: {xml}",
        sp.entity_id
    );
    let pending: i64 = sso_requests::table
        .filter(sso_requests::id.eq(&id))
        .filter(sso_requests::kind.eq("saml"))
        .filter(sso_requests::used_at.is_null())
        .count()
        .get_result(&mut *db(app))
        .expect("sso_requests");
    assert_eq!(pending, 1, "the AuthnRequest {id} is pending");
    id
}

async fn post_acs(app: &TestApp, c: &Client, slug: &str, saml_response: &str) -> Response {
    c.post(app.url(&format!("/sso/saml/{slug}/acs")))
        .form(&[("SAMLResponse", saml_response), ("RelayState", slug)])
        .send()
        .await
        .expect("POST to the ACS")
}

async fn refuse_at(
    app: &TestApp,
    c: &Client,
    slug: &str,
    company_id: &str,
    saml_response: &str,
    reason: &str,
    what: &str,
) {
    let before = footprint(app);
    let failed_before = details(app, company_id, "sign_in.failed").len();
    let r = post_acs(app, c, slug, saml_response).await;
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "{what}: refused; page: {body}"
    );
    assert!(
        body.contains("data-testid=\"sso-problem\""),
        "{what}: the refusal page: {body}"
    );
    assert_eq!(signed_in_as(app, c).await, None, "{what}: nobody signed in");
    let failed = details(app, company_id, "sign_in.failed");
    let new: Vec<&String> = failed.iter().skip(failed_before).collect();
    assert_eq!(new.len(), 1, "{what}: one sign_in.failed event: {new:?}");
    assert!(
        new[0].contains(reason),
        "{what}: the audit detail names the reason {reason:?}: {:?}",
        new[0]
    );
    assert_eq!(footprint(app), before, "{what}: nothing created");
}

// ---------------------------------------------------------------- 1. Settings → SSO

#[actix_web::test]
async fn settings_check_the_idp_metadata_and_publish_the_sp_endpoints() {
    let app = TestApp::spawn().await;
    let idp = Idp::start().await;
    let tenant = Tenant::new("settings", "idp");
    let owner = email("owner");
    let company_id = signup_company(&app, &app.client, "Saml Settings GmbH", &owner).await;
    let slug = company(&app, &company_id).slug;
    let sp = sp(&app, &slug);

    // The page gives the endpoints to paste into the IdP, and SAML is off.
    let (status, html) = app.get_html("/settings/sso").await;
    assert_eq!(status, 200);
    assert_eq!(
        testid_text(&html, "sp-entity-id").as_deref(),
        Some(sp.entity_id.as_str())
    );
    assert_eq!(
        testid_text(&html, "sp-acs-url").as_deref(),
        Some(sp.acs_url.as_str())
    );
    assert_eq!(
        testid_text(&html, "sp-metadata-url").as_deref(),
        Some(sp.metadata_url.as_str())
    );
    assert!(html.contains("SAML is <strong>off</strong>"));

    let saml_configs_count = |app: &TestApp| -> i64 {
        saml_configs::table
            .filter(saml_configs::company_id.eq(&company_id))
            .count()
            .get_result(&mut *db(app))
            .expect("saml configs")
    };

    // Metadata without a signing certificate: refused, SAML stays off.
    let no_cert = idp.metadata(&tenant, false).await;
    assert!(!no_cert.contains("X509Certificate"));
    let r = save_sso(&app, &app.client, &no_cert, &["enforce_sso"]).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("body");
    let error = testid_text(&html, "error-metadata_xml").expect("a field error");
    assert!(
        error.contains("no signing certificate") && error.contains("SAML stays off"),
        "{error}"
    );
    assert!(html.contains("SAML is <strong>off</strong>"));
    assert_eq!(saml_configs_count(&app), 0);
    assert!(!company(&app, &company_id).sso_enforced);

    // Garbage: refused.
    for garbage in [
        "hello, I am not XML",
        "<md:EntityDescriptor",
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"x\">]><x>&e;</x>",
        "<html><body>Okta</body></html>",
    ] {
        let r = save_sso(&app, &app.client, garbage, &[]).await;
        assert_eq!(r.status(), 422, "{garbage}");
        let html = r.text().await.expect("body");
        assert!(
            testid_text(&html, "error-metadata_xml").is_some_and(|e| !e.is_empty()),
            "a message for {garbage}: {html}"
        );
        assert_eq!(saml_configs_count(&app), 0, "{garbage}");
    }
    // Nothing pasted and nothing saved yet.
    let r = save_sso(&app, &app.client, "", &[]).await;
    assert_eq!(r.status(), 422);

    // Valid metadata: saved; the page says SAML is on and still shows the endpoints.
    let metadata = idp.metadata(&tenant, true).await;
    let r = save_sso(&app, &app.client, &metadata, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/settings/sso");
    let (status, html) = app.get_html("/settings/sso").await;
    assert_eq!(status, 200);
    assert!(html.contains("SAML is <strong>on</strong>"), "{html}");
    assert!(html.contains(&tenant.entity_id));
    assert!(html.contains(&tenant.sso_url));
    assert_eq!(
        testid_text(&html, "sp-entity-id").as_deref(),
        Some(sp.entity_id.as_str())
    );
    assert_eq!(
        testid_text(&html, "sp-acs-url").as_deref(),
        Some(sp.acs_url.as_str())
    );
    assert_eq!(
        testid_text(&html, "sp-metadata-url").as_deref(),
        Some(sp.metadata_url.as_str())
    );
    assert_eq!(saml_configs_count(&app), 1);
    let changes = details(&app, &company_id, "sso.config_changed");
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(changes[0].contains(&tenant.entity_id), "{changes:?}");

    // Replacing it with metadata without a certificate is refused; the saved IdP stays.
    let r = save_sso(&app, &app.client, &no_cert, &[]).await;
    assert_eq!(r.status(), 422);
    let (_, html) = app.get_html("/settings/sso").await;
    assert!(html.contains("SAML is <strong>on</strong>"));
    let kept: String = saml_configs::table
        .filter(saml_configs::company_id.eq(&company_id))
        .select(saml_configs::metadata_xml)
        .first(&mut *db(&app))
        .expect("config");
    assert!(kept.contains("X509Certificate"), "the saved metadata stays");

    // The metadata URL, anonymously: SP metadata naming this ACS.
    let anonymous = client();
    let r = anonymous
        .get(&sp.metadata_url)
        .send()
        .await
        .expect("GET metadata");
    assert_eq!(r.status(), 200);
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.contains("xml"), "{content_type}");
    let xml = r.text().await.expect("metadata body");
    assert!(xml.contains("EntityDescriptor"), "{xml}");
    assert!(xml.contains(&format!("\"{}\"", sp.acs_url)), "ACS in {xml}");
    assert!(
        xml.contains(&format!("entityID=\"{}\"", sp.entity_id)),
        "entity id in {xml}"
    );
    let r = anonymous
        .get(app.url("/sso/saml/no-such-company/metadata"))
        .send()
        .await
        .expect("GET metadata");
    assert_eq!(r.status(), 404);

    // Members may not see or change any of it.
    let member = email("member");
    add_user(&app, &company_id, "Mo Member", &member, Role::Member);
    let mc = client();
    let r = view(&app, &mc).login(&member, PASSWORD).await;
    assert_eq!(r.status(), 303);
    let (status, _) = view(&app, &mc).get_html("/settings/sso").await;
    assert_eq!(status, 403, "members get 403 on /settings/sso");
    let r = save_sso(&app, &mc, &no_cert, &["enforce_sso"]).await;
    assert_eq!(r.status(), 403);
    let r = view(&app, &mc)
        .post_form("/dashboard", "/settings/sso/remove", &[])
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(saml_configs_count(&app), 1);
    assert!(!company(&app, &company_id).sso_enforced);
}

// ---------------------------------------------------------------- 2. SP-initiated sign-in

#[actix_web::test]
async fn sp_initiated_sign_in_matches_members_and_joins_newcomers() {
    let app = TestApp::spawn().await;
    let idp = Rc::new(Idp::start().await);
    let s = setup(&app, idp, Tenant::new("acme", "idp"), "Acme SAML AG").await;
    let issuer = format!("saml:{}", s.company_id);
    let domain = random_domain("acme");
    set_joining(&app, &s.company_id, &domain, false);

    // The owner, starting from the company slug.
    let c = client();
    let id = s.start(&app, &c, &s.sp.slug).await;
    let resp = s.response(&s.owner, &["--in-response-to", &id]).await;
    s.accept(&app, &c, &resp, &s.owner, "owner by slug").await;
    let (status, html) = view(&app, &c).get_html("/dashboard").await;
    assert_eq!(status, 200);
    assert!(html.contains("Welcome, Olga Owner"));
    let used: Option<chrono::NaiveDateTime> = sso_requests::table
        .filter(sso_requests::id.eq(&id))
        .select(sso_requests::used_at)
        .first(&mut *db(&app))
        .expect("request");
    assert!(used.is_some(), "the AuthnRequest is used up");
    let owner_id = user_by_email(&app, &s.owner).expect("owner").id.to_string();
    assert!(identities_of_company(&app, &s.company_id).contains(&(
        issuer.clone(),
        s.owner.clone(),
        owner_id.clone()
    )));
    assert!(details(&app, &s.company_id, "sign_in.succeeded")
        .iter()
        .any(|d| d.contains("saml")));

    // An existing member, starting from their email: matched by email, and the IdP's NameID is
    // linked to them.
    let mia = format!("mia@{domain}");
    let mia_id = add_user(&app, &s.company_id, "Mia Member", &mia, Role::Member)
        .id
        .to_string();
    let name_id = format!("00u{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let c = client();
    let id = s.start(&app, &c, &mia.to_uppercase()).await;
    let resp = s
        .response(&name_id, &["--in-response-to", &id, "--email", &mia])
        .await;
    s.accept(&app, &c, &resp, &mia, "member by email").await;
    assert!(identities_of_company(&app, &s.company_id).contains(&(
        issuer.clone(),
        name_id.clone(),
        mia_id.clone()
    )));

    // Next time by (company, NameID), even though the IdP now sends another email.
    let before = footprint(&app);
    let c = client();
    let id = s.start(&app, &c, &s.sp.slug).await;
    let resp = s
        .response(
            &name_id,
            &[
                "--in-response-to",
                &id,
                "--email",
                &format!("mia.renamed@{domain}"),
            ],
        )
        .await;
    s.accept(&app, &c, &resp, &mia, "member by NameID").await;
    let after = footprint(&app);
    assert_eq!(
        (after.users, after.identities, after.accounts),
        (before.users, before.identities, before.accounts),
        "no new user or identity"
    );

    // IdPs that sign the whole Response, or both, work too.
    for sign in ["response", "both"] {
        let c = client();
        let resp = s
            .solicited(&app, &c, &name_id, &["--sign", sign, "--email", &mia])
            .await;
        s.accept(&app, &c, &resp, &mia, &format!("--sign {sign}"))
            .await;
    }

    // A newcomer at the company's domain joins as a member (Require Invitation is off).
    let nora = format!("nora@{domain}");
    let c = client();
    let id = s.start(&app, &c, &nora).await;
    let resp = s
        .response(
            &nora,
            &[
                "--in-response-to",
                &id,
                "--given-name",
                "Nora",
                "--surname",
                "Newcomer",
            ],
        )
        .await;
    s.accept(&app, &c, &resp, &nora, "JIT newcomer").await;
    let user = user_by_email(&app, &nora).expect("the newcomer's account");
    assert_eq!(user.company_id.to_string(), s.company_id);
    assert_eq!(user.role, Role::Member);
    assert_eq!(user.name, "Nora Newcomer");
    assert!(
        user.password_hash.is_none(),
        "no password for an SSO account"
    );
    let (_, html) = view(&app, &c).get_html("/dashboard").await;
    assert!(html.contains("data-testid=\"dashboard-role\">member<"));
    assert!(details(&app, &s.company_id, "sign_up")
        .iter()
        .any(|d| d.contains("saml")));
    assert!(identities_of_company(&app, &s.company_id).contains(&(
        issuer.clone(),
        nora.clone(),
        user.id.to_string()
    )));

    // Not at the company's domain: refused, nobody created.
    let stranger = email("stranger");
    let c = client();
    let resp = s.solicited(&app, &c, &stranger, &[]).await;
    s.refuse(&app, &c, &resp, "not a member", "a stranger's email")
        .await;
    assert!(user_by_email(&app, &stranger).is_none());

    // With Require Invitation on, a newcomer at the domain is refused too.
    set_joining(&app, &s.company_id, &domain, true);
    let nina = format!("nina@{domain}");
    let c = client();
    let resp = s.solicited(&app, &c, &nina, &[]).await;
    s.refuse(&app, &c, &resp, "invitation", "require invitation")
        .await;
    assert!(user_by_email(&app, &nina).is_none());
    // …while members still sign in.
    let c = client();
    let resp = s.solicited(&app, &c, &name_id, &["--email", &mia]).await;
    s.accept(&app, &c, &resp, &mia, "member with require invitation on")
        .await;
}

// ---------------------------------------------------------------- 3. Forged responses

#[actix_web::test]
async fn forged_expired_and_misaddressed_responses_are_refused() {
    let app = TestApp::spawn().await;
    let idp = Rc::new(Idp::start().await);
    let s = setup(
        &app,
        idp.clone(),
        Tenant::new("forge", "idp"),
        "Forge SAML SE",
    )
    .await;
    let member = email("member");
    add_user(&app, &s.company_id, "Mo Member", &member, Role::Member);
    let wrong_key = idp.key_file("wrong.key");
    let wrong_crt = idp.key_file("wrong.crt");
    let elsewhere = "https://elsewhere.example/sso/saml/x";
    let other_acs = format!("{elsewhere}/acs");
    let other_sp = format!("{elsewhere}/metadata");
    let other_issuer = format!("{}-evil", s.tenant.entity_id);

    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("unsigned", vec!["--variant", "unsigned"], "must be signed"),
        (
            "signed with the wrong key",
            vec!["--key", &wrong_key, "--cert", &wrong_crt],
            "must be signed",
        ),
        (
            "tampered after signing",
            vec!["--variant", "tampered"],
            "must be signed",
        ),
        (
            "SHA-1 signature and digest",
            vec!["--digest", "sha1", "--sig-alg", "rsa-sha1"],
            "SHA-1",
        ),
        ("SHA-1 digest", vec!["--digest", "sha1"], "SHA-1"),
        ("SHA-1 signature", vec!["--sig-alg", "rsa-sha1"], "SHA-1"),
        (
            "expired",
            vec!["--not-on-or-after-offset", "-600"],
            "expired",
        ),
        (
            "wrong audience",
            vec!["--audience", &other_sp],
            "AudienceRequirement",
        ),
        (
            "wrong destination",
            vec!["--destination", &other_acs],
            "Destination",
        ),
        (
            "wrong destination, response signed",
            vec!["--destination", &other_acs, "--sign", "both"],
            "Destination",
        ),
        (
            "wrong recipient",
            vec!["--recipient", &other_acs],
            "Recipient does not match",
        ),
        (
            "another issuer",
            vec!["--idp-entity-id", &other_issuer],
            "Issuer does not match",
        ),
        (
            "IdP reports failure",
            vec!["--status", "urn:oasis:names:tc:SAML:2.0:status:Responder"],
            "did not report success",
        ),
    ];
    for (what, extra, reason) in &cases {
        let c = client();
        let resp = s.solicited(&app, &c, &member, extra).await;
        s.refuse(&app, &c, &resp, reason, what).await;
    }
    // Not base64, not a Response at all.
    let c = client();
    s.start(&app, &c, &s.sp.slug).await;
    s.refuse(&app, &c, "%%%not base64", "base64", "garbage")
        .await;
    let c = client();
    s.refuse(&app, &c, "", "", "empty").await;

    // A response that just expired is still refused (the default skew is only 60 s)…
    let c = client();
    let resp = s
        .solicited(&app, &c, &member, &["--not-on-or-after-offset", "-200"])
        .await;
    s.refuse(&app, &c, &resp, "expired", "expired 200 s ago")
        .await;

    // SHA-1 is accepted once the company opts in; everything else stays refused.
    let r = save_sso(&app, &app.client, "", &["allow_sha1"]).await;
    assert_eq!(r.status(), 303);
    let c = client();
    let resp = s
        .solicited(
            &app,
            &c,
            &member,
            &["--digest", "sha1", "--sig-alg", "rsa-sha1"],
        )
        .await;
    s.accept(&app, &c, &resp, &member, "SHA-1 allowed").await;
    let c = client();
    let resp = s
        .solicited(
            &app,
            &c,
            &member,
            &[
                "--digest",
                "sha1",
                "--sig-alg",
                "rsa-sha1",
                "--key",
                &wrong_key,
                "--cert",
                &wrong_crt,
            ],
        )
        .await;
    s.refuse(
        &app,
        &c,
        &resp,
        "must be signed",
        "SHA-1 allowed, wrong key",
    )
    .await;
    let c = client();
    let resp = s
        .solicited(
            &app,
            &c,
            &member,
            &[
                "--digest",
                "sha1",
                "--sig-alg",
                "rsa-sha1",
                "--variant",
                "unsigned",
            ],
        )
        .await;
    s.refuse(&app, &c, &resp, "must be signed", "SHA-1 allowed, unsigned")
        .await;

    // And a plain valid response still works.
    let c = client();
    let resp = s.solicited(&app, &c, &member, &[]).await;
    s.accept(&app, &c, &resp, &member, "valid").await;
}

// ---------------------------------------------------------------- 4. Binding and replay

#[actix_web::test]
async fn unsolicited_foreign_unknown_and_replayed_responses_are_refused() {
    let app = TestApp::spawn().await;
    let idp = Rc::new(Idp::start().await);
    let s = setup(
        &app,
        idp.clone(),
        Tenant::new("bind", "idp"),
        "Binding SAML BV",
    )
    .await;
    let member = email("member");
    add_user(&app, &s.company_id, "Mo Member", &member, Role::Member);

    // Unsolicited while IdP-initiated sign-in is off.
    let unsolicited = s.response(&member, &[]).await;
    let c = client();
    s.refuse(&app, &c, &unsolicited, "unsolicited", "unsolicited")
        .await;
    // …also from a browser that has a pending request of its own.
    let c = client();
    s.start(&app, &c, &s.sp.slug).await;
    s.refuse(
        &app,
        &c,
        &unsolicited,
        "unsolicited",
        "unsolicited, bound browser",
    )
    .await;

    // A response to browser A's request, posted by browser B (with its own binding cookie).
    let a = client();
    let b = client();
    let id_a = s.start(&app, &a, &s.sp.slug).await;
    s.start(&app, &b, &s.sp.slug).await;
    let for_a = s.response(&member, &["--in-response-to", &id_a]).await;
    s.refuse(
        &app,
        &b,
        &for_a,
        "InResponseTo does not name a pending request",
        "another browser's request",
    )
    .await;
    // Without any binding cookie at all.
    s.refuse(
        &app,
        &client(),
        &for_a,
        "InResponseTo does not name a pending request",
        "no binding cookie",
    )
    .await;
    // Browser A itself is still served.
    s.accept(&app, &a, &for_a, &member, "the browser that started it")
        .await;

    // Replayed: the same response again, from the same browser after signing out, and from
    // another one.
    let r = view(&app, &a).post_form("/dashboard", "/logout", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(signed_in_as(&app, &a).await, None);
    s.refuse(
        &app,
        &a,
        &for_a,
        "InResponseTo does not name a pending request",
        "replayed in the same browser",
    )
    .await;
    let c = client();
    s.start(&app, &c, &s.sp.slug).await;
    s.refuse(
        &app,
        &c,
        &for_a,
        "InResponseTo does not name a pending request",
        "replayed in another browser",
    )
    .await;

    // An InResponseTo that names no request at all.
    let c = client();
    s.start(&app, &c, &s.sp.slug).await;
    let unknown = s
        .response(
            &member,
            &["--in-response-to", "_0123456789abcdef0123456789abcdef"],
        )
        .await;
    s.refuse(
        &app,
        &c,
        &unknown,
        "InResponseTo does not name a pending request",
        "unknown InResponseTo",
    )
    .await;

    // IdP-initiated on: an unsolicited response is accepted once, then it is a replay.
    let r = save_sso(&app, &app.client, "", &["allow_idp_initiated"]).await;
    assert_eq!(r.status(), 303);
    let unsolicited = s.response(&member, &[]).await;
    let c = client();
    s.accept(&app, &c, &unsolicited, &member, "IdP-initiated")
        .await;
    s.refuse(
        &app,
        &client(),
        &unsolicited,
        "saml: replayed assertion",
        "replayed IdP-initiated",
    )
    .await;
    assert_eq!(
        details(&app, &s.company_id, "sign_in.failed")
            .last()
            .map(String::as_str),
        Some("saml: replayed assertion"),
        "the reason, once"
    );
    // Browser A's solicited response with InResponseTo cut from the unsigned envelope, posted
    // by browser B as if IdP-initiated: the signed SubjectConfirmationData still names A's
    // request, which B did not start.
    let a = client();
    let id_a = s.start(&app, &a, &s.sp.slug).await;
    let raw = s
        .response(&member, &["--in-response-to", &id_a, "--raw"])
        .await;
    let envelope_irt = format!(" InResponseTo=\"{id_a}\"");
    assert_eq!(raw.matches(&envelope_irt).count(), 2, "{raw}");
    let stripped = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(raw.replacen(&envelope_irt, "", 1))
    };
    let b = client();
    s.start(&app, &b, &s.sp.slug).await;
    s.refuse(
        &app,
        &b,
        &stripped,
        "the request was already answered",
        "A's response made unsolicited, posted by B",
    )
    .await;
    assert_eq!(
        details(&app, &s.company_id, "sign_in.failed")
            .last()
            .map(String::as_str),
        Some("saml: the request was already answered")
    );
    // A still signs in with a response to its request.
    let for_a = s.response(&member, &["--in-response-to", &id_a]).await;
    s.accept(&app, &a, &for_a, &member, "A after B's attempt")
        .await;
    // Solicited responses still need this browser's request.
    let c = client();
    s.start(&app, &c, &s.sp.slug).await;
    s.refuse(
        &app,
        &c,
        &unknown,
        "InResponseTo does not name a pending request",
        "unknown InResponseTo, IdP-initiated on",
    )
    .await;

    // Company B, with its own IdP and key. One browser starts at both companies.
    let b_owner_client = client();
    let b = setup_in(
        &app,
        &b_owner_client,
        idp.clone(),
        Tenant::new("other", "wrong"),
        "Other Company Oy",
    )
    .await;
    let c = client();
    let id_a = s.start(&app, &c, &s.sp.slug).await;
    let id_b = b.start(&app, &c, &b.sp.slug).await;
    // B's valid response, to A's ACS: refused.
    let for_b = b.response(&b.owner, &["--in-response-to", &id_b]).await;
    refuse_at(
        &app,
        &c,
        &s.sp.slug,
        &s.company_id,
        &for_b,
        "Destination",
        "company B's response at company A's ACS",
    )
    .await;
    // Even naming A's pending request.
    let for_b_naming_a = b.response(&s.owner, &["--in-response-to", &id_a]).await;
    refuse_at(
        &app,
        &c,
        &s.sp.slug,
        &s.company_id,
        &for_b_naming_a,
        "Destination",
        "company B's response naming A's request",
    )
    .await;
    // B's IdP addressing A's ACS: its key is not A's.
    let b_to_a = idp
        .response(&b.tenant, &s.sp, &s.owner, &["--in-response-to", &id_a])
        .await;
    refuse_at(
        &app,
        &c,
        &s.sp.slug,
        &s.company_id,
        &b_to_a,
        "must be signed",
        "company B's IdP addressing company A",
    )
    .await;
    // B's IdP vouching for A's owner at B: the account is outside B.
    let c2 = client();
    let a_owner_at_b = b.solicited(&app, &c2, &s.owner, &[]).await;
    b.refuse(
        &app,
        &c2,
        &a_owner_at_b,
        "outside this company",
        "A's owner through B's IdP",
    )
    .await;
    // The response was fine for B.
    b.accept(&app, &c, &for_b, &b.owner, "company B's response at B")
        .await;
}

// ---------------------------------------------------------------- 5. XSW and comments

#[actix_web::test]
async fn signature_wrapping_and_comment_injection_are_refused() {
    let app = TestApp::spawn().await;
    let idp = Rc::new(Idp::start().await);
    let s = setup(&app, idp, Tenant::new("xsw", "idp"), "Wrapping SAML KG").await;
    let member = email("member");
    add_user(&app, &s.company_id, "Mo Member", &member, Role::Member);
    let owner_id = user_by_email(&app, &s.owner).expect("owner").id.to_string();

    for variant in [
        "xsw-before",
        "xsw-after",
        "xsw-inside",
        "xsw-inside-advice",
        "xsw-extensions",
        "xsw-object",
    ] {
        for sign in ["assertion", "both"] {
            if variant != "xsw-object" && sign == "both" {
                continue;
            }
            let c = client();
            let resp = s
                .solicited(
                    &app,
                    &c,
                    &member,
                    &[
                        "--variant",
                        variant,
                        "--sign",
                        sign,
                        "--evil-name-id",
                        &s.owner,
                    ],
                )
                .await;
            let what = format!("{variant} (--sign {sign})");
            s.refuse(&app, &c, &resp, "Assertion", &what).await;
            assert_ne!(
                signed_in_as(&app, &c).await.as_deref(),
                Some(s.owner.as_str()),
                "{what}: the evil NameID never signs in"
            );
        }
    }
    // An evil NameID that could join just in time (a newcomer at the company's domain) is not
    // created either.
    let domain = random_domain("xsw");
    set_joining(&app, &s.company_id, &domain, false);
    let evil = format!("evil@{domain}");
    for variant in ["xsw-before", "xsw-inside-advice", "xsw-extensions"] {
        let c = client();
        let resp = s
            .solicited(
                &app,
                &c,
                &member,
                &["--variant", variant, "--evil-name-id", &evil],
            )
            .await;
        s.refuse(&app, &c, &resp, "Assertion", variant).await;
        assert!(user_by_email(&app, &evil).is_none(), "{variant}");
    }
    assert!(
        !identities_of_company(&app, &s.company_id)
            .iter()
            .any(|(_, subject, user)| subject == &s.owner || subject == &evil || user == &owner_id),
        "no identity for the evil NameIDs"
    );

    // A comment in the NameID: the signature holds, but the truncated address is the owner's.
    let signed = format!("{}.attacker.example", s.owner);
    for with_domain_claimed in [false, true] {
        if with_domain_claimed {
            // Even if the full address could join just in time.
            set_joining(&app, &s.company_id, "example.com.attacker.example", false);
        }
        let c = client();
        let resp = s
            .solicited(
                &app,
                &c,
                &signed,
                &["--variant", "comment", "--comment-after", &s.owner],
            )
            .await;
        s.refuse(&app, &c, &resp, "comment", "comment in the NameID")
            .await;
        assert_eq!(signed_in_as(&app, &c).await, None);
        assert!(user_by_email(&app, &signed).is_none());
    }

    // The same user with a clean response signs in.
    let c = client();
    let resp = s.solicited(&app, &c, &member, &[]).await;
    s.accept(&app, &c, &resp, &member, "clean response").await;
}

// ---------------------------------------------------------------- 6. Enforce SSO

#[actix_web::test]
async fn enforce_sso_leaves_the_owner_an_audited_password_sign_in() {
    let app = TestApp::spawn().await;
    let idp = Rc::new(Idp::start().await);
    let s = setup(
        &app,
        idp,
        Tenant::new("enforce", "idp"),
        "Enforced SAML Ltd",
    )
    .await;
    let member = email("member");
    let member_id = add_user(&app, &s.company_id, "Mo Member", &member, Role::Member)
        .id
        .to_string();
    let r = save_sso(&app, &app.client, "", &["enforce_sso"]).await;
    assert_eq!(r.status(), 303);
    assert!(company(&app, &s.company_id).sso_enforced);
    let (_, html) = app.get_html("/settings/sso").await;
    assert!(html.contains("name=\"enforce_sso\" checked"), "{html}");

    // The member's password is refused with the SSO message.
    let mc = client();
    let r = view(&app, &mc).login(&member, PASSWORD).await;
    assert_eq!(r.status(), 403);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("Your company requires single sign-on"),
        "{html}"
    );
    assert_eq!(signed_in_as(&app, &mc).await, None);
    assert!(events(&app, &s.company_id, "sign_in.failed")
        .iter()
        .any(|e| e.target.as_deref() == Some(member_id.as_str())
            && e.detail
                .as_deref()
                .unwrap_or_default()
                .contains("SSO enforced")));

    // The owner's password works, as an audited break-glass sign-in.
    let oc = client();
    let r = view(&app, &oc).login(&s.owner, PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/dashboard");
    assert_eq!(
        signed_in_as(&app, &oc).await.as_deref(),
        Some(s.owner.as_str())
    );
    let glass = events(&app, &s.company_id, "sign_in.break_glass");
    assert_eq!(glass.len(), 1, "{glass:?}");
    let owner_id = user_by_email(&app, &s.owner).expect("owner").id.to_string();
    assert_eq!(glass[0].actor_id.as_deref(), Some(owner_id.as_str()));

    // SAML still signs the member in.
    let resp = s.solicited(&app, &mc, &member, &[]).await;
    s.accept(
        &app,
        &mc,
        &resp,
        &member,
        "member through SAML under Enforce SSO",
    )
    .await;

    // Removing SAML turns enforcement off: the member's password works again.
    let r = app
        .post_form("/settings/sso", "/settings/sso/remove", &[])
        .await;
    assert_eq!(r.status(), 303);
    assert!(!company(&app, &s.company_id).sso_enforced);
    let c = client();
    let r = view(&app, &c).login(&member, PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        signed_in_as(&app, &c).await.as_deref(),
        Some(member.as_str())
    );
    // …and /sso/start no longer finds SAML for the company.
    let r = view(&app, &client())
        .post_form("/login", "/sso/start", &[("identifier", &s.sp.slug)])
        .await;
    assert_eq!(r.status(), 422);
}

// ---------------------------------------------------------------- 7. In a browser

/// A minimal IdP web front end: GET /sso?SAMLRequest=…&RelayState=… answers with a page whose
/// form posts a fresh signed response for `user` to the request's ACS.
struct IdpServer {
    idp: Rc<Idp>,
    tenant: Tenant,
    sp: Sp,
    user: String,
    auto_submit: std::cell::Cell<bool>,
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl IdpServer {
    async fn serve(self: Rc<Self>, listener: tokio::net::TcpListener) {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let me = self.clone();
            actix_web::rt::spawn(async move { me.answer(socket).await });
        }
    }

    async fn answer(&self, mut socket: tokio::net::TcpStream) {
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let target = head
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("/")
            .to_owned();
        let url = url::Url::parse(&format!("http://idp{target}")).expect("request target");
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let (status, body) = match (url.path(), query.get("SAMLRequest")) {
            ("/sso", Some(request)) => {
                let xml = self.idp.inflate(request).await;
                let id = root_attr(&xml, "ID").expect("AuthnRequest ID");
                let acs = root_attr(&xml, "AssertionConsumerServiceURL").expect("ACS URL");
                assert_eq!(acs, self.sp.acs_url);
                let response = self
                    .idp
                    .response(
                        &self.tenant,
                        &self.sp,
                        &self.user,
                        &["--in-response-to", &id],
                    )
                    .await;
                let relay = query.get("RelayState").cloned().unwrap_or_default();
                let script = if self.auto_submit.get() {
                    "<script>document.forms[0].submit()</script>"
                } else {
                    ""
                };
                (
                    "200 OK",
                    format!(
                        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Test IdP</title></head>\
                         <body><h1 data-testid=\"idp-page\">Test IdP</h1>\
                         <form method=\"post\" action=\"{}\">\
                         <input type=\"hidden\" name=\"SAMLResponse\" value=\"{}\">\
                         <input type=\"hidden\" name=\"RelayState\" value=\"{}\">\
                         <button type=\"submit\" data-testid=\"idp-submit\">Continue to the console</button>\
                         </form>{script}</body></html>",
                        html_escape(&acs),
                        html_escape(&response),
                        html_escape(&relay),
                    ),
                )
            }
            _ => ("404 Not Found", "not found".to_owned()),
        };
        let reply = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(reply.as_bytes()).await;
        let _ = socket.shutdown().await;
    }
}

/// /login → "Sign in with SSO" → the company's slug → Continue.
async fn sso_from_login(c: &fantoccini::Client, app: &TestApp, slug: &str) {
    c.goto(&app.url("/login")).await.expect("open /login");
    click(c, "sso-toggle").await;
    fill(c, "sso-identifier", slug).await;
    click(c, "sso-submit").await;
}

#[actix_web::test]
async fn sso_sign_in_in_a_browser() {
    let app = TestApp::spawn().await;
    let idp = Rc::new(Idp::start().await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the IdP");
    let idp_port = listener.local_addr().expect("IdP address").port();
    let tenant = Tenant {
        sso_url: format!("http://127.0.0.1:{idp_port}/sso"),
        ..Tenant::new("browser", "idp")
    };
    let s = setup(&app, idp.clone(), tenant, "Browser SAML GmbH").await;
    let server = Rc::new(IdpServer {
        idp,
        tenant: s.tenant.clone(),
        sp: s.sp.clone(),
        user: s.owner.clone(),
        auto_submit: std::cell::Cell::new(false),
    });
    actix_web::rt::spawn(server.clone().serve(listener));

    let (_driver, c) = browser().await;

    // With the IdP page's button.
    sso_from_login(&c, &app, &s.sp.slug).await;
    by_testid(&c, "idp-page").await;
    let at = c.current_url().await.expect("url");
    assert_eq!(at.port(), Some(idp_port), "on the IdP's page: {at}");
    assert_eq!(at.path(), "/sso");
    click(&c, "idp-submit").await;
    wait_for_path(&c, "/dashboard").await;
    assert_eq!(text_of(&c, "dashboard-title").await, "Welcome, Olga Owner");
    assert_eq!(text_of(&c, "dashboard-role").await, "owner");
    assert!(details(&app, &s.company_id, "sign_in.succeeded")
        .iter()
        .any(|d| d.contains("saml")));

    // Signed out, then again with the page submitting itself, as IdPs do.
    click(&c, "logout").await;
    wait_for_path(&c, "/login").await;
    server.auto_submit.set(true);
    sso_from_login(&c, &app, &s.sp.slug).await;
    wait_for_path(&c, "/dashboard").await;
    assert_eq!(text_of(&c, "dashboard-title").await, "Welcome, Olga Owner");

    c.close().await.expect("close browser session");
}
