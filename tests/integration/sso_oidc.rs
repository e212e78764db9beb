//! Sign-in with an OpenID Connect provider, end to end against a real provider (the npm
//! `oidc-provider` of tests/oidc, on loopback): the code + PKCE round trip over HTTP, every
//! refusal (state, replay, nonce, issuer, RFC 9207 `iss`, unverified email, userinfo about another
//! subject, another browser), a provider that sends claims only from userinfo, linking an
//! existing account from the profile, the joining rule, Enforce SSO, and one browser flow.
//!
//! Node.js and the provider are required: when they are missing these tests fail, they never
//! skip (run `bash tests/oidc/setup.sh` once).

use diesel::prelude::*;
use meetergo_console::db::models::{AuditEvent, Company, Identity, Invitation, User};
use meetergo_console::db::schema::{
    audit_events, companies, identities, invitations, sso_requests, users,
};
use meetergo_console::db::PooledConnection;
use meetergo_console::domain::Role;
use reqwest::{Client, Response, Url};

use crate::browser::{browser, find, text_of, wait_for_path};
use crate::helpers::{
    client, csrf_in, email, location, OidcProvider, TestApp, OIDC_CLIENT_ID, OIDC_PROVIDER_KEY,
    PASSWORD,
};

const OTHER_ISSUER: &str = "https://other.example";

// ---------------------------------------------------------------------------------------------
// HTTP: the app's browser (one cookie jar) and the provider's (another)
// ---------------------------------------------------------------------------------------------

/// A response read to the end.
#[derive(Debug)]
struct Reply {
    status: u16,
    location: String,
    set_cookies: Vec<String>,
    body: String,
}

async fn read(r: Response) -> Reply {
    let status = r.status().as_u16();
    let location = location(&r);
    let set_cookies = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let body = r.text().await.expect("body");
    Reply {
        status,
        location,
        set_cookies,
        body,
    }
}

async fn get(browser: &Client, url: &str) -> Reply {
    read(browser.get(url).send().await.expect("GET")).await
}

