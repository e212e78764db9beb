//! Team administration: the /settings routes by role, role rules and the ownership transfer,
//! invitations, the joining rule, offboarding (and its rollback), "sign out everywhere", the
//! audit log, the members list, and one browser flow through all of it.

use std::sync::OnceLock;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use meetergo_console::auth::password::hash_now;
use meetergo_console::db::models::{
    now, Appointment, AuditEvent, Company, Invitation, MeetingType, User,
};
use meetergo_console::db::schema::{
    appointments, audit_events, companies, invitations, meeting_types, personal_access_tokens,
    sessions, users,
};
use meetergo_console::db::PooledConnection;
use meetergo_console::domain::{AppointmentId, Role};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{backend, client, csrf_in, email, location, new_secret_in, TestApp, PASSWORD};

// ---------------------------------------------------------------------------------------------
// A browser without a browser: one cookie jar on the app
// ---------------------------------------------------------------------------------------------

/// One person's cookie jar on the app.
struct Agent<'a> {
    app: &'a TestApp,
    client: Client,
}

/// A response read to the end.
#[derive(Debug)]
struct Reply {
    status: u16,
    location: String,
    content_type: String,
    body: String,
}

async fn read(r: Response) -> Reply {
    let status = r.status().as_u16();
    let location = location(&r);
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = r.text().await.expect("body");
    Reply {
        status,
        location,
        content_type,
        body,
    }
}

impl<'a> Agent<'a> {
    /// A new, empty cookie jar.
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: client(),
        }
    }

    /// The app's own cookie jar (a clone of `app.client` shares it).
    fn of_app(app: &'a TestApp) -> Self {
        Self {
            app,
            client: app.client.clone(),
        }
    }

    async fn get(&self, path: &str) -> Reply {
        read(
            self.client
                .get(self.app.url(path))
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    /// A CSRF token for this jar: from the dashboard when signed in, else from the login page.
    async fn csrf(&self) -> String {
        for page in ["/dashboard", "/login"] {
            if let Some(token) = csrf_in(&self.get(page).await.body) {
                return token;
            }
        }
        panic!("no CSRF token on /dashboard or /login")
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        read(
            self.client
                .post(self.app.url(path))
                .form(&all)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    async fn login(&self, address: &str) {
        let r = self
            .post("/login", &[("email", address), ("password", PASSWORD)])
            .await;
        assert_eq!(r.status, 303, "{address} signs in: {}", r.body);
        assert_eq!(r.location, "/dashboard");
    }

    async fn signup(&self, company: &str, name: &str, address: &str) -> Reply {
        self.post(
            "/signup",
            &[
                ("company_name", company),
                ("name", name),
                ("email", address),
                ("password", PASSWORD),
            ],
        )
        .await
    }

    /// True on the dashboard, false when sent to /login; anything else fails.
    async fn is_signed_in(&self) -> bool {
        let r = self.get("/dashboard").await;
        match r.status {
            200 => true,
            303 => {
                assert_eq!(r.location, "/login", "signed out → /login");
                false
            }
            other => panic!("GET /dashboard answered {other}"),
        }
    }

    async fn create_pat(&self, name: &str) -> String {
        let r = self
            .post(
                "/integrations/api/tokens",
                &[("name", name), ("expiry", "30")],
            )
            .await;
        assert_eq!(r.status, 200, "creating PAT {name}");
        new_secret_in(&r.body).expect("new token shown")
    }

    async fn create_api_key(&self, name: &str) -> String {
        let r = self
            .post("/admin/api-keys", &[("name", name), ("expiry", "30")])
            .await;
        assert_eq!(r.status, 200, "creating API key {name}");
        new_secret_in(&r.body).expect("new key shown")
    }

    /// Invites `address` through the members page; returns the link shown on the page.
    async fn invite(&self, address: &str, role: &str) -> String {
        let r = self
            .post(
                "/settings/members/invite",
                &[("email", address), ("role", role)],
            )
            .await;
        assert_eq!(r.status, 200, "inviting {address}: {}", r.body);
        invite_link_in(&r.body).expect("invitation link shown")
    }
}

// ---------------------------------------------------------------------------------------------
// Pages, links and mail
// ---------------------------------------------------------------------------------------------

/// The text of the element with this `data-testid`, up to the next tag.
fn testid_text(html: &str, id: &str) -> Option<String> {
    let marker = format!("data-testid=\"{id}\">");
    let start = html.find(&marker)? + marker.len();
    let rest = html.get(start..)?;
    Some(rest.get(..rest.find('<')?)?.trim().to_owned())
}

fn invite_link_in(html: &str) -> Option<String> {
    testid_text(html, "invite-link")
}

/// `/invite/<token>` of a full link (the configured public URL has no port in tests).
fn link_path(link: &str) -> String {
    let at = link.find("/invite/").expect("an /invite/ link");
    link.get(at..).expect("path").to_owned()
}

fn token_of(link: &str) -> String {
    link_path(link)
        .strip_prefix("/invite/")
        .expect("token")
        .to_owned()
}

/// The `<tr>` of the members table for this email.
fn member_row<'h>(html: &'h str, address: &str) -> Option<&'h str> {
    let start = html.find(&format!(
        "data-testid=\"member-row\" data-email=\"{address}\""
    ))?;
    let rest = html.get(start..)?;
    rest.get(..rest.find("</tr>")?)
}

fn member_rows(html: &str) -> usize {
    html.matches("data-testid=\"member-row\"").count()
}

/// The role options a members-page row offers (empty: no role control).
fn role_choices(row: &str) -> Vec<String> {
    row.split("<option value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(str::to_owned))
        .collect()
}

/// The .eml files written for `address`, oldest first.
fn mails_to(app: &TestApp, address: &str) -> Vec<String> {
    let dir = app.data_dir.join("mail");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| std::fs::read_to_string(p).expect("read mail"))
        .filter(|m| m.contains(address))
        .collect()
}

/// Undoes the page's HTML escaping (askama writes `&#60;`-style entities).
fn unescape(s: &str) -> String {
    [
        ("&#60;", "<"),
        ("&lt;", "<"),
        ("&#62;", ">"),
        ("&gt;", ">"),
        ("&#34;", "\""),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&#x27;", "'"),
        ("&#38;", "&"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(s.to_owned(), |acc, (from, to)| acc.replace(from, to))
}

// ---------------------------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------------------------

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: &str,
    user_header: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .request(method, app.url(path))
        .bearer_auth(bearer);
    if let Some(h) = user_header {
        req = req.header("x-meetergo-api-user-id", h);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("api call");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn api_me(app: &TestApp, bearer: &str) -> StatusCode {
    call(app, Method::GET, "/v4/user/me", bearer, None, None)
        .await
        .0
}

/// Creates a user of the key's company through `POST /v4/user`; returns its id.
async fn api_user(app: &TestApp, key: &str, name: &str, address: &str, role: &str) -> String {
    let (status, body) = call(
        app,
        Method::POST,
        "/v4/user",
        key,
        None,
        Some(json!({"email": address, "givenName": name, "role": role})),
    )
    .await;
    assert_eq!(status, 201, "creating {role} {address}: {body}");
    body["userId"].as_str().expect("userId").to_owned()
}

/// Creates a meeting type as the bearer's user (a PAT, or a key with `user_header`).
async fn meeting_type(
    app: &TestApp,
    bearer: &str,
    user_header: Option<&str>,
    title: &str,
    slug: &str,
) -> String {
    let (status, body) = call(
        app,
        Method::POST,
        "/v4/meeting-type",
        bearer,
        user_header,
        Some(json!({"title": title, "slug": slug, "duration": 30})),
    )
    .await;
    assert_eq!(status, 201, "creating meeting type {slug}: {body}");
    body["id"].as_str().expect("id").to_owned()
}

// ---------------------------------------------------------------------------------------------
// The database, read and written directly
// ---------------------------------------------------------------------------------------------

fn db(app: &TestApp) -> PooledConnection {
    app.db.conn().expect("db connection")
}

fn user(app: &TestApp, id: &str) -> User {
    users::table
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(&mut *db(app))
        .expect("user by id")
}

fn user_by_email(app: &TestApp, address: &str) -> Option<User> {
    users::table
        .filter(users::email.eq(address.to_lowercase()))
        .select(User::as_select())
        .first(&mut *db(app))
        .optional()
        .expect("user by email")
}

fn role_of(app: &TestApp, id: &str) -> String {
    user(app, id).role.to_string()
}

fn status_of(app: &TestApp, id: &str) -> String {
    user(app, id).status.to_string()
}

/// (id, role, status) of every user, by id.
fn all_roles(app: &TestApp) -> Vec<(String, String, String)> {
    users::table
        .order(users::id.asc())
        .select((users::id, users::role, users::status))
        .load(&mut *db(app))
        .expect("users")
}

fn count_users(app: &TestApp) -> i64 {
    users::table
        .count()
        .get_result(&mut *db(app))
        .expect("count users")
}

fn count_companies(app: &TestApp) -> i64 {
    companies::table
        .count()
        .get_result(&mut *db(app))
        .expect("count companies")
}

fn company(app: &TestApp, id: &str) -> Company {
    companies::table
        .filter(companies::id.eq(id))
        .select(Company::as_select())
        .first(&mut *db(app))
        .expect("company")
}

fn session_count(app: &TestApp, user_id: &str) -> i64 {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .count()
        .get_result(&mut *db(app))
        .expect("count sessions")
}

/// The company's audit events of this kind, oldest first.
fn events(app: &TestApp, company_id: &str, kind: &str) -> Vec<AuditEvent> {
    audit_events::table
        .filter(audit_events::company_id.eq(company_id))
        .filter(audit_events::kind.eq(kind))
        .order(audit_events::created_at.asc())
        .select(AuditEvent::as_select())
        .load(&mut *db(app))
        .expect("audit events")
}

/// Events of this kind whose target mentions `needle`.
fn events_about(app: &TestApp, company_id: &str, kind: &str, needle: &str) -> usize {
    events(app, company_id, kind)
        .iter()
        .filter(|e| e.target.as_deref().unwrap_or_default().contains(needle))
        .count()
}

/// The newest invitation for this email, if any.
fn invitation(app: &TestApp, address: &str) -> Option<Invitation> {
    invitations::table
        .filter(invitations::email.eq(address.to_lowercase()))
        .order(invitations::created_at.desc())
        .select(Invitation::as_select())
        .first(&mut *db(app))
        .optional()
        .expect("invitation by email")
}

fn expire_invitation(app: &TestApp, id: &str) {
    let n = diesel::update(invitations::table.filter(invitations::id.eq(id)))
        .set(invitations::expires_at.eq(now() - chrono::Duration::hours(1)))
        .execute(&mut *db(app))
        .expect("expire invitation");
    assert_eq!(n, 1);
}

/// Users created through the API have no password; give them one so they can sign in.
fn set_password(app: &TestApp, id: &str) {
    static HASH: OnceLock<String> = OnceLock::new();
    let hash = HASH.get_or_init(|| hash_now(PASSWORD).expect("hash"));
    let n = diesel::update(users::table.filter(users::id.eq(id)))
        .set(users::password_hash.eq(Some(hash.clone())))
        .execute(&mut *db(app))
        .expect("set password");
    assert_eq!(n, 1);
}

fn set_status(app: &TestApp, id: &str, status: &str) {
    let n = diesel::update(users::table.filter(users::id.eq(id)))
        .set(users::status.eq(status))
        .execute(&mut *db(app))
        .expect("set status");
    assert_eq!(n, 1);
}

/// An appointment `hours` from now (negative: in the past), hosted by `host`.
fn appointment(
    app: &TestApp,
    meeting_type: &str,
    host: &str,
    hours: i64,
    attendee: &str,
) -> String {
    let starts_at = now() + chrono::Duration::hours(hours);
    let a = Appointment {
        id: AppointmentId::new(),
        meeting_type_id: meeting_type.parse().expect("meeting type id"),
        host_id: host.parse().expect("host id"),
        starts_at,
        ends_at: starts_at + chrono::Duration::minutes(30),
        attendee_name: attendee.to_owned(),
        attendee_email: format!(
            "{}@attendees.example.com",
            attendee.to_lowercase().replace(' ', ".")
        ),
        created_at: now(),
    };
    a.insert(&mut db(app)).expect("insert appointment");
    a.id.to_string()
}

fn meeting_type_row(app: &TestApp, id: &str) -> MeetingType {
    meeting_types::table
        .filter(meeting_types::id.eq(id))
        .select(MeetingType::as_select())
        .first(&mut *db(app))
        .expect("meeting type")
}

fn host_of(app: &TestApp, appointment: &str) -> String {
    appointments::table
        .filter(appointments::id.eq(appointment))
        .select(appointments::host_id)
        .first(&mut *db(app))
        .expect("appointment host")
}

/// Everything offboarding touches, to compare before and after.
#[derive(Debug, PartialEq, Eq)]
struct Footprint {
    meeting_types: Vec<(String, String, String)>,
    appointments: Vec<(String, String)>,
    tokens: Vec<(String, bool)>,
    session_users: Vec<Option<String>>,
    invitations: Vec<(String, bool, bool)>,
    users: Vec<(String, String, String)>,
    offboarded_events: i64,
}

fn footprint(app: &TestApp) -> Footprint {
    let mut c = db(app);
    let mut session_users: Vec<Option<String>> = sessions::table
        .filter(sessions::user_id.is_not_null())
        .select(sessions::user_id)
        .load(&mut *c)
        .expect("sessions");
    session_users.sort();
    let tokens: Vec<(String, Option<chrono::NaiveDateTime>)> = personal_access_tokens::table
        .order(personal_access_tokens::id.asc())
        .select((
            personal_access_tokens::id,
            personal_access_tokens::revoked_at,
        ))
        .load(&mut *c)
        .expect("tokens");
    type InvitationState = (
        String,
        Option<chrono::NaiveDateTime>,
        Option<chrono::NaiveDateTime>,
    );
    let invitation_rows: Vec<InvitationState> = invitations::table
        .order(invitations::id.asc())
        .select((
            invitations::id,
            invitations::revoked_at,
            invitations::accepted_at,
        ))
        .load(&mut *c)
        .expect("invitations");
    Footprint {
        meeting_types: meeting_types::table
            .order(meeting_types::id.asc())
            .select((
                meeting_types::id,
                meeting_types::owner_id,
                meeting_types::slug,
            ))
            .load(&mut *c)
            .expect("meeting types"),
        appointments: appointments::table
            .order(appointments::id.asc())
            .select((appointments::id, appointments::host_id))
            .load(&mut *c)
            .expect("appointments"),
        tokens: tokens
            .into_iter()
            .map(|(id, revoked)| (id, revoked.is_some()))
            .collect(),
        session_users,
        invitations: invitation_rows
            .into_iter()
            .map(|(id, r, a)| (id, r.is_some(), a.is_some()))
            .collect(),
        users: users::table
            .order(users::id.asc())
            .select((users::id, users::role, users::status))
            .load(&mut *c)
            .expect("users"),
        offboarded_events: audit_events::table
            .filter(audit_events::kind.eq("member.offboarded"))
            .count()
            .get_result(&mut *c)
            .expect("count events"),
    }
}

// ---------------------------------------------------------------------------------------------
// Two companies: A (owner, admin, member, an API key) and B (with an admin, the outsider)
// ---------------------------------------------------------------------------------------------

struct Person<'a> {
    id: String,
    email: String,
    agent: Agent<'a>,
}

/// A user of the key's company, created through the API, with a password, signed in.
async fn person<'a>(app: &'a TestApp, key: &str, name: &str, role: &str) -> Person<'a> {
    let address = email(&name.to_lowercase());
    let id = api_user(app, key, name, &address, role).await;
    set_password(app, &id);
    let agent = Agent::new(app);
    agent.login(&address).await;
    Person {
        id,
        email: address,
        agent,
    }
}

struct World<'a> {
    app: &'a TestApp,
    company: String,
    other_company: String,
    key: String,
    owner: Person<'a>,
    admin: Person<'a>,
    member: Person<'a>,
    /// An admin of company B.
    outsider: Person<'a>,
    anonymous: Agent<'a>,
}

