//! Races have one winner: the same state change sent N times at once (one browser, the same
//! cookies and CSRF token, or one API key) is carried out once. Exactly one request succeeds,
//! the others get a clear conflict (409, never 5xx), and the audit log has one event.
//!
//! The requests leave over connections opened beforehand, so they reach the server together
//! and overlap in the database; on PostgreSQL the test also holds the row they change locked
//! until all of them have read it (see `race`), the widest window there can be.

mod credentials;
mod identities;
mod invitations;
mod members;
mod sso;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use futures_util::future::join_all;
use meetergo_console::db::schema::{audit_events, users};
use meetergo_console::db::DatabaseUrl;
use reqwest::{Method, RequestBuilder};

use crate::helpers::db::conn;
use crate::helpers::fixtures::{create_user, sign_up};
use crate::helpers::{email, Browser, Reply, RequestHelper, TestApp};

/// How many identical requests go out at once.
pub const N: usize = 8;

/// Opens `N` keep-alive connections of `browser` (any caller), so that the next `N` requests need no
/// handshake and leave together.
async fn warm_up(browser: &impl RequestHelper) {
    let url = browser.url("/healthz");
    let replies = join_all((0..N).map(|_| browser.http().get(&url).send())).await;
    for r in replies {
        assert_eq!(r.expect("GET /healthz").status(), 200);
    }
}

/// A row that the test keeps locked on PostgreSQL while the requests arrive: (table, id).
pub type Row<'a> = (&'static str, &'a str);

/// How long apart the waves of a race leave.
const WAVE_GAP: Duration = Duration::from_millis(150);
/// How long after the last wave the rows stay locked: time for every request to get there.
const SETTLE: Duration = Duration::from_millis(500);

/// Sends `N` copies of `request` at once, the state they change locked meanwhile (see `race`).
pub async fn at_once(
    app: &TestApp,
    browser: &impl RequestHelper,
    rows: &[Row<'_>],
    request: RequestBuilder,
) -> Vec<Reply> {
    let copies = (0..N)
        .map(|_| request.try_clone().expect("a request with a fixed body"))
        .collect();
    race(app, browser, rows, vec![copies]).await
}

/// Sends the requests of each wave at once on `browser`'s warm connections, the waves
/// `WAVE_GAP` apart, and returns their outcomes in order.
///
/// The widest window a race can have: on PostgreSQL the test first locks `rows` in a
/// transaction of its own, so every request reads the state as it was and then waits to
/// change it; the lock goes once they all had time to get there. Without a conditional
/// update every one of them would then carry out its change. (Reads do not wait for a row
/// lock on PostgreSQL.) On SQLite a writer holds the whole database, so no test lock is
/// taken there: the requests simply arrive together.
pub async fn race(
    app: &TestApp,
    browser: &impl RequestHelper,
    rows: &[Row<'_>],
    waves: Vec<Vec<RequestBuilder>>,
) -> Vec<Reply> {
    assert!(
        waves.iter().map(Vec::len).sum::<usize>() <= N,
        "one warm connection per request"
    );
    warm_up(browser).await;
    let lock = lock_rows(app, rows);
    let last_wave = u32::try_from(waves.len()).expect("a few waves");
    let sending = join_all(waves.into_iter().zip(0u32..).flat_map(|(wave, i)| {
        wave.into_iter().map(move |r| async move {
            actix_web::rt::time::sleep(WAVE_GAP * i).await;
            Reply::read(r.send().await.expect("request")).await
        })
    }));
    let releasing = async move {
        if let Some(mut conn) = lock {
            actix_web::rt::time::sleep(WAVE_GAP * last_wave + SETTLE).await;
            conn.batch_execute("COMMIT").expect("release the rows");
        }
    };
    futures_util::future::join(sending, releasing).await.0
}

/// On PostgreSQL, a connection of the test's own holding `rows` locked in an open transaction.
fn lock_rows(app: &TestApp, rows: &[Row<'_>]) -> Option<PgConnection> {
    let DatabaseUrl::Postgres(url) = &app.settings.database_url else {
        return None;
    };
    if rows.is_empty() {
        return None;
    }
    let mut conn = PgConnection::establish(url).expect("a connection of the test's own");
    conn.batch_execute("BEGIN").expect("begin");
    for (table, id) in rows {
        assert!(
            id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "an id: {id}"
        );
        // NO KEY: inserts that refer to the row (foreign keys) do not wait, updates do.
        conn.batch_execute(&format!(
            "SELECT 1 FROM {table} WHERE id = '{id}' FOR NO KEY UPDATE"
        ))
        .expect("lock the row");
    }
    Some(conn)
}

/// Posts the same form `N` times at once from `browser`'s session, with its one CSRF token,
/// as a browser whose button was clicked many times; `rows` are locked meanwhile (see `race`).
pub async fn post_at_once(
    app: &TestApp,
    browser: &Browser,
    rows: &[Row<'_>],
    path: &str,
    fields: &[(&str, &str)],
) -> Vec<Reply> {
    let token = browser.csrf_token().await;
    let mut all = fields.to_vec();
    all.push(("csrf_token", &token));
    let request = browser.request(Method::POST, path).form(&all);
    at_once(app, browser, rows, request).await
}

/// Exactly one outcome has the `success` status; every other one is one of `conflicts`.
pub fn assert_one_winner(what: &str, outcomes: &[Reply], success: u16, conflicts: &[u16]) {
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
        .get_result(&mut *conn(app))
        .expect("count audit events")
}

/// (role, status) of a user, from the database.
pub fn role_and_status(app: &TestApp, id: &str) -> (String, String) {
    users::table
        .filter(users::id.eq(id))
        .select((users::role, users::status))
        .first(&mut *conn(app))
        .expect("user by id")
}

/// A company whose owner is signed in in `owner`, with a Platform API Key.
pub struct Team<'a> {
    pub app: &'a TestApp,
    pub owner: Browser,
    pub owner_id: String,
    pub key: String,
}

impl<'a> Team<'a> {
    pub async fn new(app: &'a TestApp) -> Team<'a> {
        let owner = sign_up(app, "Race Team", "Olga Owner", &email("olga")).await;
        let key = owner.browser.create_api_key("Team key", "30").await;
        Team {
            app,
            owner: owner.browser,
            owner_id: owner.id,
            key,
        }
    }

    /// A user of the company, created through `POST /v4/user`; returns their id.
    pub async fn add(&self, name: &str, role: &str) -> String {
        create_user(self.app, &self.key, name, role).await.0
    }
}