/// POSTs a form in this browser, with the CSRF token read from `page` first.
async fn post(
    app: &TestApp,
    browser: &Client,
    page: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> Reply {
    let html = get(browser, &app.url(page)).await.body;
    let token = csrf_in(&html).unwrap_or_else(|| panic!("no csrf_token on {page}"));
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    all.push(("csrf_token", &token));
    read(
        browser
            .post(app.url(path))
            .form(&all)
            .send()
            .await
            .expect("POST"),
    )
    .await
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `url` with the query parameter `name` replaced by `value`.
fn with_param(url: &Url, name: &str, value: &str) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

/// `url` without the query parameter `name`.
fn without_param(url: &Url, name: &str) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

/// GET /auth/oidc/okta/start (with `query`, like `?purpose=link`) in this browser: it must
/// send the browser to the provider's authorization endpoint. Returns that URL.
async fn start(app: &TestApp, provider: &OidcProvider, browser: &Client, query: &str) -> Url {
    let r = get(
        browser,
        &app.url(&format!("/auth/oidc/{OIDC_PROVIDER_KEY}/start{query}")),
    )
    .await;
    assert_eq!(r.status, 303, "start answers with a redirect: {}", r.body);
    let url = Url::parse(&r.location).expect("an absolute authorization URL");
    assert_eq!(
        url.as_str()
            .split('?')
            .next()
            .expect("authorization endpoint"),
        format!("{}/auth", provider.issuer),
        "sent to the provider's authorization endpoint"
    );
    url
}

/// At the provider, in a browser of its own: opens the authorization URL, submits the login
/// form as `login` and follows the provider's redirects until it sends the browser back to
/// the app. Returns that URL (the app's callback), without opening it.
async fn at_provider(app: &TestApp, provider: &OidcProvider, authorize: &Url, login: &str) -> Url {
    let jar = client();
    let r = get(&jar, authorize.as_str()).await;
    assert_eq!(
        r.status,
        303,
        "the provider shows its login: {}\nprovider log:\n{}",
        r.body,
        provider.log_text()
    );
    let interaction = authorize.join(&r.location).expect("interaction URL");
    let page = get(&jar, interaction.as_str()).await;
    assert_eq!(page.status, 200, "login form: {}", page.body);
    let action = form_action(&page.body).expect("the provider's login form");
    let mut here = Url::parse(&action).expect("form action URL");
    let mut r = read(
        jar.post(here.clone())
            .form(&[("login", login), ("action", "login")])
            .send()
            .await
            .expect("POST login"),
    )
    .await;
    for _ in 0..10 {
        assert_eq!(
            r.status,
            303,
            "the provider redirects after the login: {}\nprovider log:\n{}",
            r.body,
            provider.log_text()
        );
        let next = here.join(&r.location).expect("redirect URL");
        if next.as_str().starts_with(&app.address) {
            return next;
        }
        here = next;
        r = get(&jar, here.as_str()).await;
    }
    panic!("the provider never sent the browser back to the app")
}

fn form_action(html: &str) -> Option<String> {
    let form = html.get(html.find("id=\"login-form\"")?..)?;
    let marker = "action=\"";
    let start = form.find(marker)? + marker.len();
    let rest = form.get(start..)?;
    Some(unescape(rest.get(..rest.find('"')?)?))
}

/// The app's callback, opened in this browser.
async fn callback(browser: &Client, url: &Url) -> Reply {
    get(browser, url.as_str()).await
}

/// The whole round trip: start in this browser, sign in at the provider as `login`, back.
async fn round_trip(
    app: &TestApp,
    provider: &OidcProvider,
    browser: &Client,
    query: &str,
    login: &str,
) -> Reply {
    let authorize = start(app, provider, browser, query).await;
    let back = at_provider(app, provider, &authorize, login).await;
    callback(browser, &back).await
}

async fn sign_in_as(
    app: &TestApp,
    provider: &OidcProvider,
    browser: &Client,
    login: &str,
) -> Reply {
    round_trip(app, provider, browser, "", login).await
}

/// True on the dashboard, false when sent to /login; anything else fails.
async fn is_signed_in(app: &TestApp, browser: &Client) -> bool {
    let r = get(browser, &app.url("/dashboard")).await;
    match r.status {
        200 => true,
        303 => {
            assert_eq!(r.location, "/login", "signed out → /login");
            false
        }
        other => panic!("GET /dashboard answered {other}"),
    }
}

fn unescape(s: &str) -> String {
    s.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#x22;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text of the element with this `data-testid`, up to the next tag.
fn testid_text(html: &str, id: &str) -> Option<String> {
    let marker = format!("data-testid=\"{id}\">");
    let start = html.find(&marker)? + marker.len();
    let rest = html.get(start..)?;
    Some(unescape(rest.get(..rest.find('<')?)?.trim()))
}

/// The refusal page: 403 with this message.
fn assert_refused_with(r: &Reply, message: &str) {
    assert_eq!(r.status, 403, "refused: {}", r.body);
    let shown = testid_text(&r.body, "sso-problem").expect("the refusal message");
    assert!(
        shown.contains(message),
        "the refusal says {message:?}: {shown:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The database, read and written directly
// ---------------------------------------------------------------------------------------------

fn db(app: &TestApp) -> PooledConnection {
    app.db.conn().expect("db connection")
}

fn user_by_email(app: &TestApp, address: &str) -> Option<User> {
    users::table
        .filter(users::email.eq(address.to_lowercase()))
        .select(User::as_select())
        .first(&mut *db(app))
        .optional()
        .expect("user by email")
}

fn company(app: &TestApp, id: &str) -> Company {
    companies::table
        .filter(companies::id.eq(id))
        .select(Company::as_select())
        .first(&mut *db(app))
        .expect("company")
}

fn identities_of(app: &TestApp, user_id: &str) -> Vec<Identity> {
    identities::table
        .filter(identities::user_id.eq(user_id))
        .select(Identity::as_select())
        .load(&mut *db(app))
        .expect("identities")
}

fn identity(app: &TestApp, issuer: &str, subject: &str) -> Option<Identity> {
    identities::table
        .filter(identities::issuer.eq(issuer))
        .filter(identities::subject.eq(subject))
        .select(Identity::as_select())
        .first(&mut *db(app))
        .optional()
        .expect("identity")
}

/// Every audit event of this kind, oldest first.
fn events(app: &TestApp, kind: &str) -> Vec<AuditEvent> {
    audit_events::table
        .filter(audit_events::kind.eq(kind))
        .order((audit_events::created_at.asc(), audit_events::id.asc()))
        .select(AuditEvent::as_select())
        .load(&mut *db(app))
        .expect("audit events")
}

fn details(events: &[AuditEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.detail.clone().unwrap_or_default())
        .collect()
}

fn pending_oidc_requests(app: &TestApp) -> i64 {
    sso_requests::table
        .filter(sso_requests::kind.eq("oidc"))
        .filter(sso_requests::used_at.is_null())
        .count()
        .get_result(&mut *db(app))
        .expect("count sso requests")
}

fn set_company(app: &TestApp, id: &str, domains: &str, require_invitation: bool) {
    let n = diesel::update(companies::table.filter(companies::id.eq(id)))
        .set((
            companies::allowed_domains.eq(domains),
            companies::require_invitation.eq(require_invitation),
        ))
        .execute(&mut *db(app))
        .expect("update company");
    assert_eq!(n, 1);
}

fn set_sso_enforced(app: &TestApp, id: &str, enforced: bool) {
    let n = diesel::update(companies::table.filter(companies::id.eq(id)))
        .set(companies::sso_enforced.eq(enforced))
        .execute(&mut *db(app))
        .expect("update company");
    assert_eq!(n, 1);
}

/// What a refused sign-in must leave as it was.
#[derive(Debug, PartialEq, Eq)]
struct Footprint {
    users: i64,
    companies: i64,
    identities: i64,
    invitations_accepted: i64,
}

fn footprint(app: &TestApp) -> Footprint {
    let conn = &mut *db(app);
    Footprint {
        users: users::table.count().get_result(conn).expect("users"),
        companies: companies::table
            .count()
            .get_result(conn)
            .expect("companies"),
        identities: identities::table
            .count()
            .get_result(conn)
            .expect("identities"),
        invitations_accepted: invitations::table
            .filter(invitations::accepted_at.is_not_null())
            .count()
            .get_result(conn)
            .expect("invitations"),
    }
}

/// A refusal, checked whole: the page says `message`, the browser is not signed in, nothing
/// was created, and a `sign_in.failed` event records the reason (`reason` in its detail).
struct Before {
    footprint: Footprint,
    failed: usize,
}

fn before(app: &TestApp) -> Before {
    Before {
        footprint: footprint(app),
        failed: events(app, "sign_in.failed").len(),
    }
}

async fn assert_refusal(
    app: &TestApp,
    browser: &Client,
    before: Before,
    r: &Reply,
    message: &str,
    reason: &str,
) {
    assert_refused_with(r, message);
    assert!(!is_signed_in(app, browser).await, "not signed in");
    assert_eq!(footprint(app), before.footprint, "nothing was created");
    let failed = events(app, "sign_in.failed");
    let new = details(failed.get(before.failed..).unwrap_or_default());
    assert!(
        new.iter()
            .any(|d| d.starts_with("oidc:okta") && d.contains(reason)),
        "a sign_in.failed event gives the reason {reason:?}: {new:?}"
    );
}

const NOT_THIS_BROWSER: &str =
    "This sign-in was not started in this browser, was already used, or has expired.";
const NOT_VERIFIED: &str = "The provider's answer could not be verified.";
const ANOTHER_ISSUER: &str =
    "The answer did not come from the provider this sign-in was started with.";
const UNCONFIRMED_EMAIL: &str = "The provider did not confirm your email address";

// ---------------------------------------------------------------------------------------------
// The round trip
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn a_newcomer_signs_up_through_the_provider_and_signs_in_again_as_the_same_user() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let browser = app.client.clone();
    let before = footprint(&app);

    // The sign-in page offers the provider.
    let (status, login_page) = app.get_html("/login").await;
    assert_eq!(status, 200);
    assert!(
        login_page.contains("href=\"/auth/oidc/okta/start\" data-testid=\"oidc-okta\""),
        "{login_page}"
    );
    assert_eq!(
        testid_text(&login_page, "oidc-okta").as_deref(),
        Some("Continue with Okta")
    );

    // Start: a redirect to the provider, code flow with PKCE S256, state, nonce and the exact
    // redirect URI; the browser gets its binding cookie.
    let r = get(&browser, &app.url("/auth/oidc/okta/start")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let binding = r
        .set_cookies
        .iter()
        .find(|c| c.starts_with("sso_binding="))
        .unwrap_or_else(|| panic!("the sso_binding cookie is set: {:?}", r.set_cookies));
    assert!(binding.contains("HttpOnly"), "{binding}");
    let authorize = Url::parse(&r.location).expect("authorization URL");
    assert_eq!(
        authorize.as_str().split('?').next(),
        Some(format!("{}/auth", provider.issuer).as_str())
    );
    let redirect_uri = format!("{}/auth/oidc/okta/callback", app.address);
    assert_eq!(
        param(&authorize, "redirect_uri"),
        Some(redirect_uri.clone())
    );
    assert_eq!(param(&authorize, "response_type").as_deref(), Some("code"));
    assert_eq!(
        param(&authorize, "client_id").as_deref(),
        Some(OIDC_CLIENT_ID)
    );
    assert_eq!(
        param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let challenge = param(&authorize, "code_challenge").expect("code_challenge");
    assert_eq!(challenge.len(), 43, "a base64url SHA-256: {challenge}");
    let state = param(&authorize, "state").expect("state");
    let nonce = param(&authorize, "nonce").expect("nonce");
    assert!(state.len() >= 32 && nonce.len() >= 32 && state != nonce);
    let scope = param(&authorize, "scope").expect("scope");
    for s in ["openid", "email", "profile"] {
        assert!(scope.split(' ').any(|x| x == s), "scope {s}: {scope}");
    }
    assert_eq!(pending_oidc_requests(&app), 1);

    // At the provider, then back with code, state and iss.
    let back = at_provider(&app, &provider, &authorize, "alice").await;
    assert_eq!(back.path(), "/auth/oidc/okta/callback");
    assert_eq!(param(&back, "state"), Some(state));
    assert!(param(&back, "code").is_some());
    assert_eq!(param(&back, "iss"), Some(provider.issuer.clone()));
    let r = callback(&browser, &back).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard");
    let (status, dashboard) = app.get_html("/dashboard").await;
    assert_eq!(status, 200);
    assert_eq!(
        testid_text(&dashboard, "dashboard-title").as_deref(),
        Some("Welcome, alice")
    );
    assert_eq!(pending_oidc_requests(&app), 0, "the state is used up");

    // A new workspace (nobody claims example.com), with alice as its owner, no password, and
    // the identity (issuer, subject) linked.
    let alice = user_by_email(&app, "alice@example.com").expect("alice was created");
    assert_eq!(alice.role, Role::Owner);
    assert_eq!(alice.name, "alice");
    assert!(alice.password_hash.is_none());
    assert_eq!(footprint(&app).users, before.users + 1);
    assert_eq!(footprint(&app).companies, before.companies + 1);
    assert_eq!(
        company(&app, alice.company_id.as_str()).name,
        "alice's workspace"
    );
    let linked = identity(&app, &provider.issuer, "sub-alice").expect("identity row");
    assert_eq!(linked.user_id, alice.id);
    assert_eq!(linked.provider, "okta");
    assert_eq!(linked.email, "alice@example.com");
    assert_eq!(identities_of(&app, alice.id.as_str()).len(), 1);
    assert_eq!(details(&events(&app, "sign_up")), vec!["via oidc:okta"]);
    let signed_in = events(&app, "sign_in.succeeded");
    assert_eq!(signed_in.len(), 1);
    assert_eq!(
        signed_in.first().and_then(|e| e.actor_id.clone()),
        Some(alice.id.to_string())
    );

    // Signed out, then in again the same way (another browser): the same user.
    let r = app.logout().await;
    assert_eq!(r.status(), 303);
    assert!(!is_signed_in(&app, &browser).await);
    let again = client();
    let r = sign_in_as(&app, &provider, &again, "alice").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard");
    assert!(is_signed_in(&app, &again).await);
    let after = footprint(&app);
    assert_eq!(after.users, before.users + 1, "no second user");
    assert_eq!(after.companies, before.companies + 1, "no second company");
    assert_eq!(after.identities, 1);
    let signed_in = events(&app, "sign_in.succeeded");
    assert_eq!(signed_in.len(), 2);
    assert!(signed_in
        .iter()
        .all(|e| e.actor_id.as_deref() == Some(alice.id.as_str())));
    assert!(identity(&app, &provider.issuer, "sub-alice")
        .expect("identity")
        .last_used_at
        .is_some());
    assert_eq!(events(&app, "sign_up").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn a_tampered_state_or_a_callback_in_another_browser_is_refused() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;

    // Wrong state.
    let browser = client();
    let authorize = start(&app, &provider, &browser, "").await;
    let back = at_provider(&app, &provider, &authorize, "sam").await;
    let tampered = with_param(&back, "state", &"ab".repeat(24));
    let was = before(&app);
    let r = callback(&browser, &tampered).await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        NOT_THIS_BROWSER,
        "state does not match",
    )
    .await;

    // The same answer opened in another browser: without the binding cookie, and with a
    // binding cookie of its own.
    let stranger = client();
    let was = before(&app);
    let r = callback(&stranger, &back).await;
    assert_refusal(
        &app,
        &stranger,
        was,
        &r,
        "This sign-in link is not valid.",
        "without code, state or browser binding",
    )
    .await;
    let other = client();
    start(&app, &provider, &other, "").await;
    let was = before(&app);
    let r = callback(&other, &back).await;
    assert_refusal(
        &app,
        &other,
        was,
        &r,
        NOT_THIS_BROWSER,
        "state does not match",
    )
    .await;

    // None of that used up the real answer: in the browser that started it, it signs in.
    let r = callback(&browser, &back).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard");
    assert!(is_signed_in(&app, &browser).await);
    assert!(user_by_email(&app, "sam@example.com").is_some());
}

#[actix_web::test]
async fn a_replayed_callback_and_a_redeemed_code_are_refused() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let browser = client();
    let authorize = start(&app, &provider, &browser, "").await;
    let back = at_provider(&app, &provider, &authorize, "rita").await;
    let r = callback(&browser, &back).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard");
    // Signed out (the browser keeps its binding cookie), the same callback again.
    let r = post(&app, &browser, "/dashboard", "/logout", &[]).await;
    assert_eq!(r.status, 303);
    assert!(!is_signed_in(&app, &browser).await);
    let was = before(&app);
    let r = callback(&browser, &back).await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        NOT_THIS_BROWSER,
        "state does not match",
    )
    .await;

    // The same code under a fresh state of this browser: the provider refuses to redeem it
    // a second time.
    let fresh = start(&app, &provider, &browser, "").await;
    let fresh_state = param(&fresh, "state").expect("state");
    let reused = with_param(&back, "state", &fresh_state);
    let was = before(&app);
    let r = callback(&browser, &reused).await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        NOT_VERIFIED,
        "code exchange failed",
    )
    .await;
    // And that fresh state is used up too.
    let was = before(&app);
    let r = callback(&browser, &reused).await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        NOT_THIS_BROWSER,
        "state does not match",
    )
    .await;
}

#[actix_web::test]
async fn an_id_token_with_another_nonce_is_refused() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let browser = client();
    let authorize = start(&app, &provider, &browser, "").await;
    // The pending request now expects another nonce than the one sent to the provider.
    let n = diesel::update(
        sso_requests::table
            .filter(sso_requests::kind.eq("oidc"))
            .filter(sso_requests::used_at.is_null()),
    )
    .set(sso_requests::nonce.eq(Some("b".repeat(48))))
    .execute(&mut *db(&app))
    .expect("change the nonce");
    assert_eq!(n, 1);
    let back = at_provider(&app, &provider, &authorize, "nina").await;
    let was = before(&app);
    let r = callback(&browser, &back).await;
    assert_refusal(&app, &browser, was, &r, NOT_VERIFIED, "nonce").await;
    let failed = details(&events(&app, "sign_in.failed"));
    assert!(
        failed.iter().any(|d| d.contains("ID token rejected")),
        "{failed:?}"
    );
    assert!(user_by_email(&app, "nina@example.com").is_none());
}

#[actix_web::test]
async fn an_id_token_from_another_issuer_is_refused() {
    // The app is configured with the provider's listening URL as the issuer and has read its
    // discovery document; the provider that answers then claims another issuer (same port,
    // same endpoints), so the ID token's `iss` is not the configured issuer.
    let (app, mut provider) = TestApp::spawn_with_oidc(&[]).await;
    let configured = provider.issuer.clone();
    let (browser, first) = (client(), client());
    let authorize = start(&app, &provider, &browser, "").await;
    let authorize_first = start(&app, &provider, &first, "").await;
    provider.restart(&["--issuer-claim", OTHER_ISSUER]);
    assert_eq!(provider.issuer, configured, "same listening URL");

    // Its authorization response names the other issuer (RFC 9207 `iss`): refused on that
    // alone, before the code is redeemed.
    let back = at_provider(&app, &provider, &authorize_first, "ivan").await;
    assert_eq!(param(&back, "iss").as_deref(), Some(OTHER_ISSUER));
    let was = before(&app);
    let r = callback(&first, &back).await;
    let reason =
        format!("authorization response from issuer {OTHER_ISSUER}, expected {configured}");
    assert_refusal(&app, &first, was, &r, ANOTHER_ISSUER, &reason).await;

    // Without that parameter (not every provider sends it), the ID token's `iss` is refused.
    let back = at_provider(&app, &provider, &authorize, "ivan").await;
    let back = without_param(&back, "iss");
    let was = before(&app);
    let r = callback(&browser, &back).await;
    assert_refusal(&app, &browser, was, &r, NOT_VERIFIED, "ID token rejected").await;
    let failed = details(&events(&app, "sign_in.failed"));
    assert!(
        failed
            .iter()
            .any(|d| d.contains(OTHER_ISSUER) && d.contains(&configured)),
        "the reason names both issuers: {failed:?}"
    );
    assert!(user_by_email(&app, "ivan@example.com").is_none());

    // A provider whose discovery document already names another issuer is not used at all:
    // the start does not send anyone there.
    let (app, _provider) = TestApp::spawn_with_oidc(&["--issuer-claim", OTHER_ISSUER]).await;
    let browser = client();
    let was = footprint(&app);
    let r = get(&browser, &app.url("/auth/oidc/okta/start")).await;
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(r.body.contains("could not be used right now"), "{}", r.body);
    assert!(r.location.is_empty());
    assert!(
        details(&events(&app, "sign_in.failed"))
            .iter()
            .any(|d| d.starts_with("oidc:okta") && d.contains("discovery")),
        "the refusal is audited with its reason"
    );
    assert_eq!(pending_oidc_requests(&app), 0);
    assert!(!is_signed_in(&app, &browser).await);
    assert_eq!(footprint(&app), was);
}

#[actix_web::test]
async fn an_unverified_email_is_refused() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let browser = client();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &browser, "unverified-bob").await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        UNCONFIRMED_EMAIL,
        UNCONFIRMED_EMAIL,
    )
    .await;
    assert!(user_by_email(&app, "unverified-bob@example.com").is_none());
}

