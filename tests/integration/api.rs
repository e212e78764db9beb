//! The /v4 JSON API and the credential pages: who may call what, and with which answer.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use diesel::prelude::*;
use meetergo_console::auth::keys::Keys;
use meetergo_console::auth::password::hash_now;
use meetergo_console::auth::tokens;
use meetergo_console::db::models::now;
use meetergo_console::db::schema::{personal_access_tokens, platform_api_keys, users};
use meetergo_console::db::DatabaseUrl;
use meetergo_console::domain::ApiKeyId;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{backend, client, email, location, Browserless, TestApp, PASSWORD};

// ---------------------------------------------------------------------------------------------
// Calling the API
// ---------------------------------------------------------------------------------------------

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Reply {
    pub(crate) fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

/// One API call from a cookie-less client: `bearer` goes in `Authorization: Bearer …` as is.
pub(crate) async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    user_header: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut req = reqwest::Client::new().request(method, app.url(path));
    if let Some(b) = bearer {
        req = req.header("authorization", format!("Bearer {b}"));
    }
    if let Some(h) = user_header {
        req = req.header("x-meetergo-api-user-id", h);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let r = req.send().await.expect("api call");
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        headers,
        body,
    }
}

async fn get(app: &TestApp, path: &str, bearer: &str, user_header: Option<&str>) -> Reply {
    call(app, Method::GET, path, Some(bearer), user_header, None).await
}

// ---------------------------------------------------------------------------------------------
// Direct database work the UI does not offer
// ---------------------------------------------------------------------------------------------

/// (user id, company id) of the user with this email.
fn user_by_email(app: &TestApp, address: &str) -> (String, String) {
    let mut conn = app.db.conn().expect("db");
    users::table
        .filter(users::email.eq(address.to_lowercase()))
        .select((users::id, users::company_id))
        .first::<(String, String)>(&mut *conn)
        .expect("user by email")
}

pub(crate) fn user_status(app: &TestApp, id: &str) -> String {
    let mut conn = app.db.conn().expect("db");
    users::table
        .filter(users::id.eq(id))
        .select(users::status)
        .first::<String>(&mut *conn)
        .expect("user status")
}

/// Users created through the API have no password; give them one so they can sign in.
fn set_password(app: &TestApp, user_id: &str) {
    let hash = hash_now(PASSWORD).expect("hash");
    let mut conn = app.db.conn().expect("db");
    let n = diesel::update(users::table.filter(users::id.eq(user_id)))
        .set(users::password_hash.eq(Some(hash)))
        .execute(&mut *conn)
        .expect("set password");
    assert_eq!(n, 1);
}

fn pat_id(app: &TestApp, user_id: &str, name: &str) -> String {
    let mut conn = app.db.conn().expect("db");
    personal_access_tokens::table
        .filter(personal_access_tokens::user_id.eq(user_id))
        .filter(personal_access_tokens::name.eq(name))
        .select(personal_access_tokens::id)
        .first::<String>(&mut *conn)
        .expect("token by name")
}

fn expire_pat(app: &TestApp, user_id: &str, name: &str) {
    let id = pat_id(app, user_id, name);
    let mut conn = app.db.conn().expect("db");
    let past = now() - chrono::Duration::hours(1);
    diesel::update(personal_access_tokens::table.filter(personal_access_tokens::id.eq(id)))
        .set(personal_access_tokens::expires_at.eq(Some(past)))
        .execute(&mut *conn)
        .expect("expire token");
}

fn expire_key(app: &TestApp, key_id: &str) {
    let mut conn = app.db.conn().expect("db");
    let past = now() - chrono::Duration::hours(1);
    let n = diesel::update(platform_api_keys::table.filter(platform_api_keys::id.eq(key_id)))
        .set(platform_api_keys::expires_at.eq(past))
        .execute(&mut *conn)
        .expect("expire key");
    assert_eq!(n, 1);
}

/// The id inside `ak_live:<id>:<secret>`.
fn key_id_of(clear: &str) -> String {
    clear
        .strip_prefix("ak_live:")
        .and_then(|rest| rest.split(':').next())
        .expect("api key format")
        .to_owned()
}

/// The part of a credential that is secret: after `rgo-`, or after the key id.
fn secret_part(clear: &str) -> &str {
    if let Some(rest) = clear.strip_prefix("rgo-") {
        rest
    } else {
        clear.rsplit(':').next().expect("api key format")
    }
}

pub(crate) fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Creates a user of the key's company through `POST /v4/user`; returns its id and email.
pub(crate) async fn create_user(
    app: &TestApp,
    key: &str,
    given: &str,
    role: &str,
) -> (String, String) {
    let address = email(&given.to_lowercase());
    let r = call(
        app,
        Method::POST,
        "/v4/user",
        Some(key),
        None,
        Some(&json!({"email": address, "givenName": given, "role": role})),
    )
    .await;
    assert_eq!(r.status, 201, "creating {role} {given}: {}", r.body);
    let id = r.body["userId"].as_str().expect("userId").to_owned();
    (id, address)
}