const COMPANY_A: &str = "Alpha Team";
const COMPANY_B: &str = "Beta Crew";

impl<'a> World<'a> {
    async fn build(app: &'a TestApp) -> World<'a> {
        let owner_email = email("olga");
        let owner_agent = Agent::of_app(app);
        let r = owner_agent
            .signup(COMPANY_A, "Olga Owner", &owner_email)
            .await;
        assert_eq!(r.status, 303, "company A signs up");
        let owner_user = user_by_email(app, &owner_email).expect("owner stored");
        let key = owner_agent.create_api_key("Team key").await;
        let owner = Person {
            id: owner_user.id.to_string(),
            email: owner_email,
            agent: owner_agent,
        };
        let admin = person(app, &key, "Ada", "admin").await;
        let member = person(app, &key, "Mia", "member").await;

        let b_owner = Agent::new(app);
        let r = b_owner.signup(COMPANY_B, "Bob Beta", &email("bob")).await;
        assert_eq!(r.status, 303, "company B signs up");
        let b_key = b_owner.create_api_key("B key").await;
        let outsider = person(app, &b_key, "Otto", "admin").await;
        let other_company = user(app, &outsider.id).company_id.to_string();
        let company = owner_user.company_id.to_string();
        assert_ne!(company, other_company);
        World {
            app,
            company,
            other_company,
            key,
            owner,
            admin,
            member,
            outsider,
            anonymous: Agent::new(app),
        }
    }

    fn agent(&self, actor: Actor) -> &Agent<'a> {
        match actor {
            Actor::Anonymous => &self.anonymous,
            Actor::Member => &self.member.agent,
            Actor::Admin => &self.admin.agent,
            Actor::Owner => &self.owner.agent,
            Actor::Outsider => &self.outsider.agent,
        }
    }

    /// A user of company A created through the API (no password); returns (id, email).
    async fn fresh(&self, name: &str, role: &str) -> (String, String) {
        let address = email(&name.to_lowercase());
        let id = api_user(self.app, &self.key, name, &address, role).await;
        (id, address)
    }

    /// A user of company A, signed in from their own cookie jar.
    async fn fresh_signed_in(&self, name: &str, role: &str) -> Person<'a> {
        person(self.app, &self.key, name, role).await
    }

    /// An invitation the owner sent; returns (invitation id, email, link).
    async fn invitation(&self, name: &str) -> (String, String, String) {
        let address = email(name);
        let link = self.owner.agent.invite(&address, "member").await;
        let id = invitation(self.app, &address)
            .expect("invitation stored")
            .id
            .to_string();
        (id, address, link)
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Every /settings route × every role
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Anonymous,
    Member,
    Admin,
    Owner,
    /// An admin of another company, using this company's ids.
    Outsider,
}