#[actix_web::test]
async fn an_authorization_response_naming_another_issuer_is_refused() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;

    // The answer's `iss` changed on the way: refused, audited with both issuers.
    let browser = client();
    let authorize = start(&app, &provider, &browser, "").await;
    let back = at_provider(&app, &provider, &authorize, "iris").await;
    assert_eq!(param(&back, "iss"), Some(provider.issuer.clone()));
    let tampered = with_param(&back, "iss", OTHER_ISSUER);
    let was = before(&app);
    let r = callback(&browser, &tampered).await;
    let reason = format!(
        "authorization response from issuer {OTHER_ISSUER}, expected {}",
        provider.issuer
    );
    assert_refusal(&app, &browser, was, &r, ANOTHER_ISSUER, &reason).await;
    // Not even a trailing slash is forgiven (RFC 9207: simple string comparison).
    let authorize = start(&app, &provider, &browser, "").await;
    let back = at_provider(&app, &provider, &authorize, "iris").await;
    let slash = with_param(&back, "iss", &format!("{}/", provider.issuer));
    let was = before(&app);
    let r = callback(&browser, &slash).await;
    assert_refusal(&app, &browser, was, &r, ANOTHER_ISSUER, "expected").await;
    assert!(user_by_email(&app, "iris@example.com").is_none());

    // The provider's own `iss`: signed in.
    let authorize = start(&app, &provider, &browser, "").await;
    let back = at_provider(&app, &provider, &authorize, "iris").await;
    assert_eq!(param(&back, "iss"), Some(provider.issuer.clone()));
    let r = callback(&browser, &back).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard");
    assert!(is_signed_in(&app, &browser).await);
    assert!(user_by_email(&app, "iris@example.com").is_some());

    // No `iss` at all (a provider without RFC 9207): signed in as before.
    let other = client();
    let authorize = start(&app, &provider, &other, "").await;
    let back = at_provider(&app, &provider, &authorize, "iris").await;
    let r = callback(&other, &without_param(&back, "iss")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard");
    assert!(is_signed_in(&app, &other).await);
}