pub(crate) async fn create_meeting_type(
    app: &TestApp,
    key: &str,
    user: &str,
    title: &str,
    slug: &str,
) -> String {
    let r = call(
        app,
        Method::POST,
        "/v4/meeting-type",
        Some(key),
        Some(user),
        Some(&json!({"title": title, "slug": slug, "duration": 30})),
    )
    .await;
    assert_eq!(r.status, 201, "creating meeting type {slug}: {}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

// ---------------------------------------------------------------------------------------------
// Two companies and every kind of credential
// ---------------------------------------------------------------------------------------------

/// Company A (owner by signup; admin and member created with the API key, then signed in from
/// their own browsers to make PATs) and company B (its own signup, in a third browser).
pub(crate) struct World<'a> {
    pub(crate) company_a: String,
    pub(crate) owner: String,
    pub(crate) admin: String,
    pub(crate) member: String,
    pub(crate) b_owner: String,
    pub(crate) key: String,
    pub(crate) owner_pat: String,
    pub(crate) admin_pat: String,
    pub(crate) member_pat: String,
    pub(crate) expired_pat: String,
    pub(crate) expired_key: String,
    pub(crate) revoked_pat: String,
    pub(crate) deactivated_key: String,
    pub(crate) owner_mt: String,
    pub(crate) admin_mt: String,
    pub(crate) member_mt: String,
    pub(crate) admin_browser: Browserless<'a>,
    pub(crate) member_browser: Browserless<'a>,
    pub(crate) b_browser: Browserless<'a>,
}

impl<'a> World<'a> {
    pub(crate) async fn build(app: &'a TestApp) -> World<'a> {
        let owner_email = email("owner");
        assert_eq!(
            app.signup("Company A", "Olga Owner", &owner_email)
                .await
                .status(),
            303
        );
        let (owner, company_a) = user_by_email(app, &owner_email);
        let key = app.create_api_key("Production", "30").await;

        let (admin, admin_email) = create_user(app, &key, "Ada", "admin").await;
        let (member, member_email) = create_user(app, &key, "Mia", "member").await;
        set_password(app, &admin);
        set_password(app, &member);

        let admin_browser = app.another_browser();
        let r = admin_browser.as_app().login(&admin_email, PASSWORD).await;
        assert_eq!(r.status(), 303, "admin signs in");
        let admin_pat = admin_browser.as_app().create_pat("admin cli", "30").await;

        let member_browser = app.another_browser();
        let r = member_browser.as_app().login(&member_email, PASSWORD).await;
        assert_eq!(r.status(), 303, "member signs in");
        let member_pat = member_browser.as_app().create_pat("member cli", "30").await;

        let owner_pat = app.create_pat("owner cli", "none").await;

        let expired_pat = app.create_pat("soon expired", "30").await;
        expire_pat(app, &owner, "soon expired");

        let revoked_pat = app.create_pat("to revoke", "30").await;
        let id = pat_id(app, &owner, "to revoke");
        let r = app
            .post_form(
                "/integrations/api",
                &format!("/integrations/api/tokens/{id}/revoke"),
                &[],
            )
            .await;
        assert_eq!(r.status(), 303, "token revoked");

        let deactivated_key = app.create_api_key("Paused", "30").await;
        let r = app
            .post_form(
                "/admin/api-keys",
                &format!("/admin/api-keys/{}/deactivate", key_id_of(&deactivated_key)),
                &[],
            )
            .await;
        assert_eq!(r.status(), 303, "key deactivated");

        let expired_key = app.create_api_key("Old", "7").await;
        expire_key(app, &key_id_of(&expired_key));

        let b_browser = app.another_browser();
        let b_email = email("b-owner");
        let r = b_browser
            .as_app()
            .signup("Company B", "Bea Other", &b_email)
            .await;
        assert_eq!(r.status(), 303, "company B signs up");
        let (b_owner, company_b) = user_by_email(app, &b_email);
        assert_ne!(company_a, company_b);

        let owner_mt = create_meeting_type(app, &key, &owner, "Owner intro", "owner-intro").await;
        let admin_mt = create_meeting_type(app, &key, &admin, "Admin intro", "admin-intro").await;
        let member_mt =
            create_meeting_type(app, &key, &member, "Member intro", "member-intro").await;

        World {
            company_a,
            owner,
            admin,
            member,
            b_owner,
            key,
            owner_pat,
            admin_pat,
            member_pat,
            expired_pat,
            expired_key,
            revoked_pat,
            deactivated_key,
            owner_mt,
            admin_mt,
            member_mt,
            admin_browser,
            member_browser,
            b_browser,
        }
    }

    pub(crate) fn meeting_type_of(&self, user: &str) -> Option<&str> {
        if user == self.owner {
            Some(&self.owner_mt)
        } else if user == self.admin {
            Some(&self.admin_mt)
        } else if user == self.member {
            Some(&self.member_mt)
        } else {
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The authorization matrix
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Pass(u16),
    Fail(u16, &'static str),
}

const OK: Expect = Expect::Pass(200);
const CREATED: Expect = Expect::Pass(201);
const GONE: Expect = Expect::Pass(204);
const MISSING: Expect = Expect::Fail(401, "missing_authorization");
const INVALID: Expect = Expect::Fail(401, "invalid_credential");
const EXPIRED: Expect = Expect::Fail(401, "credential_expired");
const NO_HEADER: Expect = Expect::Fail(400, "missing_user_header");
const IMPERSONATION: Expect = Expect::Fail(403, "impersonation_forbidden");
const OUTSIDER: Expect = Expect::Fail(403, "user_not_in_company");
const FORBIDDEN: Expect = Expect::Fail(403, "forbidden");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Me,
    ListUsers,
    CreateUser,
    UpdateMember,
    DeleteUser,
    ListMeetingTypes,
    CreateMeetingType,
    GetMeetingType,
    UpdateMeetingType,
    MemberAppointments,
}

/// The columns of the matrix, in this order.
const ENDPOINTS: [Endpoint; 10] = [
    Endpoint::Me,
    Endpoint::ListUsers,
    Endpoint::CreateUser,
    Endpoint::UpdateMember,
    Endpoint::DeleteUser,
    Endpoint::ListMeetingTypes,
    Endpoint::CreateMeetingType,
    Endpoint::GetMeetingType,
    Endpoint::UpdateMeetingType,
    Endpoint::MemberAppointments,
];

struct Principal {
    name: &'static str,
    bearer: Option<String>,
    header: Option<String>,
    /// Whom it acts as on endpoints that need the user header (None: it is refused).
    acts_as: Option<String>,
    /// Whom `GET /v4/user/me` and `POST /v4/user` act as (an API key without header: the owner).
    me: Option<String>,
    row: [Expect; 10],
}

fn principal(
    name: &'static str,
    bearer: Option<&str>,
    header: Option<&str>,
    acts_as: Option<&str>,
    me: Option<&str>,
    row: [Expect; 10],
) -> Principal {
    Principal {
        name,
        bearer: bearer.map(str::to_owned),
        header: header.map(str::to_owned),
        acts_as: acts_as.map(str::to_owned),
        me: me.map(str::to_owned),
        row,
    }
}

#[actix_web::test]
async fn authorization_matrix() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let unknown_pat = tokens::reveal(&tokens::issue_pat()).to_owned();
    let unknown_key = tokens::reveal(&tokens::issue_api_key(&ApiKeyId::new())).to_owned();
    let (owner, admin, member) = (w.owner.as_str(), w.admin.as_str(), w.member.as_str());

    #[rustfmt::skip]
    let table = vec![
        // Columns, as ENDPOINTS: me, list users, create user, patch member, delete user,
        // list meeting types, create one, get one, patch one, the member's appointments.
        principal("no credential", None, None, None, None, [MISSING; 10]),
        principal("malformed", Some("nonsense"), None, None, None, [INVALID; 10]),
        principal("unknown PAT", Some(&unknown_pat), None, None, None, [INVALID; 10]),
        principal("unknown API key", Some(&unknown_key), None, None, None, [INVALID; 10]),
        principal("expired PAT", Some(&w.expired_pat), None, None, None, [EXPIRED; 10]),
        principal("expired API key", Some(&w.expired_key), Some(member), None, None, [EXPIRED; 10]),
        principal("revoked PAT", Some(&w.revoked_pat), None, None, None, [INVALID; 10]),
        principal("deactivated API key", Some(&w.deactivated_key), Some(member), None, None, [INVALID; 10]),
        principal("member PAT", Some(&w.member_pat), None, Some(member), Some(member),
            [OK, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, OK, CREATED, OK, OK, OK]),
        principal("admin PAT", Some(&w.admin_pat), None, Some(admin), Some(admin),
            [OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, CREATED, OK, OK, OK]),
        principal("owner PAT", Some(&w.owner_pat), None, Some(owner), Some(owner),
            [OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, CREATED, OK, OK, OK]),
        principal("member PAT naming the member", Some(&w.member_pat), Some(member), Some(member), Some(member),
            [OK, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, OK, CREATED, OK, OK, OK]),
        principal("admin PAT naming the member", Some(&w.admin_pat), Some(member), None, None, [IMPERSONATION; 10]),
        principal("API key, no header", Some(&w.key), None, None, Some(owner),
            [OK, NO_HEADER, CREATED, NO_HEADER, NO_HEADER, NO_HEADER, NO_HEADER, NO_HEADER, NO_HEADER, NO_HEADER]),
        principal("API key naming the member", Some(&w.key), Some(member), Some(member), Some(member),
            [OK, OK, CREATED, OK, GONE, OK, CREATED, OK, OK, OK]),
        principal("API key naming company B's user", Some(&w.key), Some(&w.b_owner), None, None, [OUTSIDER; 10]),
        principal("API key with a malformed header", Some(&w.key), Some("not-a-user-id"), None, None, [OUTSIDER; 10]),
    ];

    let mut mismatches = Vec::new();
    let mut cells = 0;
    let mut serial = 0;
    for p in &table {
        for (endpoint, expected) in ENDPOINTS.iter().zip(p.row) {
            serial += 1;
            let mut throwaway = None;
            let (method, path, body) = match endpoint {
                Endpoint::Me => (Method::GET, "/v4/user/me".to_owned(), None),
                Endpoint::ListUsers => (Method::GET, "/v4/user".to_owned(), None),
                Endpoint::CreateUser => (
                    Method::POST,
                    "/v4/user".to_owned(),
                    Some(
                        json!({"email": email("matrix"), "givenName": "Matrix", "role": "member"}),
                    ),
                ),
                Endpoint::UpdateMember => (
                    Method::PATCH,
                    format!("/v4/user/{member}"),
                    Some(json!({"givenName": "Mia"})),
                ),
                Endpoint::DeleteUser => {
                    // A fresh user per cell, so a cell that deletes cannot change the next one.
                    let (id, _) = create_user(&app, &w.key, "Throwaway", "member").await;
                    throwaway = Some(id.clone());
                    (Method::DELETE, format!("/v4/user/{id}"), None)
                }
                Endpoint::ListMeetingTypes => (Method::GET, "/v4/meeting-type".to_owned(), None),
                Endpoint::CreateMeetingType => (
                    Method::POST,
                    "/v4/meeting-type".to_owned(),
                    Some(json!({"title": "Matrix call", "slug": format!("matrix-{serial}")})),
                ),
                Endpoint::GetMeetingType | Endpoint::UpdateMeetingType => {
                    let id = p
                        .acts_as
                        .as_deref()
                        .and_then(|u| w.meeting_type_of(u))
                        .map(str::to_owned)
                        .unwrap_or_else(random_id);
                    if *endpoint == Endpoint::GetMeetingType {
                        (Method::GET, format!("/v4/meeting-type/{id}"), None)
                    } else {
                        (
                            Method::PATCH,
                            format!("/v4/meeting-type/{id}"),
                            Some(json!({"title": format!("Renamed {serial}")})),
                        )
                    }
                }
                Endpoint::MemberAppointments => (
                    Method::GET,
                    format!("/v4/appointment/paginated?userId={member}"),
                    None,
                ),
            };
            let r = call(
                &app,
                method.clone(),
                &path,
                p.bearer.as_deref(),
                p.header.as_deref(),
                body.as_ref(),
            )
            .await;
            cells += 1;
            let cell = format!("[{}] {method} {path}", p.name);
            match expected {
                Expect::Pass(status) => {
                    if r.status.as_u16() != status {
                        mismatches.push(format!(
                            "{cell}: expected {status}, got {} {}",
                            r.status, r.body
                        ));
                        continue;
                    }
                    // Who did it act as?
                    let acted = match endpoint {
                        Endpoint::Me => Some((r.body["id"].clone(), p.me.clone())),
                        Endpoint::CreateMeetingType
                        | Endpoint::GetMeetingType
                        | Endpoint::UpdateMeetingType => {
                            Some((r.body["userId"].clone(), p.acts_as.clone()))
                        }
                        Endpoint::UpdateMember => {
                            Some((r.body["id"].clone(), Some(member.to_owned())))
                        }
                        Endpoint::CreateUser => {
                            Some((r.body["companyId"].clone(), Some(w.company_a.clone())))
                        }
                        _ => None,
                    };
                    if let Some((got, want)) = acted {
                        if got.as_str() != want.as_deref() {
                            mismatches.push(format!("{cell}: acted as {got}, expected {want:?}"));
                        }
                    }
                    if *endpoint == Endpoint::DeleteUser {
                        let id = throwaway.as_deref().unwrap_or_default();
                        if user_status(&app, id) != "removed" {
                            mismatches.push(format!("{cell}: 204 but the user is not removed"));
                        }
                    }
                }
                Expect::Fail(status, code) => {
                    if r.status.as_u16() != status
                        || r.code() != code
                        || r.body["statusCode"] != json!(status)
                    {
                        mismatches.push(format!(
                            "{cell}: expected {status} {code}, got {} {}",
                            r.status, r.body
                        ));
                    }
                    if let Some(id) = throwaway.as_deref() {
                        if user_status(&app, id) != "active" {
                            mismatches.push(format!("{cell}: refused, yet the user was removed"));
                        }
                    }
                }
            }
        }
    }
    assert_eq!(cells, table.len() * ENDPOINTS.len(), "every cell called");
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );

    // Reaching other users' appointments: admins within the company only; members never.
    #[rustfmt::skip]
    let reads = [
        ("member PAT reads the owner's appointments", w.member_pat.as_str(), None, owner, FORBIDDEN),
        ("admin PAT reads the owner's appointments", w.admin_pat.as_str(), None, owner, OK),
        ("admin PAT reads company B's user", w.admin_pat.as_str(), None, w.b_owner.as_str(), FORBIDDEN),
        ("owner PAT with a malformed userId", w.owner_pat.as_str(), None, "nope", FORBIDDEN),
        ("API key as member reads company B's user", w.key.as_str(), Some(member), w.b_owner.as_str(), FORBIDDEN),
        ("API key as member reads the owner's", w.key.as_str(), Some(member), owner, OK),
    ];
    for (what, bearer, header, user, expected) in reads {
        let r = get(
            &app,
            &format!("/v4/appointment/paginated?userId={user}"),
            bearer,
            header,
        )
        .await;
        match expected {
            Expect::Pass(s) => assert_eq!(r.status, s, "{what}: {}", r.body),
            Expect::Fail(s, code) => {
                assert_eq!(r.status, s, "{what}: {}", r.body);
                assert_eq!(r.code(), code, "{what}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Exact error bodies
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn error_bodies_are_exact() {
    let app = TestApp::spawn().await;
    let owner_email = email("owner");
    app.signup("Bodies", "Bo Dies", &owner_email).await;
    let (owner, _) = user_by_email(&app, &owner_email);
    let key = app.create_api_key("Production", "30").await;
    let expired = app.create_pat("expired", "30").await;
    expire_pat(&app, &owner, "expired");

    let r = call(&app, Method::GET, "/v4/user/me", None, None, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({"statusCode": 401, "message": "Missing authorization header", "error": "Unauthorized", "code": "missing_authorization"})
    );
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("application/json"));

    let invalid = json!({"statusCode": 401, "message": "Invalid API key", "error": "Unauthorized", "code": "invalid_credential"});
    let mut bad_checksum = tokens::reveal(&tokens::issue_pat()).to_owned();
    bad_checksum.pop();
    bad_checksum.push('!');
    for header in [
        "Bearer nonsense".to_owned(),
        "Bearer".to_owned(),
        "Basic b3duZXI6cGFzcw==".to_owned(),
        format!("Bearer {bad_checksum}"),
        format!("Bearer {}", tokens::reveal(&tokens::issue_pat())),
        format!("Token {key}"),
    ] {
        let r = reqwest::Client::new()
            .get(app.url("/v4/user/me"))
            .header("authorization", &header)
            .send()
            .await
            .expect("call");
        assert_eq!(r.status(), 401, "{header}");
        assert_eq!(r.json::<Value>().await.expect("json"), invalid, "{header}");
    }

    let r = get(&app, "/v4/user/me", &expired, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({"statusCode": 401, "message": "API key has expired", "error": "Unauthorized", "code": "credential_expired"})
    );

    let r = get(&app, "/v4/meeting-type", &key, None).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({
            "statusCode": 400,
            "message": "Missing required header 'x-meetergo-api-user-id' for API key authentication",
            "error": "Bad Request",
            "code": "missing_user_header"
        })
    );
    // An empty header is no header.
    let r = get(&app, "/v4/meeting-type", &key, Some("")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "missing_user_header");

    // Unknown routes under /v4 answer in the same shape.
    let r = get(&app, "/v4/nothing-here", &key, Some(&owner)).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"statusCode": 404, "message": "Not found", "error": "Not Found", "code": "not_found"})
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Rate limit per credential
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn rate_limit_per_credential() {
    let app = TestApp::spawn_with(|s| {
        s.api_rate_limit_per_minute = 5;
        s.api_rate_limit_burst = 5;
    })
    .await;
    app.signup("Busy", "Bu Sy", &email("busy")).await;
    let pat = app.create_pat("hot", "30").await;
    let other = app.create_pat("cold", "30").await;
    let key = app.create_api_key("Production", "30").await;

    for n in 1..=5 {
        let r = get(&app, "/v4/user/me", &pat, None).await;
        assert_eq!(r.status, 200, "call {n} passes");
    }
    let r = get(&app, "/v4/user/me", &pat, None).await;
    assert_eq!(r.status, 429, "the 6th is refused");
    assert_eq!(
        r.body,
        json!({"statusCode": 429, "message": "Too Many Requests", "error": "Too Many Requests", "code": "rate_limited"})
    );
    let retry: u64 = r
        .headers
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");

    // Other credentials of the same company, from the same address, are unaffected.
    for n in 1..=5 {
        let r = get(&app, "/v4/user/me", &other, None).await;
        assert_eq!(r.status, 200, "second PAT call {n}");
    }
    let r = get(&app, "/v4/user/me", &key, None).await;
    assert_eq!(r.status, 200, "API key unaffected");
    // And the limited one stays limited.
    let r = get(&app, "/v4/user/me", &pat, None).await;
    assert_eq!(r.status, 429);
}

// ---------------------------------------------------------------------------------------------
// 4. Listing users
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn list_users_paginates() {
    let app = TestApp::spawn().await;
    let owner_email = email("owner");
    app.signup("Many", "Olga Owner", &owner_email).await;
    let (owner, company) = user_by_email(&app, &owner_email);
    let key = app.create_api_key("Production", "30").await;
    let mut all = BTreeSet::from([owner.clone()]);
    for given in ["Anna", "Ben", "Cleo", "Dan"] {
        all.insert(create_user(&app, &key, given, "member").await.0);
    }
    let (a, k, o) = (&app, key.as_str(), owner.as_str());
    let list =
        move |q: &'static str| async move { get(a, &format!("/v4/user{q}"), k, Some(o)).await };

    let r = list("").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["total"], 5);
    assert_eq!(r.body["count"], 5);
    assert_eq!(r.body["offset"], 0);
    let first = &r.body["users"][0];
    assert_eq!(first["id"], json!(owner), "oldest first");
    assert_eq!(first["email"], json!(owner_email));
    assert_eq!(first["givenName"], "Olga");
    assert_eq!(first["familyName"], "Owner");
    assert_eq!(first["isAdmin"], true);
    assert_eq!(first["userType"], "workspace");
    assert_eq!(first["companyId"], json!(company));
    assert!(first.get("deletedAt").is_some_and(Value::is_null));

    let mut seen = BTreeSet::new();
    for (q, count, offset) in [
        ("?limit=2&offset=0", 2, 0),
        ("?limit=2&offset=2", 2, 2),
        ("?limit=2&offset=4", 1, 4),
    ] {
        let r = list(q).await;
        assert_eq!(r.status, 200, "{q}");
        assert_eq!(r.body["total"], 5, "{q}");
        assert_eq!(r.body["count"], count, "{q}");
        assert_eq!(r.body["offset"], offset, "{q}");
        let users = r.body["users"].as_array().expect("users");
        assert_eq!(users.len(), count, "{q}");
        for u in users {
            assert!(
                seen.insert(u["id"].as_str().expect("id").to_owned()),
                "{q}: no user twice"
            );
        }
    }
    assert_eq!(seen, all, "the pages cover every user once");

    let r = list("?limit=10&offset=50").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (r.body["total"].clone(), r.body["count"].clone()),
        (json!(5), json!(0))
    );
    assert_eq!(r.body["users"], json!([]));

    let r = list("?limit=100").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["count"], 5);

    for (q, fields) in [
        ("?limit=0", vec!["limit"]),
        ("?limit=101", vec!["limit"]),
        ("?offset=-1", vec!["offset"]),
        ("?limit=0&offset=-1", vec!["limit", "offset"]),
    ] {
        let r = list(q).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.code(), "validation_failed", "{q}");
        assert_eq!(r.body["message"], "Validation failed", "{q}");
        let errors = r.body["errors"].as_array().expect("errors[]");
        let got: Vec<&str> = errors
            .iter()
            .map(|e| e["field"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(got, fields, "{q}");
        assert!(errors
            .iter()
            .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())));
    }
    let r = list("?limit=many").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "bad_request");
}