const ACTORS: [Actor; 5] = [
    Actor::Anonymous,
    Actor::Member,
    Actor::Admin,
    Actor::Owner,
    Actor::Outsider,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// 303 to /login.
    Login,
    Status(u16),
    /// 303 to this path.
    Redirect(&'static str),
}

#[derive(Debug, Clone, Copy)]
enum Route {
    Index,
    Members,
    /// A member made admin.
    RoleMemberToAdmin,
    /// An admin made member.
    RoleAdminToMember,
    /// A member set to member (the one change an admin may make).
    RoleMemberToMember,
    SignOut,
    Invite,
    Resend,
    Revoke,
    Company,
    SaveCompany,
    OffboardPreview,
    Offboard,
    Audit,
    AuditCsv,
    TransferOwnership,
}

const LOGIN: Want = Want::Login;
const OK: Want = Want::Status(200);
const FORBIDDEN: Want = Want::Status(403);
const NOT_FOUND: Want = Want::Status(404);
const TO_MEMBERS: Want = Want::Redirect("/settings/members");
const TO_COMPANY: Want = Want::Redirect("/settings/company");

/// Columns: anonymous, member, admin, owner, admin of another company.
/// The ownership transfer is last: the owner's cell hands the company over.
#[rustfmt::skip]
const MATRIX: [(Route, [Want; 5]); 16] = [
    (Route::Index,              [LOGIN, TO_MEMBERS, TO_MEMBERS, TO_MEMBERS, TO_MEMBERS]),
    (Route::Members,            [LOGIN, FORBIDDEN,  OK,         OK,         OK]),
    (Route::RoleMemberToAdmin,  [LOGIN, FORBIDDEN,  FORBIDDEN,  TO_MEMBERS, NOT_FOUND]),
    (Route::RoleAdminToMember,  [LOGIN, FORBIDDEN,  FORBIDDEN,  TO_MEMBERS, NOT_FOUND]),
    (Route::RoleMemberToMember, [LOGIN, FORBIDDEN,  TO_MEMBERS, TO_MEMBERS, NOT_FOUND]),
    (Route::SignOut,            [LOGIN, FORBIDDEN,  TO_MEMBERS, TO_MEMBERS, NOT_FOUND]),
    (Route::Invite,             [LOGIN, FORBIDDEN,  OK,         OK,         OK]),
    (Route::Resend,             [LOGIN, FORBIDDEN,  OK,         OK,         NOT_FOUND]),
    (Route::Revoke,             [LOGIN, FORBIDDEN,  TO_MEMBERS, TO_MEMBERS, NOT_FOUND]),
    (Route::Company,            [LOGIN, FORBIDDEN,  OK,         OK,         OK]),
    (Route::SaveCompany,        [LOGIN, FORBIDDEN,  TO_COMPANY, TO_COMPANY, TO_COMPANY]),
    (Route::OffboardPreview,    [LOGIN, FORBIDDEN,  OK,         OK,         NOT_FOUND]),
    (Route::Offboard,           [LOGIN, FORBIDDEN,  TO_MEMBERS, TO_MEMBERS, NOT_FOUND]),
    (Route::Audit,              [LOGIN, FORBIDDEN,  OK,         OK,         OK]),
    (Route::AuditCsv,           [LOGIN, FORBIDDEN,  OK,         OK,         OK]),
    (Route::TransferOwnership,  [LOGIN, FORBIDDEN,  FORBIDDEN,  TO_COMPANY, NOT_FOUND]),
];

fn assert_reply(what: &str, want: Want, r: &Reply) {
    match want {
        Want::Login => {
            assert_eq!(
                (r.status, r.location.as_str()),
                (303, "/login"),
                "{what}: {}",
                r.body
            )
        }
        Want::Status(s) => assert_eq!(r.status, s, "{what}: {}", r.body),
        Want::Redirect(to) => {
            assert_eq!(
                (r.status, r.location.as_str()),
                (303, to),
                "{what}: {}",
                r.body
            )
        }
    }
}

const CSV_HEADER: &str = "time,actor,credential,kind,target,detail,ip,user_agent";

/// One cell: prepares its own targets, makes the request, and checks the effect (or that
/// nothing changed).
async fn matrix_cell(w: &World<'_>, route: Route, actor: Actor, want: Want) {
    let app = w.app;
    let who = w.agent(actor);
    let what = format!("{route:?} by {actor:?}");
    let granted = matches!(want, Want::Status(200) | Want::Redirect(_));
    // The action took effect in company A (an outsider's success happens in company B).
    let here = granted && actor != Actor::Outsider;
    let outsider = actor == Actor::Outsider;
    match route {
        Route::Index => {
            let r = who.get("/settings").await;
            assert_reply(&what, want, &r);
        }
        Route::Members => {
            let r = who.get("/settings/members").await;
            assert_reply(&what, want, &r);
            assert_eq!(
                r.body.contains(&w.member.email),
                here,
                "{what}: lists A's member"
            );
            assert_eq!(
                r.body.contains(&w.outsider.email),
                outsider,
                "{what}: lists B's admin"
            );
        }
        Route::RoleMemberToAdmin | Route::RoleAdminToMember | Route::RoleMemberToMember => {
            let (from, to) = match route {
                Route::RoleMemberToAdmin => ("member", "admin"),
                Route::RoleAdminToMember => ("admin", "member"),
                _ => ("member", "member"),
            };
            let (target, address) = w.fresh("Target", from).await;
            let r = who
                .post(&format!("/settings/members/{target}/role"), &[("role", to)])
                .await;
            assert_reply(&what, want, &r);
            let changed = here && from != to;
            assert_eq!(
                role_of(app, &target),
                if here { to } else { from },
                "{what}: the target's role"
            );
            assert_eq!(
                events_about(app, &w.company, "role.changed", &address),
                usize::from(changed),
                "{what}: role.changed events"
            );
        }
        Route::SignOut => {
            let target = w.fresh_signed_in("Signed", "member").await;
            assert_eq!(session_count(app, &target.id), 1);
            let r = who
                .post(&format!("/settings/members/{}/sign-out", target.id), &[])
                .await;
            assert_reply(&what, want, &r);
            assert_eq!(
                session_count(app, &target.id),
                if here { 0 } else { 1 },
                "{what}: the target's sessions"
            );
            assert_eq!(
                target.agent.is_signed_in().await,
                !here,
                "{what}: target's browser"
            );
            assert_eq!(
                events_about(app, &w.company, "sessions.ended", &target.email),
                usize::from(here),
                "{what}: sessions.ended events"
            );
        }
        Route::Invite => {
            let address = email("invitee");
            let r = who
                .post(
                    "/settings/members/invite",
                    &[("email", address.as_str()), ("role", "member")],
                )
                .await;
            assert_reply(&what, want, &r);
            let stored = invitation(app, &address);
            assert_eq!(stored.is_some(), granted, "{what}: invitation stored");
            assert_eq!(
                invite_link_in(&r.body).is_some(),
                granted,
                "{what}: link shown"
            );
            if let Some(i) = stored {
                let expected = if outsider {
                    &w.other_company
                } else {
                    &w.company
                };
                assert_eq!(i.company_id.as_str(), expected, "{what}: invited into");
            }
        }
        Route::Resend => {
            let (id, address, link) = w.invitation("resent").await;
            let before = invitation(app, &address).expect("invitation").token_hash;
            let r = who
                .post(&format!("/settings/invitations/{id}/resend"), &[])
                .await;
            assert_reply(&what, want, &r);
            let after = invitation(app, &address).expect("invitation").token_hash;
            assert_eq!(before != after, here, "{what}: a new secret");
            let old = Agent::new(app).get(&link_path(&link)).await;
            assert_eq!(old.status, if here { 404 } else { 200 }, "{what}: old link");
            if here {
                let new = invite_link_in(&r.body).expect("new link shown");
                assert_ne!(new, link);
                assert_eq!(Agent::new(app).get(&link_path(&new)).await.status, 200);
            }
        }
        Route::Revoke => {
            let (id, address, link) = w.invitation("revoked").await;
            let r = who
                .post(&format!("/settings/invitations/{id}/revoke"), &[])
                .await;
            assert_reply(&what, want, &r);
            let i = invitation(app, &address).expect("invitation");
            assert_eq!(i.revoked_at.is_some(), here, "{what}: revoked");
            let opened = Agent::new(app).get(&link_path(&link)).await;
            assert_eq!(opened.status, if here { 410 } else { 200 }, "{what}: link");
        }
        Route::Company => {
            let r = who.get("/settings/company").await;
            assert_reply(&what, want, &r);
            let a_name = company(app, &w.company).name;
            let b_name = company(app, &w.other_company).name;
            assert_eq!(r.body.contains(&a_name), here, "{what}: shows A's settings");
            assert_eq!(
                r.body.contains(&b_name),
                outsider,
                "{what}: shows B's settings"
            );
        }
        Route::SaveCompany => {
            let before_a = company(app, &w.company);
            let before_b = company(app, &w.other_company);
            let name = format!("Renamed by {actor:?}");
            let r = who
                .post(
                    "/settings/company",
                    &[("name", name.as_str()), ("allowed_domains", "")],
                )
                .await;
            assert_reply(&what, want, &r);
            let after_a = company(app, &w.company);
            let after_b = company(app, &w.other_company);
            assert_eq!(
                after_a.name,
                if here { name.clone() } else { before_a.name },
                "{what}: A's name"
            );
            assert_eq!(
                after_b.name,
                if outsider { name } else { before_b.name },
                "{what}: B's name"
            );
            assert!(!after_a.require_invitation && after_a.allowed_domains.is_empty());
        }
        Route::OffboardPreview => {
            let (leaver, address) = w.fresh("Previewed", "member").await;
            let r = who
                .get(&format!("/settings/members/{leaver}/offboard"))
                .await;
            assert_reply(&what, want, &r);
            assert_eq!(r.body.contains(&address), here, "{what}: names the leaver");
            assert_eq!(
                status_of(app, &leaver),
                "active",
                "{what}: a preview changes nothing"
            );
        }
        Route::Offboard => {
            let (leaver, address) = w.fresh("Leaver", "member").await;
            let r = who
                .post(
                    &format!("/settings/members/{leaver}/offboard"),
                    &[("transfer_to", w.owner.id.as_str())],
                )
                .await;
            assert_reply(&what, want, &r);
            assert_eq!(
                status_of(app, &leaver),
                if here { "removed" } else { "active" },
                "{what}: leaver's status"
            );
            assert_eq!(
                events_about(app, &w.company, "member.offboarded", &address),
                usize::from(here),
                "{what}: member.offboarded events"
            );
        }
        Route::Audit => {
            let r = who.get("/settings/audit").await;
            assert_reply(&what, want, &r);
            assert_eq!(r.body.contains(&w.member.email), here, "{what}: A's events");
            assert_eq!(
                r.body.contains(&w.outsider.email),
                outsider,
                "{what}: B's events"
            );
            assert_eq!(r.body.contains("data-testid=\"audit-table\""), granted);
        }
        Route::AuditCsv => {
            let r = who.get("/settings/audit.csv").await;
            assert_reply(&what, want, &r);
            assert_eq!(
                r.content_type.starts_with("text/csv"),
                granted,
                "{what}: {}",
                r.content_type
            );
            assert_eq!(
                r.body.starts_with(CSV_HEADER),
                granted,
                "{what}: CSV header"
            );
            assert_eq!(r.body.contains(&w.member.email), here, "{what}: A's events");
            assert_eq!(
                r.body.contains(&w.outsider.email),
                outsider,
                "{what}: B's events"
            );
        }
        Route::TransferOwnership => {
            let (target, _) = w.fresh("Heir", "admin").await;
            let before = all_roles(app);
            let r = who
                .post(
                    "/settings/company/transfer-ownership",
                    &[("user_id", target.as_str()), ("password", PASSWORD)],
                )
                .await;
            assert_reply(&what, want, &r);
            if here {
                assert_eq!(role_of(app, &target), "owner", "{what}: the new owner");
                assert_eq!(role_of(app, &w.owner.id), "admin", "{what}: the old owner");
                assert_eq!(events(app, &w.company, "ownership.transferred").len(), 1);
            } else {
                assert_eq!(all_roles(app), before, "{what}: no role changed");
            }
        }
    }
}

#[actix_web::test]
async fn settings_routes_by_role_matrix() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    for (route, wants) in MATRIX {
        for (actor, want) in ACTORS.into_iter().zip(wants) {
            matrix_cell(&w, route, actor, want).await;
        }
    }
    // The people the cells acted as are untouched: still there, still signed in.
    for p in [&w.member, &w.admin, &w.outsider] {
        assert_eq!(status_of(&app, &p.id), "active");
        assert!(p.agent.is_signed_in().await, "{} still signed in", p.email);
    }
    assert_eq!(role_of(&app, &w.member.id), "member");
    assert_eq!(role_of(&app, &w.outsider.id), "admin");
}