// ---------------------------------------------------------------------------------------------
// A provider that sends the person's claims only from userinfo (like Okta with an access token)
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn a_provider_that_sends_claims_only_from_userinfo_signs_people_in() {
    let (app, provider) = TestApp::spawn_with_oidc(&["--claims-from-userinfo"]).await;

    // The ID token names only `sub`: email, its verification and the name come from userinfo.
    let browser = client();
    // (A login with `@` is its own email, and the name is the login as typed: not what the
    // console would make up from the email.)
    let r = sign_in_as(&app, &provider, &browser, "Ursula@Example.org").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard");
    assert!(is_signed_in(&app, &browser).await);
    let ursula = user_by_email(&app, "ursula@example.org").expect("ursula was created");
    assert_eq!(ursula.name, "Ursula@Example.org", "the name from userinfo");
    let linked = identity(&app, &provider.issuer, "sub-Ursula@Example.org").expect("identity row");
    assert_eq!(linked.user_id, ursula.id);
    assert_eq!(linked.email, "ursula@example.org");

    // Userinfo saying the email is not verified is still a refusal.
    let browser = client();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &browser, "unverified-ulla").await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        UNCONFIRMED_EMAIL,
        UNCONFIRMED_EMAIL,
    )
    .await;
    assert!(user_by_email(&app, "unverified-ulla@example.com").is_none());
}