// ---------------------------------------------------------------------------------------------
// 5. Meeting types
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn meeting_types() {
    let app = TestApp::spawn().await;
    let owner_email = email("owner");
    app.signup("Slots", "Olga Owner", &owner_email).await;
    let (owner, _) = user_by_email(&app, &owner_email);
    let pat = app.create_pat("cli", "30").await;
    let key = app.create_api_key("Production", "30").await;
    let (member, _) = create_user(&app, &key, "Mia", "member").await;
    let a = &app;
    let post = move |bearer: String, header: Option<String>, body: Value| async move {
        call(
            a,
            Method::POST,
            "/v4/meeting-type",
            Some(&bearer),
            header.as_deref(),
            Some(&body),
        )
        .await
    };

    let r = post(
        pat.clone(),
        None,
        json!({"title": "Intro Call", "slug": "intro", "duration": 30}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().expect("id").to_owned();
    assert_eq!(r.body["title"], "Intro Call");
    assert_eq!(r.body["slug"], "intro");
    assert_eq!(r.body["duration"], 30);
    assert_eq!(r.body["userId"], json!(owner));
    assert!(r.body["createdAt"].as_str().is_some());

    let r = get(&app, &format!("/v4/meeting-type/{id}"), &pat, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["slug"], "intro");

    // The same slug again, by the same user, whatever the credential: 409.
    for (bearer, header) in [(pat.clone(), None), (key.clone(), Some(owner.clone()))] {
        let r = post(
            bearer,
            header,
            json!({"title": "Intro again", "slug": "intro"}),
        )
        .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.code(), "conflict");
        assert_eq!(r.body["statusCode"], 409);
    }
    // Slugs are per user: the member may use it.
    let r = post(
        key.clone(),
        Some(member.clone()),
        json!({"title": "Intro", "slug": "intro"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let member_mt = r.body["id"].as_str().expect("id").to_owned();

    // Without a slug it is made from the title.
    let r = post(pat.clone(), None, json!({"title": "Deep Dive"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["slug"], "deep-dive");
    assert_eq!(r.body["duration"], 30, "default duration");

    let r = post(
        pat.clone(),
        None,
        json!({"title": "Too short", "duration": 3}),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "duration");

    // Another user's meeting type does not exist for you, by any credential.
    for (bearer, header, mt) in [
        (pat.as_str(), None, member_mt.as_str()),
        (key.as_str(), Some(member.as_str()), id.as_str()),
        (pat.as_str(), None, "not-a-uuid"),
    ] {
        let path = format!("/v4/meeting-type/{mt}");
        let r = get(&app, &path, bearer, header).await;
        assert_eq!(r.status, 404, "GET {path}");
        assert_eq!(r.code(), "not_found");
        let r = call(
            &app,
            Method::PATCH,
            &path,
            Some(bearer),
            header,
            Some(&json!({"title": "Mine now"})),
        )
        .await;
        assert_eq!(r.status, 404, "PATCH {path}");
        assert_eq!(r.code(), "not_found");
    }
    let r = get(
        &app,
        &format!("/v4/meeting-type/{member_mt}"),
        &key,
        Some(&member),
    )
    .await;
    assert_eq!(r.body["title"], "Intro", "the member's stays untouched");

    // PATCH changes only what it names.
    let path = format!("/v4/meeting-type/{id}");
    let r = call(
        &app,
        Method::PATCH,
        &path,
        Some(&pat),
        None,
        Some(&json!({"title": "Intro Call (long)", "duration": 45})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["title"], "Intro Call (long)");
    assert_eq!(r.body["duration"], 45);
    assert_eq!(r.body["slug"], "intro");
    assert_eq!(r.body["id"], json!(id));
    let r = get(&app, &path, &key, Some(&owner)).await;
    assert_eq!(r.body["duration"], 45, "the change is stored");

    // Renaming onto a slug the owner already uses is a conflict too.
    let r = call(
        &app,
        Method::PATCH,
        &path,
        Some(&pat),
        None,
        Some(&json!({"slug": "deep-dive"})),
    )
    .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "conflict");

    let r = get(&app, "/v4/meeting-type", &pat, None).await;
    assert_eq!(r.status, 200);
    let slugs: BTreeSet<&str> = r
        .body
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["slug"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        slugs,
        BTreeSet::from(["intro", "deep-dive"]),
        "only the owner's"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. The credential pages
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn pages_matrix() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let anonymous = client();
    for page in ["/integrations/api", "/admin/api-keys"] {
        let r = anonymous.get(app.url(page)).send().await.expect("GET");
        assert_eq!(r.status(), 303, "anonymous {page}");
        assert_eq!(location(&r), "/login", "anonymous {page}");
    }
    let member = w.member_browser.as_app();
    let admin = w.admin_browser.as_app();
    for (who, view, integrations, api_keys) in
        [("member", &member, 200, 403), ("admin", &admin, 200, 200)]
    {
        let (s, _) = view.get_html("/integrations/api").await;
        assert_eq!(s, integrations, "{who} /integrations/api");
        let (s, _) = view.get_html("/admin/api-keys").await;
        assert_eq!(s, api_keys, "{who} /admin/api-keys");
    }
    let (s, _) = app.get_html("/admin/api-keys").await;
    assert_eq!(s, 200, "owner /admin/api-keys");
    let admins_key = admin.create_api_key("Admin's", "7").await;
    let r = get(&app, "/v4/user/me", &admins_key, None).await;
    assert_eq!(
        r.body["id"],
        json!(w.owner),
        "an admin's key acts for the company"
    );

    // A member cannot create or end API keys, nor end someone else's token.
    let key_id = key_id_of(&w.key);
    let owner_token = pat_id(&app, &w.owner, "owner cli");
    let r = member
        .post_form(
            "/integrations/api",
            "/admin/api-keys",
            &[("name", "Mine"), ("expiry", "30")],
        )
        .await;
    assert_eq!(r.status(), 403, "member creates a key");
    let r = member
        .post_form(
            "/integrations/api",
            &format!("/admin/api-keys/{key_id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 403, "member revokes a key");
    let r = member
        .post_form(
            "/integrations/api",
            &format!("/integrations/api/tokens/{owner_token}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 404, "member revokes the owner's token");

    // An admin of company B reaches nothing of company A.
    let b = w.b_browser.as_app();
    let (s, b_keys) = b.get_html("/admin/api-keys").await;
    assert_eq!(s, 200);
    assert!(!b_keys.contains(&key_id), "B does not see A's keys");
    for action in ["revoke", "deactivate"] {
        let r = b
            .post_form(
                "/admin/api-keys",
                &format!("/admin/api-keys/{key_id}/{action}"),
                &[],
            )
            .await;
        assert_eq!(r.status(), 404, "B {action}s A's key");
    }
    let r = b
        .post_form(
            "/integrations/api",
            &format!("/integrations/api/tokens/{owner_token}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 404, "B revokes A's token");

    // Both still work.
    let r = get(&app, "/v4/user/me", &w.key, Some(&w.owner)).await;
    assert_eq!(r.status, 200, "A's key still works: {}", r.body);
    let r = get(&app, "/v4/user/me", &w.owner_pat, None).await;
    assert_eq!(r.status, 200, "A's token still works: {}", r.body);
    let (_, keys_page) = app.get_html("/admin/api-keys").await;
    assert!(keys_page.contains(&format!("data-key-id=\"{key_id}\" data-status=\"active\"")));
}

// ---------------------------------------------------------------------------------------------
// 7. Shown once, and revocation is immediate
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn pat_shown_once_and_revocation_is_immediate() {
    let app = TestApp::spawn().await;
    let owner_email = email("once");
    app.signup("Once", "On Ce", &owner_email).await;
    let (owner, _) = user_by_email(&app, &owner_email);

    let r = app
        .post_form(
            "/integrations/api",
            "/integrations/api/tokens",
            &[("name", "CI"), ("expiry", "30")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "the page with the secret is not cached"
    );
    let html = r.text().await.expect("body");
    let token = crate::helpers::new_secret_in(&html).expect("shown at creation");
    assert!(token.starts_with("rgo-"));

    for page in ["/integrations/api", "/integrations", "/dashboard"] {
        let (s, html) = app.get_html(page).await;
        assert_eq!(s, 200, "{page}");
        assert!(!html.contains(&token), "{page} shows the token again");
        assert!(
            !html.contains(secret_part(&token)),
            "{page} shows its secret"
        );
    }
    let (_, html) = app.get_html("/integrations/api").await;
    let shown_prefix: String = token.chars().take(10).collect();
    assert!(
        html.contains(&shown_prefix),
        "the list identifies it by prefix"
    );
    assert!(!html.contains("data-testid=\"new-token\""));

    // A second token's page shows only the second token.
    let second = app.create_pat("CD", "30").await;
    assert_ne!(second, token);

    let r = get(&app, "/v4/user/me", &token, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], json!(owner));

    let id = pat_id(&app, &owner, "CI");
    let r = app
        .post_form(
            "/integrations/api",
            &format!("/integrations/api/tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/integrations/api");
    let r = get(&app, "/v4/user/me", &token, None).await;
    assert_eq!(r.status, 401, "revoked means at once");
    assert_eq!(r.code(), "invalid_credential");
    let (_, html) = app.get_html("/integrations/api").await;
    assert!(html.contains(&format!("data-token-id=\"{id}\" data-status=\"revoked\"")));
    let r = get(&app, "/v4/user/me", &second, None).await;
    assert_eq!(r.status, 200, "the other token is untouched");
}

// ---------------------------------------------------------------------------------------------
// 8. Nothing in clear, in the database or the logs
// ---------------------------------------------------------------------------------------------

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
    let owner_email = email("vault");
    app.signup("Vault", "Va Ult", &owner_email).await;
    let (owner, _) = user_by_email(&app, &owner_email);

    let mut secrets = Vec::new();
    for (name, expiry) in [("one", "7"), ("two", "30"), ("three", "none")] {
        secrets.push(app.create_pat(name, expiry).await);
    }
    for (name, days) in [("Production", "30"), ("Staging", "90")] {
        secrets.push(app.create_api_key(name, days).await);
    }
    // Use each (valid, with a wrong header, and a mistyped copy), so every path that sees a
    // credential has run: authentication, last-used, audit, errors.
    for s in &secrets {
        let header = if s.starts_with("ak_live:") {
            Some(owner.as_str())
        } else {
            None
        };
        let r = get(&app, "/v4/user/me", s, header).await;
        assert_eq!(r.status, 200);
        let r = get(&app, "/v4/meeting-type", s, Some("someone-else")).await;
        assert_eq!(r.status, 403);
        let r = get(&app, "/v4/user/me", &format!("{s}x"), None).await;
        assert_eq!(r.status, 401);
    }
    let key = secrets.last().expect("a key").clone();
    create_user(&app, &key, "Newbie", "member").await;
    let (_, page) = app.get_html("/admin/api-keys").await;
    assert!(!secrets.iter().any(|s| page.contains(s.as_str())));

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
        }
        None => eprintln!("another tracing subscriber was installed first: logs not checked"),
    }
}

// ---------------------------------------------------------------------------------------------
// 9. The OpenAPI document
// ---------------------------------------------------------------------------------------------

/// Every operation /v4 serves.
const ROUTES: &[(&str, &str)] = &[
    ("/v4/user/me", "get"),
    ("/v4/user", "get"),
    ("/v4/user", "post"),
    ("/v4/user/{id}", "patch"),
    ("/v4/user/{id}", "delete"),
    ("/v4/meeting-type", "get"),
    ("/v4/meeting-type", "post"),
    ("/v4/meeting-type/{id}", "get"),
    ("/v4/meeting-type/{id}", "patch"),
    ("/v4/meeting-type/{id}", "delete"),
    ("/v4/appointment/paginated", "get"),
];

#[actix_web::test]
async fn openapi_document_lists_every_route() {
    let app = TestApp::spawn().await;
    let r = app.get("/v4/openapi.json").await;
    assert_eq!(r.status(), 200, "served without a credential");
    let doc: Value = serde_json::from_str(&r.text().await.expect("body")).expect("JSON");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if [
                "get", "post", "put", "patch", "delete", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                documented.insert((path.clone(), method.clone()));
            }
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
        .collect();
    assert_eq!(documented, expected);

    let schemes = &doc["components"]["securitySchemes"];
    for name in ["personal_access_token", "platform_api_key"] {
        assert_eq!(schemes[name]["type"], "http", "{name}");
        assert_eq!(schemes[name]["scheme"], "bearer", "{name}");
    }
    let error_body = &doc["components"]["schemas"]["ErrorBody"];
    for field in ["statusCode", "message", "error", "code", "errors"] {
        assert!(
            error_body["properties"].get(field).is_some(),
            "ErrorBody.{field}"
        );
    }
    // Every operation declares what it can refuse, with the error body.
    for (path, method) in ROUTES {
        let responses = &doc["paths"][path][method]["responses"];
        for status in ["400", "401", "403", "429", "503"] {
            assert_eq!(
                responses[status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path} declares {status}"
            );
        }
    }
    for (path, method) in [
        ("/v4/user/{id}", "patch"),
        ("/v4/user/{id}", "delete"),
        ("/v4/meeting-type/{id}", "get"),
        ("/v4/meeting-type/{id}", "patch"),
        ("/v4/meeting-type/{id}", "delete"),
        ("/v4/appointment/paginated", "get"),
    ] {
        assert!(
            doc["paths"][path][method]["responses"].get("404").is_some(),
            "{method} {path} declares 404"
        );
    }
    // The constraints the validation applies are in the schemas.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["MeetingTypeInput"]["required"], json!(["title"]));
    assert_eq!(
        schemas["MeetingTypeInput"]["properties"]["title"]["maxLength"],
        120
    );
    assert_eq!(
        schemas["MeetingTypeInput"]["properties"]["slug"]["pattern"],
        "^[a-z0-9]+(-[a-z0-9]+)*$"
    );
    assert_eq!(
        schemas["MeetingTypeChanges"]["properties"]["duration"]["maximum"],
        720
    );
    for name in [
        "CreateUserBody",
        "UpdateUserBody",
        "DeleteUserBody",
        "MeetingTypeInput",
    ] {
        assert_eq!(
            schemas[name]["additionalProperties"],
            json!(false),
            "{name}"
        );
    }
    let zones = schemas["CreateUserBody"]["properties"]["timezone"]["enum"]
        .as_array()
        .expect("time zones");
    assert!(zones.contains(&json!("Europe/Berlin")) && zones.len() > 300);
    // User lifecycle is documented as API-key only.
    for (path, method) in [("/v4/user", "post"), ("/v4/user/{id}", "delete")] {
        assert_eq!(
            doc["paths"][path][method]["security"],
            json!([{"platform_api_key": []}]),
            "{method} {path}"
        );
    }

    // Each documented operation is served (it asks for a credential) ...
    for (path, method) in ROUTES {
        let concrete = path.replace("{id}", &random_id());
        let m: Method = method.to_uppercase().parse().expect("method");
        let r = call(&app, m, &concrete, None, None, Some(&json!({}))).await;
        assert_eq!(r.status, 401, "{method} {path} is served");
        assert_eq!(r.code(), "missing_authorization", "{method} {path}");
    }
    // ... and nothing else is: another method on a known path is 405, an unknown path 404.
    for (path, method) in [
        ("/v4/user", Method::DELETE),
        ("/v4/meeting-type", Method::PUT),
        ("/v4/appointment/paginated", Method::POST),
    ] {
        let concrete = path.replace("{id}", &random_id());
        let r = call(&app, method.clone(), &concrete, None, None, None).await;
        assert_eq!(r.status, 405, "{method} {path} is not served");
        assert_eq!(r.code(), "method_not_allowed");
    }
    let r = call(&app, Method::GET, "/v4/appointment", None, None, None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found");
}