// ---------------------------------------------------------------------------------------------
// 2. Role rules and the ownership transfer
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn role_changes_follow_the_hierarchy() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (other_admin, other_admin_email) = w.fresh("Abe", "admin").await;
    let (member2, _) = w.fresh("Max", "member").await;
    let (admin, member, owner) = (&w.admin, &w.member, &w.owner);

    // What the members page offers agrees with the rules.
    let admins_view = admin.agent.get("/settings/members").await.body;
    let row = |html: &str, e: &str| member_row(html, e).expect("member row").to_owned();
    assert_eq!(role_choices(&row(&admins_view, &member.email)), ["member"]);
    assert!(role_choices(&row(&admins_view, &other_admin_email)).is_empty());
    assert!(role_choices(&row(&admins_view, &owner.email)).is_empty());
    assert!(
        role_choices(&row(&admins_view, &admin.email)).is_empty(),
        "not oneself"
    );
    let owners_view = owner.agent.get("/settings/members").await.body;
    assert_eq!(
        role_choices(&row(&owners_view, &member.email)),
        ["member", "admin"]
    );
    assert_eq!(
        role_choices(&row(&owners_view, &other_admin_email)),
        ["member", "admin"]
    );
    assert!(role_choices(&row(&owners_view, &owner.email)).is_empty());

    // (who, target, new role, expected status, the target's role afterwards)
    let cases: [(&Agent, &str, &str, u16, &str); 14] = [
        (&admin.agent, &member.id, "member", 303, "member"),
        (&admin.agent, &member.id, "admin", 403, "member"),
        (&admin.agent, &other_admin, "member", 403, "admin"),
        (&admin.agent, &other_admin, "admin", 403, "admin"),
        (&admin.agent, &owner.id, "member", 403, "owner"),
        (&admin.agent, &owner.id, "admin", 403, "owner"),
        (&admin.agent, &admin.id, "member", 403, "admin"),
        (&member.agent, &member2, "admin", 403, "member"),
        (&member.agent, &member.id, "admin", 403, "member"),
        (&owner.agent, &member.id, "admin", 303, "admin"),
        (&owner.agent, &other_admin, "member", 303, "member"),
        (&owner.agent, &owner.id, "admin", 403, "owner"),
        (&owner.agent, &admin.id, "owner", 403, "admin"),
        (&owner.agent, &member2, "superuser", 400, "member"),
    ];
    for (i, (who, target, to, status, after)) in cases.into_iter().enumerate() {
        let before = all_roles(&app);
        let r = who
            .post(&format!("/settings/members/{target}/role"), &[("role", to)])
            .await;
        assert_eq!(r.status, status, "case {i}: {target} → {to}: {}", r.body);
        if status == 303 {
            assert_eq!(r.location, "/settings/members");
            let page = who.get(&r.location).await.body;
            assert!(page.contains(&format!("is now {to}.")), "case {i}: flash");
        }
        assert_eq!(role_of(&app, target), after, "case {i}: {target} → {to}");
        if status != 303 {
            assert_eq!(all_roles(&app), before, "case {i}: nothing changed");
        }
    }
    // The member is an admin now: the owner takes it back.
    let r = owner
        .agent
        .post(
            &format!("/settings/members/{}/role", member.id),
            &[("role", "member")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(role_of(&app, &member.id), "member");
    assert_eq!(
        role_of(&app, &owner.id),
        "owner",
        "nobody demoted the owner"
    );

    // Three real changes, each in the audit log by the owner; refusals and no-ops left none.
    let changes = events(&app, &w.company, "role.changed");
    let details: Vec<&str> = changes
        .iter()
        .map(|e| e.detail.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(
        details,
        ["member → admin", "admin → member", "admin → member"]
    );
    assert!(changes
        .iter()
        .all(|e| e.actor_id.as_deref() == Some(owner.id.as_str())));
}

async fn transfer(agent: &Agent<'_>, to: &str, password: &str) -> Reply {
    agent
        .post(
            "/settings/company/transfer-ownership",
            &[("user_id", to), ("password", password)],
        )
        .await
}

#[actix_web::test]
async fn ownership_transfer_needs_the_owner_their_password_and_an_active_admin() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let heir = w.fresh_signed_in("Hugo", "admin").await;
    let (inactive, inactive_email) = w.fresh("Ivy", "admin").await;
    set_status(&app, &inactive, "deactivated");
    // The owner's page offers the active admins, and only them.
    let page = w.owner.agent.get("/settings/company").await.body;
    assert!(page.contains("data-testid=\"transfer-form\""));
    for (id, offered) in [
        (&heir.id, true),
        (&w.admin.id, true),
        (&w.member.id, false),
        (&inactive, false),
        (&w.owner.id, false),
    ] {
        assert_eq!(
            page.contains(&format!("<option value=\"{id}\">")),
            offered,
            "{id} offered"
        );
    }
    assert!(!page.contains(&inactive_email));
    let admins_page = w.admin.agent.get("/settings/company").await.body;
    assert!(
        !admins_page.contains("data-testid=\"transfer-form\""),
        "only the owner sees it"
    );

    let before = all_roles(&app);
    // (who, to, password, status, message on the page)
    let refused: [(&Agent, &str, &str, u16, Option<&str>); 7] = [
        (&w.admin.agent, &heir.id, PASSWORD, 403, None),
        (&w.member.agent, &heir.id, PASSWORD, 403, None),
        (&w.owner.agent, &w.member.id, PASSWORD, 403, None),
        (&w.owner.agent, &inactive, PASSWORD, 403, None),
        (&w.owner.agent, &w.owner.id, PASSWORD, 403, None),
        (
            &w.owner.agent,
            &heir.id,
            "not the owner's password",
            422,
            Some("That is not your password."),
        ),
        (
            &w.owner.agent,
            "",
            PASSWORD,
            422,
            Some("Choose the admin who becomes the owner."),
        ),
    ];
    for (i, (who, to, password, status, message)) in refused.into_iter().enumerate() {
        let r = transfer(who, to, password).await;
        assert_eq!(r.status, status, "case {i}: {}", r.body);
        if let Some(m) = message {
            assert!(r.body.contains(m), "case {i}: says {m:?}");
        }
        assert_eq!(all_roles(&app), before, "case {i}: nothing changed");
        assert!(events(&app, &w.company, "ownership.transferred").is_empty());
    }

    let r = transfer(&w.owner.agent, &heir.id, PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/settings/company");
    assert_eq!(role_of(&app, &heir.id), "owner");
    assert_eq!(role_of(&app, &w.owner.id), "admin");
    let owners: Vec<_> = all_roles(&app)
        .into_iter()
        .filter(|(_, role, _)| role == "owner")
        .collect();
    assert_eq!(owners.len(), 2, "one owner in each company");
    let transferred = events(&app, &w.company, "ownership.transferred");
    assert_eq!(transferred.len(), 1);
    assert_eq!(
        transferred[0].actor_id.as_deref(),
        Some(w.owner.id.as_str())
    );
    assert!(transferred[0]
        .target
        .as_deref()
        .unwrap_or_default()
        .contains(&heir.email));
    let dashboard = heir.agent.get("/dashboard").await.body;
    assert!(dashboard.contains("data-testid=\"dashboard-role\">owner<"));

    // The old owner is an admin now: no transfer form, and no transfer.
    let page = w.owner.agent.get("/settings/company").await.body;
    assert!(!page.contains("data-testid=\"transfer-form\""));
    let after = all_roles(&app);
    let r = transfer(&w.owner.agent, &w.admin.id, PASSWORD).await;
    assert_eq!(r.status, 403);
    assert_eq!(all_roles(&app), after);
}

// ---------------------------------------------------------------------------------------------
// 3. Invitations
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn invitations_are_mailed_single_use_links_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let mut tokens_seen = Vec::new();

    // Invite: the page shows the link, and the mail folder holds it too.
    let invitee = email("ines");
    let link = w.owner.agent.invite(&invitee, "admin").await;
    tokens_seen.push(token_of(&link));
    let mails = mails_to(&app, &invitee);
    assert_eq!(mails.len(), 1, "one mail to {invitee}");
    assert!(
        mails[0].contains(&link),
        "the mail carries the link:\n{}",
        mails[0]
    );
    assert!(mails[0].contains(&format!("To: {invitee}")), "{}", mails[0]);
    assert!(mails[0].contains(COMPANY_A));

    // The link opens a form with the email fixed.
    let guest = Agent::new(&app);
    let form = guest.get(&link_path(&link)).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains(&format!(
        "value=\"{invitee}\" readonly data-testid=\"accept-email\""
    )));
    assert!(
        !form.body.contains("name=\"email\""),
        "no editable email field"
    );
    assert!(form.body.contains(&format!("Join {COMPANY_A}")));
    assert!(form.body.contains("<strong>admin</strong>"));

    // Accepting (a posted email is ignored) joins company A as admin and signs in.
    let smuggled = email("smuggled");
    let r = guest
        .post(
            &link_path(&link),
            &[
                ("name", "Ines Invited"),
                ("password", PASSWORD),
                ("email", smuggled.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard");
    assert!(user_by_email(&app, &smuggled).is_none());
    let joined = user_by_email(&app, &invitee).expect("the invited account");
    assert_eq!(joined.company_id.as_str(), w.company);
    assert_eq!(joined.role, Role::Admin);
    assert_eq!(joined.name, "Ines Invited");
    let dashboard = guest.get("/dashboard").await;
    assert_eq!(dashboard.status, 200, "signed in");
    assert!(dashboard
        .body
        .contains("data-testid=\"dashboard-role\">admin<"));
    assert!(dashboard.body.contains(&format!("Welcome to {COMPANY_A}!")));
    assert_eq!(
        events_about(&app, &w.company, "invitation.accepted", &invitee),
        1
    );
    assert!(invitation(&app, &invitee)
        .expect("invitation")
        .accepted_at
        .is_some());

    // A second use: 410 "already been used", for opening and for posting.
    let users_before = count_users(&app);
    let again = Agent::new(&app);
    let r = again.get(&link_path(&link)).await;
    assert_eq!(r.status, 410);
    assert!(r.body.contains("already been used"), "{}", r.body);
    let r = again
        .post(
            &link_path(&link),
            &[("name", "Second"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 410);
    assert!(r.body.contains("already been used"));
    assert!(!again.is_signed_in().await);
    assert_eq!(count_users(&app), users_before);

    // Revoked: 410.
    let (id, revoked_email, revoked_link) = w.invitation("rita").await;
    tokens_seen.push(token_of(&revoked_link));
    let r = w
        .owner
        .agent
        .post(&format!("/settings/invitations/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status, 303);
    let r = again.get(&link_path(&revoked_link)).await;
    assert_eq!(r.status, 410);
    assert!(r.body.contains("withdrawn"), "{}", r.body);
    let r = again
        .post(
            &link_path(&revoked_link),
            &[("name", "Rita"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 410);
    assert!(user_by_email(&app, &revoked_email).is_none());

    // Expired: 410.
    let (id, expired_email, expired_link) = w.invitation("ezra").await;
    tokens_seen.push(token_of(&expired_link));
    expire_invitation(&app, &id);
    let r = again.get(&link_path(&expired_link)).await;
    assert_eq!(r.status, 410);
    assert!(r.body.contains("expired"), "{}", r.body);
    let r = again
        .post(
            &link_path(&expired_link),
            &[("name", "Ezra"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 410);
    assert!(user_by_email(&app, &expired_email).is_none());

    // Unknown: 404.
    let r = again.get("/invite/NoSuchTokenAtAll0123456789abcdef").await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("not valid"), "{}", r.body);
    let r = again
        .post(
            "/invite/NoSuchTokenAtAll0123456789abcdef",
            &[("name", "Nobody"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 404);

    // Resend: a new link by mail; the old one stops working.
    let (id, resent_email, old_link) = w.invitation("rene").await;
    tokens_seen.push(token_of(&old_link));
    let r = w
        .owner
        .agent
        .post(&format!("/settings/invitations/{id}/resend"), &[])
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("The previous link no longer works."));
    let new_link = invite_link_in(&r.body).expect("new link shown");
    tokens_seen.push(token_of(&new_link));
    assert_ne!(new_link, old_link);
    let mails = mails_to(&app, &resent_email);
    assert_eq!(mails.len(), 2, "a second mail");
    assert!(mails[1].contains(&new_link));
    assert!(!mails[1].contains(&old_link));
    assert_eq!(again.get(&link_path(&old_link)).await.status, 404);
    let r = again
        .post(
            &link_path(&old_link),
            &[("name", "René"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 404);
    assert!(user_by_email(&app, &resent_email).is_none());
    assert_eq!(again.get(&link_path(&new_link)).await.status, 200);
    let r = again
        .post(
            &link_path(&new_link),
            &[("name", "René"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        user_by_email(&app, &resent_email).expect("joined").role,
        Role::Member
    );

    // The database holds hashes only: no link secret appears anywhere in the table.
    let mut c = db(&app);
    type Row = (String, String, String, String, String, String);
    let rows: Vec<Row> = invitations::table
        .select((
            invitations::id,
            invitations::company_id,
            invitations::email,
            invitations::role,
            invitations::token_hash,
            invitations::invited_by,
        ))
        .load(&mut *c)
        .expect("invitations");
    assert_eq!(rows.len(), 4);
    for token in &tokens_seen {
        assert_eq!(token.len(), 32, "a full token: {token}");
        for row in &rows {
            let text = format!("{row:?}");
            assert!(
                !text.contains(token.as_str()),
                "token {token} stored: {text}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Require Invitation and the joining rule
// ---------------------------------------------------------------------------------------------

fn random_domain(prefix: &str) -> String {
    format!(
        "{prefix}{}.example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

async fn save_company(agent: &Agent<'_>, name: &str, require: bool, domains: &str) -> Reply {
    let mut fields = vec![("name", name), ("allowed_domains", domains)];
    if require {
        fields.push(("require_invitation", "on"));
    }
    agent.post("/settings/company", &fields).await
}

#[actix_web::test]
async fn require_invitation_and_the_domain_joining_rule() {
    let app = TestApp::spawn().await;
    let domain = random_domain("x");
    let owner_email = format!("olga@{domain}");
    let owner = Agent::of_app(&app);
    assert_eq!(
        owner.signup("Domain Co", "Olga", &owner_email).await.status,
        303
    );
    let company_id = user_by_email(&app, &owner_email)
        .expect("owner")
        .company_id
        .to_string();
    // The owner claims their domain, Require Invitation off.
    let r = save_company(&owner, "Domain Co", false, &domain).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let c = company(&app, &company_id);
    assert_eq!(c.allowed_domains, domain);
    assert!(!c.require_invitation);
    assert_eq!(events(&app, &company_id, "settings.changed").len(), 1);

    // Off: a sign-up with the domain joins the company as a member, no workspace of its own.
    let companies_before = count_companies(&app);
    let joiner = Agent::new(&app);
    let joiner_email = format!("jo@{domain}");
    let r = joiner.signup("Jo's Own Co", "Jo", &joiner_email).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard");
    let jo = user_by_email(&app, &joiner_email).expect("joined");
    assert_eq!(jo.company_id.as_str(), company_id);
    assert_eq!(jo.role, Role::Member);
    assert_eq!(count_companies(&app), companies_before);
    assert!(joiner
        .get("/dashboard")
        .await
        .body
        .contains("data-testid=\"dashboard-role\">member<"));

    // On: refused with the reason, and nothing is created.
    let r = save_company(&owner, "Domain Co", true, &domain).await;
    assert_eq!(r.status, 303);
    assert!(company(&app, &company_id).require_invitation);
    let (users_before, companies_before) = (count_users(&app), count_companies(&app));
    let refused = Agent::new(&app);
    let refused_email = format!("rex@{domain}");
    let r = refused.signup("Rex Co", "Rex", &refused_email).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("requires an invitation"), "{}", r.body);
    assert!(user_by_email(&app, &refused_email).is_none());
    assert_eq!(count_users(&app), users_before);
    assert_eq!(count_companies(&app), companies_before);
    assert!(!refused.is_signed_in().await);
    // Other domains are not affected.
    let free = Agent::new(&app);
    assert_eq!(
        free.signup("Free Co", "Fred", &email("fred")).await.status,
        303
    );
    assert_eq!(count_companies(&app), companies_before + 1);

    // With a valid invitation the invited email joins even now, with the invited role.
    let invited_email = format!("ida@{domain}");
    let link = owner.invite(&invited_email, "admin").await;
    let invited = Agent::new(&app);
    let r = invited
        .post(
            &link_path(&link),
            &[("name", "Ida"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let ida = user_by_email(&app, &invited_email).expect("ida joined");
    assert_eq!(ida.company_id.as_str(), company_id);
    assert_eq!(ida.role, Role::Admin);

    // Used, revoked or expired invitations let nobody in.
    let users_before = count_users(&app);
    let r = Agent::new(&app)
        .post(
            &link_path(&link),
            &[("name", "Ida 2"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 410, "used");
    let revoked_email = format!("rob@{domain}");
    let revoked_link = owner.invite(&revoked_email, "member").await;
    let revoked_id = invitation(&app, &revoked_email)
        .expect("inv")
        .id
        .to_string();
    assert_eq!(
        owner
            .post(&format!("/settings/invitations/{revoked_id}/revoke"), &[])
            .await
            .status,
        303
    );
    let expired_email = format!("eve@{domain}");
    let expired_link = owner.invite(&expired_email, "member").await;
    expire_invitation(
        &app,
        invitation(&app, &expired_email).expect("inv").id.as_str(),
    );
    for (address, link) in [
        (&revoked_email, &revoked_link),
        (&expired_email, &expired_link),
    ] {
        let outsider = Agent::new(&app);
        let r = outsider
            .post(
                &link_path(link),
                &[("name", "Nope"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status, 410, "{address} by link");
        let r = outsider.signup("Nope Co", "Nope", address).await;
        assert_eq!(r.status, 422, "{address} by sign-up");
        assert!(r.body.contains("requires an invitation"));
        assert!(user_by_email(&app, address).is_none());
        assert!(!outsider.is_signed_in().await);
    }
    assert_eq!(count_users(&app), users_before);

    // An admin may add only the domain of their own email.
    let key = owner.create_api_key("Domains").await;
    let own_domain = random_domain("y");
    let admin_email = format!("ada@{own_domain}");
    let admin_id = api_user(&app, &key, "Ada", &admin_email, "admin").await;
    set_password(&app, &admin_id);
    let admin = Agent::new(&app);
    admin.login(&admin_email).await;
    let foreign = random_domain("z");
    let before = company(&app, &company_id);
    for attempt in [
        format!("{domain}\n{foreign}"),
        format!("{domain}\n{foreign}\n{own_domain}"),
    ] {
        let r = admin
            .post(
                "/settings/company",
                &[
                    ("name", "Domain Co"),
                    ("require_invitation", "on"),
                    ("allowed_domains", attempt.as_str()),
                ],
            )
            .await;
        assert_eq!(r.status, 422, "{attempt:?}");
        assert!(
            r.body
                .contains("You can only add the domain of your own email address"),
            "{}",
            r.body
        );
        let after = company(&app, &company_id);
        assert_eq!(
            (after.allowed_domains, after.require_invitation),
            (before.allowed_domains.clone(), true)
        );
    }
    // The owner is held to the same rule.
    let r = save_company(&owner, "Domain Co", true, &format!("{domain}\n{foreign}")).await;
    assert_eq!(r.status, 422);
    assert_eq!(company(&app, &company_id).allowed_domains, domain);
    // Their own domain is accepted, and keeps the domains already there.
    let r = admin
        .post(
            "/settings/company",
            &[
                ("name", "Domain Co"),
                ("require_invitation", "on"),
                (
                    "allowed_domains",
                    format!("{domain}\n@{own_domain}").as_str(),
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        company(&app, &company_id).domains(),
        [domain.as_str(), own_domain.as_str()]
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Offboarding
// ---------------------------------------------------------------------------------------------

/// A leaver with everything offboarding touches: two meeting types (one slug the owner also
/// uses), future and past appointments, two PATs, two browser sessions, and (as an admin) a
/// pending invitation they sent.
struct Leaver<'a> {
    person: Person<'a>,
    second_browser: Agent<'a>,
    pats: [String; 2],
    intro: String,
    demo: String,
    owners_intro: String,
    future: [String; 2],
    past: String,
    invitee: String,
    invite_link: String,
}

async fn leaver<'a>(w: &World<'a>) -> Leaver<'a> {
    let app = w.app;
    let person = w.fresh_signed_in("Leo", "member").await;
    let r = w
        .owner
        .agent
        .post(
            &format!("/settings/members/{}/role", person.id),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(r.status, 303, "the leaver becomes an admin");
    let second_browser = Agent::new(app);
    second_browser.login(&person.email).await;
    let pats = [
        person.agent.create_pat("laptop cli").await,
        person.agent.create_pat("ci runner").await,
    ];
    // Without the default meeting type the API gave them: the leaver has exactly these two.
    let api = reqwest::Client::new();
    let listed: serde_json::Value = api
        .get(app.url("/v4/meeting-type"))
        .bearer_auth(&pats[0])
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    for mt in listed.as_array().expect("list") {
        let id = mt["id"].as_str().expect("id");
        let r = api
            .delete(app.url(&format!("/v4/meeting-type/{id}")))
            .bearer_auth(&pats[0])
            .send()
            .await
            .expect("delete");
        assert_eq!(r.status(), 200);
    }
    let intro = meeting_type(app, &pats[0], None, "Intro call", "intro").await;
    let demo = meeting_type(app, &pats[0], None, "Product demo", "demo").await;
    let owners_intro = meeting_type(app, &w.key, Some(&w.owner.id), "Owner intro", "intro").await;
    let future = [
        appointment(app, &intro, &person.id, 48, "Future Fiona"),
        appointment(app, &demo, &person.id, 72, "Demo Dora"),
    ];
    let past = appointment(app, &intro, &person.id, -48, "Past Paul");
    let invitee = email("invitee");
    let invite_link = person.agent.invite(&invitee, "member").await;
    assert_eq!(session_count(app, &person.id), 2, "two browser sessions");
    Leaver {
        person,
        second_browser,
        pats,
        intro,
        demo,
        owners_intro,
        future,
        past,
        invitee,
        invite_link,
    }
}

#[actix_web::test]
async fn offboarding_moves_the_work_and_cuts_every_access() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let l = leaver(&w).await;
    let leaver_id = l.person.id.clone();

    // The preview lists everything that will happen, and flags the slug collision.
    let preview = w
        .owner
        .agent
        .get(&format!("/settings/members/{leaver_id}/offboard"))
        .await;
    assert_eq!(preview.status, 200);
    let html = &preview.body;
    for shown in [
        "Intro call",
        "Product demo",
        "Future Fiona",
        "Demo Dora",
        "laptop cli",
        "ci runner",
        l.invitee.as_str(),
        l.person.email.as_str(),
    ] {
        assert!(html.contains(shown), "preview shows {shown:?}");
    }
    assert!(
        !html.contains("Past Paul"),
        "past appointments are not moved"
    );
    assert_eq!(
        html.matches("data-testid=\"planned-meeting-type\"").count(),
        2
    );
    assert_eq!(html.matches("data-testid=\"slug-renamed\"").count(), 1);
    assert!(html.contains("becomes <code>/intro-2</code>"));
    assert_eq!(
        testid_text(html, "preview-sessions").as_deref(),
        Some("2 active sessions.")
    );
    // Nothing happened yet.
    assert_eq!(status_of(&app, &leaver_id), "active");
    assert_eq!(api_me(&app, &l.pats[0]).await, 200);

    let r = w
        .owner
        .agent
        .post(
            &format!("/settings/members/{leaver_id}/offboard"),
            &[("transfer_to", w.owner.id.as_str())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/settings/members");
    let members = w.owner.agent.get("/settings/members").await.body;
    assert!(members.contains(
        "was offboarded: 2 meeting types and 2 upcoming appointments moved, 2 tokens revoked, 2 sessions ended."
    ), "flash");
    let row = member_row(&members, &l.person.email).expect("still listed");
    assert!(row.contains("data-status=\"removed\""));
    assert!(!row.contains("member-offboard") && !row.contains("member-sign-out"));

    // Meeting types moved to the owner, the colliding slug with a suffix.
    let intro = meeting_type_row(&app, &l.intro);
    let demo = meeting_type_row(&app, &l.demo);
    assert_eq!(intro.owner_id.as_str(), w.owner.id);
    assert_eq!(intro.slug, "intro-2");
    assert_eq!(demo.owner_id.as_str(), w.owner.id);
    assert_eq!(demo.slug, "demo");
    assert_eq!(meeting_type_row(&app, &l.owners_intro).slug, "intro");
    // Only future appointments moved.
    for a in &l.future {
        assert_eq!(host_of(&app, a), w.owner.id, "future appointment moved");
    }
    assert_eq!(host_of(&app, &l.past), leaver_id, "past appointment stays");
    // Tokens dead, sessions ended, invitation withdrawn, status removed.
    for pat in &l.pats {
        assert_eq!(api_me(&app, pat).await, 401);
    }
    assert_eq!(session_count(&app, &leaver_id), 0);
    assert!(!l.person.agent.is_signed_in().await);
    assert!(!l.second_browser.is_signed_in().await);
    assert!(invitation(&app, &l.invitee)
        .expect("invitation")
        .revoked_at
        .is_some());
    assert_eq!(
        Agent::new(&app)
            .get(&link_path(&l.invite_link))
            .await
            .status,
        410
    );
    assert_eq!(status_of(&app, &leaver_id), "removed");
    // They cannot sign in again.
    let r = Agent::new(&app)
        .post(
            "/login",
            &[("email", l.person.email.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 401);
    // One audit event.
    let offboarded = events(&app, &w.company, "member.offboarded");
    assert_eq!(offboarded.len(), 1);
    assert_eq!(offboarded[0].actor_id.as_deref(), Some(w.owner.id.as_str()));
    assert!(offboarded[0]
        .target
        .as_deref()
        .unwrap_or_default()
        .contains(&l.person.email));
    assert!(offboarded[0]
        .detail
        .as_deref()
        .unwrap_or_default()
        .contains("2 meeting types (1 renamed), 2 appointments, 2 tokens revoked, 2 sessions ended, 1 invitations revoked"));

    // Offboarding again is a conflict, and changes nothing.
    let before = footprint(&app);
    let r = w
        .owner
        .agent
        .post(
            &format!("/settings/members/{leaver_id}/offboard"),
            &[("transfer_to", w.owner.id.as_str())],
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(footprint(&app), before);

    // Nobody offboards the owner, and nobody offboards themself.
    let other_admin = w.fresh_signed_in("Alex", "admin").await;
    let before = footprint(&app);
    for (who, target) in [
        (&w.admin.agent, &w.owner.id),
        (&w.owner.agent, &w.owner.id),
        (&w.admin.agent, &w.admin.id),
        (&other_admin.agent, &other_admin.id),
    ] {
        let r = who
            .get(&format!("/settings/members/{target}/offboard"))
            .await;
        assert_eq!(r.status, 403, "preview of {target}");
        let r = who
            .post(
                &format!("/settings/members/{target}/offboard"),
                &[("transfer_to", w.member.id.as_str())],
            )
            .await;
        assert_eq!(r.status, 403, "offboarding {target}");
        assert_eq!(footprint(&app), before);
    }
    assert!(w.admin.agent.is_signed_in().await);
    assert!(w.owner.agent.is_signed_in().await);
}

// ---------------------------------------------------------------------------------------------
// 6. A failure half way leaves everything as it was
// ---------------------------------------------------------------------------------------------

fn install_failing_trigger(app: &TestApp) {
    let sql = match backend() {
        "postgres" => {
            "CREATE FUNCTION fail_offboard() RETURNS trigger LANGUAGE plpgsql AS $$ \
               BEGIN RAISE EXCEPTION 'injected failure'; END; $$; \
             CREATE TRIGGER fail_offboard BEFORE UPDATE OF status ON users \
               FOR EACH ROW WHEN (NEW.status = 'removed') EXECUTE FUNCTION fail_offboard();"
        }
        _ => {
            "CREATE TRIGGER fail_offboard BEFORE UPDATE OF status ON users \
               WHEN NEW.status = 'removed' \
               BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        }
    };
    db(app).batch_execute(sql).expect("install trigger");
}

fn drop_failing_trigger(app: &TestApp) {
    let sql = match backend() {
        "postgres" => "DROP TRIGGER fail_offboard ON users; DROP FUNCTION fail_offboard();",
        _ => "DROP TRIGGER fail_offboard;",
    };
    db(app).batch_execute(sql).expect("drop trigger");
}

/// Everything the leaver had still works.
async fn assert_leaver_untouched(app: &TestApp, l: &Leaver<'_>) {
    let id = &l.person.id;
    assert_eq!(status_of(app, id), "active");
    assert_eq!(meeting_type_row(app, &l.intro).owner_id.as_str(), id);
    assert_eq!(meeting_type_row(app, &l.intro).slug, "intro");
    assert_eq!(meeting_type_row(app, &l.demo).owner_id.as_str(), id);
    for a in l.future.iter().chain([&l.past]) {
        assert_eq!(&host_of(app, a), id);
    }
    for pat in &l.pats {
        assert_eq!(api_me(app, pat).await, 200, "the token still works");
    }
    assert_eq!(session_count(app, id), 2);
    assert!(l.person.agent.is_signed_in().await);
    assert!(l.second_browser.is_signed_in().await);
    let i = invitation(app, &l.invitee).expect("invitation");
    assert!(i.revoked_at.is_none() && i.accepted_at.is_none());
    assert_eq!(
        Agent::new(app).get(&link_path(&l.invite_link)).await.status,
        200,
        "the invitation is still pending"
    );
}

#[actix_web::test]
async fn offboarding_rolls_back_entirely_when_it_fails_half_way() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let l = leaver(&w).await;
    let path = format!("/settings/members/{}/offboard", l.person.id);

    // The last step (status → removed) fails: an error page, and nothing changed.
    install_failing_trigger(&app);
    let before = footprint(&app);
    let r = w
        .owner
        .agent
        .post(&path, &[("transfer_to", w.owner.id.as_str())])
        .await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(r.body.contains("Something went wrong"));
    assert!(
        !r.body.contains("injected failure"),
        "no internals on the page"
    );
    assert_eq!(footprint(&app), before);
    assert_leaver_untouched(&app, &l).await;
    drop_failing_trigger(&app);

    // The receiver is removed between the preview and the confirmation: 409, nothing changed.
    let (receiver, _) = w.fresh("Rachel", "member").await;
    let preview = w
        .owner
        .agent
        .get(&format!("{path}?transfer_to={receiver}"))
        .await;
    assert_eq!(preview.status, 200);
    assert!(preview
        .body
        .contains(&format!("<option value=\"{receiver}\" selected>")));
    let r = w
        .owner
        .agent
        .post(
            &format!("/settings/members/{receiver}/offboard"),
            &[("transfer_to", w.owner.id.as_str())],
        )
        .await;
    assert_eq!(r.status, 303, "the receiver leaves first");
    let before = footprint(&app);
    let r = w
        .owner
        .agent
        .post(&path, &[("transfer_to", receiver.as_str())])
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("not an active member"), "{}", r.body);
    assert_eq!(footprint(&app), before);
    assert_leaver_untouched(&app, &l).await;

    // With the cause gone it goes through.
    let r = w
        .owner
        .agent
        .post(&path, &[("transfer_to", w.owner.id.as_str())])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(status_of(&app, &l.person.id), "removed");
    assert_eq!(events(&app, &w.company, "member.offboarded").len(), 2);
}

// ---------------------------------------------------------------------------------------------
// 7. Sign out everywhere
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn sign_out_everywhere_ends_every_session_of_the_member() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let second = Agent::new(&app);
    second.login(&w.member.email).await;
    assert!(w.member.agent.is_signed_in().await);
    assert!(second.is_signed_in().await);
    assert_eq!(session_count(&app, &w.member.id), 2);

    let r = w
        .admin
        .agent
        .post(&format!("/settings/members/{}/sign-out", w.member.id), &[])
        .await;
    assert_eq!(r.status, 303);
    let page = w.admin.agent.get(&r.location).await.body;
    assert!(
        page.contains("Mia was signed out everywhere (2 sessions)."),
        "flash"
    );

    for browser in [&w.member.agent, &second] {
        let r = browser.get("/integrations/api").await;
        assert_eq!((r.status, r.location.as_str()), (303, "/login"));
    }
    assert_eq!(session_count(&app, &w.member.id), 0);
    let ended = events(&app, &w.company, "sessions.ended");
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].actor_id.as_deref(), Some(w.admin.id.as_str()));
    assert!(ended[0]
        .target
        .as_deref()
        .unwrap_or_default()
        .contains(&w.member.email));
    assert_eq!(ended[0].detail.as_deref(), Some("2 sessions"));
    // Others stay signed in; the member is not locked out.
    assert!(w.admin.agent.is_signed_in().await);
    assert!(w.owner.agent.is_signed_in().await);
    assert_eq!(status_of(&app, &w.member.id), "active");
    w.member.agent.login(&w.member.email).await;
    assert!(w.member.agent.is_signed_in().await);
}

// ---------------------------------------------------------------------------------------------
// 8. The audit log
// ---------------------------------------------------------------------------------------------

/// The cells of the audit table rows: time, actor, kind, target, detail, via, ip, user agent.
fn audit_rows(html: &str) -> Vec<Vec<String>> {
    html.split("<tr data-testid=\"audit-row\"")
        .skip(1)
        .map(|chunk| {
            let row = chunk
                .get(..chunk.find("</tr>").expect("row end"))
                .expect("row");
            let mut cells = Vec::new();
            let mut rest = row;
            while let Some(at) = rest.find("<td") {
                let cell = rest.get(at..).expect("cell");
                let open = cell.find('>').expect("td open") + 1;
                let close = cell.find("</td>").expect("td close");
                cells.push(unescape(cell.get(open..close).expect("cell text")));
                rest = cell.get(close + 5..).expect("rest");
            }
            cells
        })
        .collect()
}

/// CSV records in the page's column order.
fn csv_rows(body: &str) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("csv header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header.join(","), CSV_HEADER);
    reader
        .records()
        .map(|r| {
            let r = r.expect("csv record");
            let f = |i: usize| {
                let v = r.get(i).expect("csv field").to_owned();
                // Formula-looking cells get a leading quote in the export.
                match v.strip_prefix('\'') {
                    Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest.to_owned(),
                    _ => v,
                }
            };
            let via = if f(2).is_empty() {
                "console".to_owned()
            } else {
                format!("credential {}", f(2))
            };
            vec![f(0), f(1), f(3), f(4), f(5), via, f(6), f(7)]
        })
        .collect()
}

fn kinds(rows: &[Vec<String>]) -> Vec<String> {
    rows.iter().map(|r| r[2].clone()).collect()
}

#[actix_web::test]
async fn audit_log_filters_exports_and_keeps_secrets_out() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let owner = &w.owner.agent;
    // Things worth recording.
    let member_pat = w.member.agent.create_pat("audit cli").await;
    let invitee = email("aud");
    let link = owner.invite(&invitee, "member").await;
    let guest = Agent::new(&app);
    assert_eq!(
        guest
            .post(
                &link_path(&link),
                &[("name", "Aud"), ("password", PASSWORD)]
            )
            .await
            .status,
        303
    );
    for role in ["admin", "member"] {
        let r = owner
            .post(
                &format!("/settings/members/{}/role", w.member.id),
                &[("role", role)],
            )
            .await;
        assert_eq!(r.status, 303);
    }
    let r = owner
        .post(&format!("/settings/members/{}/sign-out", w.member.id), &[])
        .await;
    assert_eq!(r.status, 303);
    let r = owner
        .post(
            "/settings/company",
            &[("name", "Alpha Audited"), ("allowed_domains", "")],
        )
        .await;
    assert_eq!(r.status, 303);
    let secrets = [
        w.key.clone(),
        w.key.rsplit(':').next().expect("key secret").to_owned(),
        member_pat.clone(),
        member_pat.trim_start_matches("rgo-").to_owned(),
        token_of(&link),
        PASSWORD.to_owned(),
    ];

    // Everything, newest first.
    let total: i64 = audit_events::table
        .filter(audit_events::company_id.eq(&w.company))
        .count()
        .get_result(&mut *db(&app))
        .expect("count");
    assert!(total < 50, "fits one page: {total}");
    let page = owner.get("/settings/audit").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("{total} events")));
    let all = audit_rows(&page.body);
    assert_eq!(all.len() as i64, total);
    let seen = kinds(&all);
    for kind in [
        "sign_up",
        "sign_in.succeeded",
        "api_key.created",
        "user.created",
        "pat.created",
        "invitation.sent",
        "invitation.accepted",
        "role.changed",
        "sessions.ended",
        "settings.changed",
    ] {
        assert!(
            seen.iter().any(|k| k == kind),
            "{kind} in the log: {seen:?}"
        );
    }
    assert_eq!(
        seen.first().map(String::as_str),
        Some("settings.changed"),
        "newest first"
    );

    // Filter by kind.
    let r = owner.get("/settings/audit?kind=role.changed").await;
    let rows = audit_rows(&r.body);
    assert_eq!(kinds(&rows), ["role.changed", "role.changed"]);
    assert!(r.body.contains("2 events"));
    assert!(rows[0][4].contains("admin → member") && rows[1][4].contains("member → admin"));
    for row in &rows {
        assert_eq!(
            row[1],
            format!("Olga Owner <{}>", w.owner.email),
            "{rows:?}"
        );
    }

    // Filter by actor.
    let r = owner
        .get(&format!("/settings/audit?actor={}", w.member.id))
        .await;
    let rows = audit_rows(&r.body);
    let by_member = audit_events::table
        .filter(audit_events::company_id.eq(&w.company))
        .filter(audit_events::actor_id.eq(&w.member.id))
        .count()
        .get_result::<i64>(&mut *db(&app))
        .expect("count");
    assert_eq!(rows.len() as i64, by_member);
    assert!(!rows.is_empty() && (rows.len() as i64) < total);
    assert!(rows
        .iter()
        .all(|r| r[1] == format!("Mia <{}>", w.member.email)));
    let kinds_of_member = kinds(&rows);
    assert!(kinds_of_member.contains(&"pat.created".to_owned()));
    assert!(!kinds_of_member.contains(&"role.changed".to_owned()));
    // Both together.
    let r = owner
        .get(&format!(
            "/settings/audit?actor={}&kind=pat.created",
            w.member.id
        ))
        .await;
    assert_eq!(kinds(&audit_rows(&r.body)), ["pat.created"]);
    // A date range that excludes today finds nothing.
    let r = owner
        .get("/settings/audit?from=2000-01-01&to=2000-12-31")
        .await;
    assert!(r.body.contains("data-testid=\"audit-empty\""));

    // The CSV export has the same rows as the page.
    let csv = owner.get("/settings/audit.csv").await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    assert_eq!(csv.body.lines().next(), Some(CSV_HEADER));
    assert_eq!(csv_rows(&csv.body), all);
    let csv = owner.get("/settings/audit.csv?kind=role.changed").await;
    assert_eq!(
        kinds(&csv_rows(&csv.body)),
        ["role.changed", "role.changed"]
    );
    let csv_by_member = owner
        .get(&format!("/settings/audit.csv?actor={}", w.member.id))
        .await;
    assert_eq!(
        csv_rows(&csv_by_member.body),
        audit_rows(
            &owner
                .get(&format!("/settings/audit?actor={}", w.member.id))
                .await
                .body
        )
    );

    // No secret anywhere.
    let everything = format!(
        "{}\n{}",
        page.body,
        owner.get("/settings/audit.csv").await.body
    );
    for secret in &secrets {
        assert!(secret.len() >= 16, "a real secret: {secret}");
        assert!(
            !everything.contains(secret.as_str()),
            "{secret} leaked into the audit log"
        );
    }
    let stored: Vec<(Option<String>, Option<String>)> = audit_events::table
        .select((audit_events::target, audit_events::detail))
        .load(&mut *db(&app))
        .expect("events");
    let stored = format!("{stored:?}");
    for secret in &secrets {
        assert!(
            !stored.contains(secret.as_str()),
            "{secret} stored in the audit log"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 9. The members list
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn members_list_searches_and_paginates() {
    let app = TestApp::spawn().await;
    let owner = Agent::of_app(&app);
    let owner_email = email("olga");
    assert_eq!(
        owner
            .signup("Crowd Co", "Olga Owner", &owner_email)
            .await
            .status,
        303
    );
    let key = owner.create_api_key("Bulk").await;
    let mut emails = Vec::new();
    for i in 1..=30 {
        let address = email(&format!("zed{i:02}"));
        let (status, body) = call(
            &app,
            Method::POST,
            "/v4/user",
            &key,
            None,
            Some(json!({"email": address, "givenName": "Zed", "familyName": format!("Number{i:02}")})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        emails.push(address);
    }

    // 31 people: 25 on the first page, then a next page with the rest.
    let first = owner.get("/settings/members").await.body;
    assert!(first.contains("<span class=\"muted\">(31)</span>"));
    assert_eq!(member_rows(&first), 25);
    assert!(first.contains("Page 1 of 2"));
    assert!(first.contains("data-testid=\"next-page\""));
    assert!(first.contains("href=\"/settings/members?q=&amp;page=2\""));
    let second = owner.get("/settings/members?q=&page=2").await.body;
    assert_eq!(member_rows(&second), 6);
    assert!(second.contains("Page 2 of 2"));
    assert!(!second.contains("data-testid=\"next-page\""));
    assert!(second.contains("rel=\"prev\""));
    // Each person on exactly one page.
    for address in emails.iter().chain([&owner_email]) {
        let on_first = member_row(&first, address).is_some();
        let on_second = member_row(&second, address).is_some();
        assert!(on_first ^ on_second, "{address} on exactly one page");
    }

    // Search by name (any case) and by email narrows.
    let r = owner.get("/settings/members?q=number07").await.body;
    assert_eq!(member_rows(&r), 1);
    assert!(member_row(&r, &emails[6]).is_some());
    let r = owner
        .get(&format!("/settings/members?q={}", emails[11]))
        .await
        .body;
    assert_eq!(member_rows(&r), 1);
    assert!(member_row(&r, &emails[11]).is_some());
    let r = owner.get("/settings/members?q=OLGA").await.body;
    assert_eq!(member_rows(&r), 1);
    assert!(member_row(&r, &owner_email).is_some());
    let r = owner.get("/settings/members?q=Number1").await.body;
    assert_eq!(member_rows(&r), 10, "Number10 … Number19");
    assert!(r.contains("<span class=\"muted\">(10)</span>"));
    assert!(!r.contains("data-testid=\"next-page\""));
    // A search that spans pages keeps the query in the page links.
    let r = owner.get("/settings/members?q=ZED").await.body;
    assert_eq!(member_rows(&r), 25);
    assert!(r.contains("<span class=\"muted\">(30)</span>"));
    assert!(r.contains("href=\"/settings/members?q=ZED&amp;page=2\""));
    assert!(member_row(&r, &owner_email).is_none());
    let r = owner.get("/settings/members?q=ZED&page=2").await.body;
    assert_eq!(member_rows(&r), 5);
    let r = owner.get("/settings/members?q=nobody-like-this").await.body;
    assert_eq!(member_rows(&r), 0);
    assert!(r.contains("data-testid=\"members-empty\""));
}

// ---------------------------------------------------------------------------------------------
// 10. In a real browser
// ---------------------------------------------------------------------------------------------

mod in_a_browser {
    use fantoccini::{Client, Locator};

    use super::{link_path, mails_to, user_by_email};
    use crate::browser::{
        assert_api_accepts, assert_api_refuses, browser, by_testid, click, eventually, fill, find,
        sign_up, testid, text_of, wait_for_path,
    };
    use crate::helpers::{email, TestApp, PASSWORD};

    /// The members-table row of `address`, with this attribute value, shows up.
    async fn wait_for_row(c: &Client, address: &str, attr: &str, value: &str) {
        let css = format!("tr[data-email=\"{address}\"][{attr}=\"{value}\"]");
        eventually(&css, || async {
            c.find_all(Locator::Css(&css))
                .await
                .map(|v| v.len() == 1)
                .unwrap_or(false)
        })
        .await;
    }

    async fn set_role(c: &Client, app: &TestApp, address: &str, role: &str) {
        c.goto(&app.url("/settings/members"))
            .await
            .expect("open members");
        let row = format!("tr[data-email=\"{address}\"]");
        find(c, &format!("{row} {}", testid("member-role-select")))
            .await
            .select_by_value(role)
            .await
            .expect("choose role");
        find(c, &format!("{row} {}", testid("member-role-save")))
            .await
            .click()
            .await
            .expect("save role");
        wait_for_row(c, address, "data-role", role).await;
        assert!(text_of(c, "flash")
            .await
            .ends_with(&format!("is now {role}.")));
    }

    async fn role_on_dashboard(c: &Client, app: &TestApp) -> String {
        c.goto(&app.url("/dashboard")).await.expect("dashboard");
        text_of(c, "dashboard-role").await
    }

    #[actix_web::test]
    async fn team_flow_in_a_browser() {
        let app = TestApp::spawn().await;
        let (_owner_driver, owner) = browser().await;
        let (_member_driver, member) = browser().await;
        let owner_email = email("owner");
        sign_up(&owner, &app, "Browser Team", "Olga Owner", &owner_email).await;

        // The owner invites someone.
        let invitee = email("nina");
        owner
            .goto(&app.url("/settings/members"))
            .await
            .expect("open members");
        fill(&owner, "invite-email", &invitee).await;
        by_testid(&owner, "invite-role")
            .await
            .select_by_value("member")
            .await
            .expect("choose member");
        click(&owner, "invite-submit").await;
        let shown = text_of(&owner, "invite-link").await;

        // The link is read from the mail, and opened in another browser.
        let mail = mails_to(&app, &invitee).pop().expect("invitation mail");
        let start = mail.find("http://").expect("link in mail");
        let link: String = mail
            .get(start..)
            .expect("link")
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        assert_eq!(link, shown, "the mail carries the link the page showed");
        member
            .goto(&app.url(&link_path(&link)))
            .await
            .expect("open invitation");
        let fixed = by_testid(&member, "accept-email").await;
        assert_eq!(
            fixed.prop("value").await.expect("value").as_deref(),
            Some(invitee.as_str())
        );
        assert!(fixed
            .attr("readonly")
            .await
            .expect("readonly attr")
            .is_some());
        fill(&member, "accept-name", "Nina New").await;
        fill(&member, "accept-password", PASSWORD).await;
        click(&member, "accept-submit").await;
        wait_for_path(&member, "/dashboard").await;
        assert_eq!(
            text_of(&member, "dashboard-title").await,
            "Welcome, Nina New"
        );
        assert_eq!(text_of(&member, "dashboard-role").await, "member");

        // The owner makes them admin, and back; their next page shows it.
        owner
            .goto(&app.url("/settings/members"))
            .await
            .expect("members");
        wait_for_row(&owner, &invitee, "data-role", "member").await;
        set_role(&owner, &app, &invitee, "admin").await;
        assert_eq!(role_on_dashboard(&member, &app).await, "admin");
        set_role(&owner, &app, &invitee, "member").await;
        assert_eq!(role_on_dashboard(&member, &app).await, "member");

        // The member creates a PAT.
        member
            .goto(&app.url("/integrations/api"))
            .await
            .expect("open /integrations/api");
        fill(&member, "token-name", "Nina's script").await;
        by_testid(&member, "expiry-30")
            .await
            .click()
            .await
            .expect("choose 30 days");
        click(&member, "create-token").await;
        let pat = text_of(&member, "new-token").await;
        assert!(pat.starts_with("rgo-"), "{pat}");
        assert_api_accepts(&app, &pat, &invitee).await;

        // The owner offboards them, transferring to themself.
        let owner_id = user_by_email(&app, &owner_email)
            .expect("owner")
            .id
            .to_string();
        let member_id = user_by_email(&app, &invitee)
            .expect("member")
            .id
            .to_string();
        owner
            .goto(&app.url("/settings/members"))
            .await
            .expect("members");
        find(
            &owner,
            &format!("tr[data-email=\"{invitee}\"] {}", testid("member-offboard")),
        )
        .await
        .click()
        .await
        .expect("open offboarding");
        wait_for_path(&owner, &format!("/settings/members/{member_id}/offboard")).await;
        let preview = text_of(&owner, "preview-sessions").await;
        assert_eq!(preview, "1 active session.");
        let summary = by_testid(&owner, "offboard-preview")
            .await
            .text()
            .await
            .expect("preview text");
        assert!(summary.contains("Nina's script"), "{summary}");
        by_testid(&owner, "offboard-transfer-to")
            .await
            .select_by_value(&owner_id)
            .await
            .expect("transfer to the owner");
        click(&owner, "offboard-confirm").await;
        wait_for_path(&owner, "/settings/members").await;
        assert!(text_of(&owner, "flash")
            .await
            .starts_with("Nina New was offboarded: "));
        wait_for_row(&owner, &invitee, "data-status", "removed").await;

        // Their token is refused, and their browser is signed out.
        assert_api_refuses(&app, &pat).await;
        member
            .goto(&app.url("/dashboard"))
            .await
            .expect("open dashboard");
        wait_for_path(&member, "/login").await;

        owner.close().await.expect("close owner browser");
        member.close().await.expect("close member browser");
    }
}