#[actix_web::test]
async fn a_userinfo_answer_about_another_subject_is_refused() {
    let (app, provider) =
        TestApp::spawn_with_oidc(&["--claims-from-userinfo", "--userinfo-sub", "sub-mallory"])
            .await;
    let browser = client();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &browser, "victor").await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        NOT_VERIFIED,
        "userinfo rejected: its sub is not the ID token's sub",
    )
    .await;
    assert!(user_by_email(&app, "victor@example.com").is_none());

    // When the ID token carries the claims, userinfo is not asked (and its answer cannot
    // matter): the same faulty provider with claims in the ID token signs people in.
    let (app, provider) = TestApp::spawn_with_oidc(&["--userinfo-sub", "sub-mallory"]).await;
    let browser = client();
    let r = sign_in_as(&app, &provider, &browser, "victor").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard");
    assert!(identity(&app, &provider.issuer, "sub-victor").is_some());
}

// ---------------------------------------------------------------------------------------------
// Linking from the profile
// ---------------------------------------------------------------------------------------------

/// The id of the identity row's unlink form on the profile page.
fn unlink_path(profile: &str) -> Option<String> {
    let marker = "action=\"/profile/identities/";
    let start = profile.find(marker)? + "action=\"".len();
    let rest = profile.get(start..)?;
    Some(rest.get(..rest.find('"')?)?.to_owned())
}

