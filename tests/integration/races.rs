//! Races have one winner: the same state change sent N times at once (one browser, the same
//! cookies and CSRF token, or one API key) is carried out once. Exactly one request succeeds,
//! the others get a clear conflict (409, never 5xx), and the audit log has one event.
//!
//! The requests leave over connections opened beforehand, so they reach the server together
//! and overlap in the database (on PostgreSQL each gets its own pooled connection).

mod credentials;
mod identities;
mod invitations;
mod members;
mod sso;

use diesel::prelude::*;
use futures_util::future::join_all;
use meetergo_console::db::schema::{audit_events, users};
use reqwest::{Client, RequestBuilder};
use serde_json::{json, Value};

use crate::helpers::{email, location, TestApp};

/// How many identical requests go out at once.
pub const N: usize = 8;

/// One response, read to the end.
#[derive(Debug)]
pub struct Outcome {
    pub status: u16,
    pub location: String,
    pub body: String,
}

/// Opens `N` keep-alive connections on `client`, so that the next `N` requests need no
/// handshake and leave together.
async fn warm_up(app: &TestApp, client: &Client) {
    let url = app.url("/healthz");
    let replies = join_all((0..N).map(|_| client.get(&url).send())).await;
    for r in replies {
        assert_eq!(r.expect("GET /healthz").status(), 200);
    }
}

/// Sends `N` copies of `request` at once on `client`'s connections.
pub async fn at_once(app: &TestApp, client: &Client, request: RequestBuilder) -> Vec<Outcome> {
    let copies = (0..N)
        .map(|_| request.try_clone().expect("a request with a fixed body"))
        .collect();
    all_at_once(app, client, copies).await
}

/// Sends these requests (at most `N`) at once on `client`'s connections.
pub async fn all_at_once(
    app: &TestApp,
    client: &Client,
    requests: Vec<RequestBuilder>,
) -> Vec<Outcome> {
    assert!(requests.len() <= N, "one warm connection per request");
    warm_up(app, client).await;
    join_all(requests.into_iter().map(|r| async move {
        let r = r.send().await.expect("request");
        let status = r.status().as_u16();
        let location = location(&r);
        let body = r.text().await.expect("body");
        Outcome {
            status,
            location,
            body,
        }
    }))
    .await
}

/// The CSRF token of `client`'s session, read from `page`.
pub async fn csrf(app: &TestApp, client: &Client, page: &str) -> String {
    let html = client
        .get(app.url(page))
        .send()
        .await
        .expect("GET page")
        .text()
        .await
        .expect("page body");
    crate::helpers::csrf_in(&html).unwrap_or_else(|| panic!("no CSRF token on {page}"))
}

/// Posts the same form `N` times at once from `client`'s session, with one CSRF token read
/// from `page` beforehand, as a browser whose button was clicked many times.
pub async fn post_at_once(
    app: &TestApp,
    client: &Client,
    page: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> Vec<Outcome> {
    let token = csrf(app, client, page).await;
    let mut all = fields.to_vec();
    all.push(("csrf_token", &token));
    at_once(app, client, client.post(app.url(path)).form(&all)).await
}

/// Exactly one outcome has the `success` status; every other one is one of `conflicts`.
pub fn assert_one_winner(what: &str, outcomes: &[Outcome], success: u16, conflicts: &[u16]) {
    let summary: Vec<u16> = outcomes.iter().map(|o| o.status).collect();
    assert!(
        outcomes.iter().all(|o| o.status < 500),
        "{what}: no request may fail with 5xx: {summary:?}\n{outcomes:#?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| o.status == success).count(),
        1,
        "{what}: exactly one of {N} requests succeeds ({success}): {summary:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| o.status == success || conflicts.contains(&o.status)),
        "{what}: the others are told of the conflict ({conflicts:?}): {summary:?}\n{outcomes:#?}"
    );
}

/// Audit events of this kind in the whole (fresh) database.
pub fn events(app: &TestApp, kind: &str) -> i64 {
    audit_events::table
        .filter(audit_events::kind.eq(kind))
        .count()
        .get_result(&mut *app.db.conn().expect("db connection"))
        .expect("count audit events")
}

/// (role, status) of a user, from the database.
pub fn role_and_status(app: &TestApp, id: &str) -> (String, String) {
    users::table
        .filter(users::id.eq(id))
        .select((users::role, users::status))
        .first(&mut *app.db.conn().expect("db connection"))
        .expect("user by id")
}

/// A company whose owner is signed in in `app.client`, with a Platform API Key.
pub struct Team<'a> {
    pub app: &'a TestApp,
    pub owner_id: String,
    pub key: String,
}

impl<'a> Team<'a> {
    pub async fn new(app: &'a TestApp) -> Team<'a> {
        let owner_email = email("olga");
        let r = app.signup("Race Team", "Olga Owner", &owner_email).await;
        assert_eq!(r.status(), 303, "the owner signs up");
        let owner_id: String = users::table
            .filter(users::email.eq(&owner_email))
            .select(users::id)
            .first(&mut *app.db.conn().expect("db connection"))
            .expect("owner stored");
        let key = app.create_api_key("Team key", "30").await;
        Team { app, owner_id, key }
    }

    /// A user of the company, created through `POST /v4/user`; returns their id.
    pub async fn add(&self, name: &str, role: &str) -> String {
        let r = Client::new()
            .post(self.app.url("/v4/user"))
            .bearer_auth(&self.key)
            .json(&json!({"email": email(&name.to_lowercase()), "givenName": name, "role": role}))
            .send()
            .await
            .expect("POST /v4/user");
        assert_eq!(r.status(), 201, "creating {role} {name}");
        let body: Value = r.json().await.expect("json");
        body["userId"].as_str().expect("userId").to_owned()
    }
}