#[actix_web::test]
async fn an_existing_account_is_linked_only_from_its_profile() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let who = email("paula");
    let r = app.signup("Paula Co", "Paula", &who).await;
    assert_eq!(r.status(), 303);
    let paula = user_by_email(&app, &who).expect("paula");
    let r = app.logout().await;
    assert_eq!(r.status(), 303);

    // The provider vouches for the same (verified) email: not linked silently.
    let stranger = client();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &stranger, &who).await;
    let message = format!(
        "An account with {who} already exists. Sign in with your usual method, then link this provider from your profile."
    );
    assert_refusal(&app, &stranger, was, &r, &message, "already exists").await;
    assert!(identities_of(&app, paula.id.as_str()).is_empty());

    // Linking needs a signed-in user.
    let r = get(&stranger, &app.url("/auth/oidc/okta/start?purpose=link")).await;
    assert_eq!(r.status, 303);
    assert!(r.location.starts_with("/login"), "{}", r.location);

    // Signed in with the password, from the profile.
    let browser = app.client.clone();
    let r = app.login(&who, PASSWORD).await;
    assert_eq!(r.status(), 303);
    let profile = get(&browser, &app.url("/profile")).await.body;
    assert!(
        profile.contains("data-testid=\"identities-empty\""),
        "{profile}"
    );
    assert!(
        profile.contains("href=\"/auth/oidc/okta/start?purpose=link\" data-testid=\"link-okta\""),
        "{profile}"
    );
    let r = round_trip(&app, &provider, &browser, "?purpose=link", &who).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/profile");
    let profile = get(&browser, &app.url("/profile")).await.body;
    assert_eq!(
        testid_text(&profile, "flash").as_deref(),
        Some("okta is linked. You can sign in with it now.")
    );
    assert!(
        profile.contains("data-testid=\"identity-row\" data-provider=\"okta\""),
        "{profile}"
    );
    assert!(!profile.contains("data-testid=\"link-okta\""), "{profile}");
    let linked = identities_of(&app, paula.id.as_str());
    assert_eq!(linked.len(), 1);
    let subject = format!("sub-{who}");
    assert_eq!(
        identity(&app, &provider.issuer, &subject).map(|i| i.user_id),
        Some(paula.id.clone())
    );
    assert_eq!(events(&app, "identity.linked").len(), 1);
    let r = app.logout().await;
    assert_eq!(r.status(), 303);

    // Now the provider signs into that same account.
    let users_before = footprint(&app).users;
    let elsewhere = client();
    let r = sign_in_as(&app, &provider, &elsewhere, &who).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard");
    let dashboard = get(&elsewhere, &app.url("/dashboard")).await.body;
    assert_eq!(
        testid_text(&dashboard, "dashboard-title").as_deref(),
        Some("Welcome, Paula")
    );
    assert_eq!(footprint(&app).users, users_before);
    let last = events(&app, "sign_in.succeeded");
    let last = last.last().expect("a sign-in event");
    assert_eq!(last.actor_id.as_deref(), Some(paula.id.as_str()));
    assert_eq!(last.detail.as_deref(), Some("via oidc:okta"));

    // Unlink: allowed, the account has a password.
    let profile = get(&elsewhere, &app.url("/profile")).await.body;
    let path = unlink_path(&profile).expect("an unlink form");
    let r = post(&app, &elsewhere, "/profile", &path, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/profile");
    let profile = get(&elsewhere, &app.url("/profile")).await.body;
    assert_eq!(
        testid_text(&profile, "flash").as_deref(),
        Some("okta is unlinked.")
    );
    assert!(
        profile.contains("data-testid=\"identities-empty\""),
        "{profile}"
    );
    assert!(identities_of(&app, paula.id.as_str()).is_empty());
    assert_eq!(events(&app, "identity.unlinked").len(), 1);
    // And the provider no longer signs in to it.
    let again = client();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &again, &who).await;
    assert_refusal(&app, &again, was, &r, &message, "already exists").await;

    // An account made through the provider has no password: its only identity stays.
    let solo = client();
    let r = sign_in_as(&app, &provider, &solo, "solo").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let solo_user = user_by_email(&app, "solo@example.com").expect("solo");
    let profile = get(&solo, &app.url("/profile")).await.body;
    assert!(
        profile.contains("Your account has no password"),
        "{profile}"
    );
    let path = unlink_path(&profile).expect("an unlink form");
    let r = post(&app, &solo, "/profile", &path, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/profile");
    let profile = get(&solo, &app.url("/profile")).await.body;
    assert_eq!(
        testid_text(&profile, "flash").as_deref(),
        Some("This is your only way to sign in. Link another provider first.")
    );
    assert!(
        profile.contains("data-testid=\"identity-row\" data-provider=\"okta\""),
        "{profile}"
    );
    assert_eq!(identities_of(&app, solo_user.id.as_str()).len(), 1);
    assert_eq!(events(&app, "identity.unlinked").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The joining rule and Enforce SSO
// ---------------------------------------------------------------------------------------------

fn random_domain(prefix: &str) -> String {
    format!(
        "{prefix}{}.example.org",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

#[actix_web::test]
async fn oidc_newcomers_follow_the_joining_rule() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let domain = random_domain("join");
    let owner_email = format!("olga@{domain}");
    let r = app.signup("Domain Co", "Olga", &owner_email).await;
    assert_eq!(r.status(), 303);
    let company_id = user_by_email(&app, &owner_email)
        .expect("owner")
        .company_id
        .to_string();
    set_company(&app, &company_id, &domain, true);

    // Require Invitation on, no invitation: refused, nothing created.
    let newcomer = format!("nick@{domain}");
    let browser = client();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &browser, &newcomer).await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        "Your organization requires an invitation to join.",
        "requires an invitation",
    )
    .await;
    assert!(user_by_email(&app, &newcomer).is_none());

    // Invited (through the members page, as the owner): joins with the invited role.
    let invited = format!("ida@{domain}");
    let r = app
        .post_form(
            "/dashboard",
            "/settings/members/invite",
            &[("email", &invited), ("role", "admin")],
        )
        .await;
    assert_eq!(r.status(), 200, "the owner invites {invited}");
    let page = r.text().await.expect("members page");
    let link = testid_text(&page, "invite-link").expect("invitation link shown");
    let token = link.rsplit('/').next().expect("token").to_owned();

    // A pending invitation is not picked up by email alone: signing in is not joining.
    let was = before(&app);
    let stranger = client();
    let r = sign_in_as(&app, &provider, &stranger, &invited).await;
    assert_refusal(
        &app,
        &stranger,
        was,
        &r,
        "requires an invitation",
        "requires an invitation",
    )
    .await;
    // The link used with another account of the provider does not let that account in.
    let was = before(&app);
    let other = client();
    let r = round_trip(
        &app,
        &provider,
        &other,
        &format!("?invitation={token}"),
        &format!("mallory@{domain}"),
    )
    .await;
    assert_refusal(
        &app,
        &other,
        was,
        &r,
        "This invitation is for",
        "This invitation is for",
    )
    .await;

    // Started from the invitation link, with the invited email: joins with the invited role.
    let was = footprint(&app);
    let browser = client();
    let r = round_trip(
        &app,
        &provider,
        &browser,
        &format!("?invitation={token}"),
        &invited,
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard");
    assert!(is_signed_in(&app, &browser).await);
    let ida = user_by_email(&app, &invited).expect("ida joined");
    assert_eq!(ida.company_id.as_str(), company_id);
    assert_eq!(ida.role, Role::Admin);
    assert!(ida.password_hash.is_none());
    let now = footprint(&app);
    assert_eq!(now.users, was.users + 1);
    assert_eq!(now.companies, was.companies, "no workspace of her own");
    assert_eq!(now.invitations_accepted, was.invitations_accepted + 1);
    let invitation: Invitation = invitations::table
        .filter(invitations::email.eq(&invited))
        .select(Invitation::as_select())
        .first(&mut *db(&app))
        .expect("invitation");
    assert!(invitation.accepted_at.is_some(), "the invitation is used");
    assert_eq!(identities_of(&app, ida.id.as_str()).len(), 1);

    // Require Invitation off: a newcomer with the domain joins as a member.
    set_company(&app, &company_id, &domain, false);
    let browser = client();
    let r = sign_in_as(&app, &provider, &browser, &newcomer).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let nick = user_by_email(&app, &newcomer).expect("nick joined");
    assert_eq!(nick.company_id.as_str(), company_id);
    assert_eq!(nick.role, Role::Member);
    assert_eq!(footprint(&app).companies, was.companies);
}

#[actix_web::test]
async fn enforce_sso_refuses_members_and_lets_the_owner_break_glass() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let domain = random_domain("enforce");
    let owner_email = format!("owen@{domain}");
    let r = app.signup("Strict Co", "Owen", &owner_email).await;
    assert_eq!(r.status(), 303);
    let owner = user_by_email(&app, &owner_email).expect("owner");
    let company_id = owner.company_id.to_string();
    // The owner links the provider from the profile.
    let r = round_trip(&app, &provider, &app.client, "?purpose=link", &owner_email).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/profile");
    assert_eq!(identities_of(&app, owner.id.as_str()).len(), 1);
    // A member joins through the provider (the company claims the domain).
    set_company(&app, &company_id, &domain, false);
    let member_email = format!("mia@{domain}");
    let r = sign_in_as(&app, &provider, &client(), &member_email).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let mia = user_by_email(&app, &member_email).expect("mia joined");
    assert_eq!(mia.role, Role::Member);
    assert_eq!(mia.company_id.as_str(), company_id);

    set_sso_enforced(&app, &company_id, true);

    // The member: refused.
    let browser = client();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &browser, &member_email).await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        "Your company requires single sign-on.",
        "requires single sign-on",
    )
    .await;
    let refused: Vec<AuditEvent> = events(&app, "sign_in.failed")
        .into_iter()
        .filter(|e| e.company_id.as_ref().map(|c| c.as_str()) == Some(company_id.as_str()))
        .collect();
    assert!(
        refused
            .iter()
            .any(|e| e.target.as_deref() == Some(mia.id.as_str())
                && e.detail.as_deref() == Some("oidc:okta refused: SSO enforced")),
        "{refused:?}"
    );

    // The owner: allowed, and the break-glass sign-in is audited.
    assert!(events(&app, "sign_in.break_glass").is_empty());
    let browser = client();
    let r = sign_in_as(&app, &provider, &browser, &owner_email).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard");
    assert!(is_signed_in(&app, &browser).await);
    let glass = events(&app, "sign_in.break_glass");
    assert_eq!(glass.len(), 1, "{glass:?}");
    let glass = glass.first().expect("break glass event");
    assert_eq!(glass.actor_id.as_deref(), Some(owner.id.as_str()));
    assert_eq!(
        glass.company_id.as_ref().map(|c| c.as_str()),
        Some(company_id.as_str())
    );
    assert_eq!(
        glass.detail.as_deref(),
        Some("owner signed in by oidc:okta while SSO is enforced")
    );
}

// ---------------------------------------------------------------------------------------------
// In a browser
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn oidc_sign_in_in_a_browser() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let (_driver, c) = browser().await;
    c.goto(&app.url("/login")).await.expect("open /login");
    crate::browser::click(&c, "oidc-okta").await;
    // The provider's login form.
    let field = find(&c, "#login").await;
    let at = c.current_url().await.expect("current url");
    assert!(
        at.as_str().starts_with(&provider.issuer),
        "at the provider: {at}"
    );
    field.clear().await.expect("clear login");
    field.send_keys("carla").await.expect("type login");
    find(&c, "#submit")
        .await
        .click()
        .await
        .expect("submit login");
    wait_for_path(&c, "/dashboard").await;
    let at = c.current_url().await.expect("current url");
    assert!(
        at.as_str().starts_with(&app.address),
        "back at the app: {at}"
    );
    assert_eq!(text_of(&c, "dashboard-title").await, "Welcome, carla");
    let carla = user_by_email(&app, "carla@example.com").expect("carla");
    assert_eq!(identities_of(&app, carla.id.as_str()).len(), 1);
    c.close().await.expect("close browser session");
}
