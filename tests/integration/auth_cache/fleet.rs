//! Two instances on one PostgreSQL database: a change on one reaches the other's cache through
//! `LISTEN/NOTIFY`, and without its listener an instance bypasses its cache.
//!
//! PostgreSQL only by nature: SQLite is one instance (no listener, local invalidation only,
//! covered by `invalidation`). On SQLite these tests return at once; the PostgreSQL run of the
//! suite executes them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use super::{cached, counter, hits, me, metered, metered_app};
use crate::helpers::db::{conn, pat_id};
use crate::helpers::fixtures::sign_up;
use crate::helpers::{backend, email, RequestHelper, TempDir, TestApp};

async fn reconnects(app: &TestApp) -> f64 {
    counter(
        app,
        "console_auth_cache_invalidations_total",
        "source",
        "reconnect",
    )
    .await
}

/// Waits until the app's listener has connected `n` times in all.
async fn listening(app: &TestApp, n: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while reconnects(app).await < n {
        assert!(Instant::now() < deadline, "the listener never connected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One request of a load loop: when it started and ended, and its status.
struct Sample {
    started: Instant,
    ended: Instant,
    status: u16,
}

#[actix_web::test]
async fn a_pat_revoked_on_one_instance_stops_on_the_other_within_a_second() {
    if backend() != "postgres" {
        return; // The listener's test (see the module documentation).
    }
    let a = metered_app().await;
    let b = TestApp::spawn_on(TempDir::new(), a.settings.database_url.clone(), metered).await;
    listening(&a, 1.0).await;
    listening(&b, 1.0).await;
    let owner = sign_up(&a, "Fleet Co", "Fia Fleet", &email("fia")).await;
    let pat = owner.browser.create_pat("load", "30").await;
    let id = pat_id(&a, &owner.id, "load");
    cached(&b, &pat).await;
    let hits_before = hits(&b).await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut loops = Vec::new();
    for _ in 0..4 {
        let (caller, stop) = (b.token(&pat), Arc::clone(&stop));
        loops.push(actix_web::rt::spawn(async move {
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let status = caller.get("/v4/user/me").await.status;
                samples.push(Sample {
                    started,
                    ended: Instant::now(),
                    status,
                });
            }
            samples
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = owner
        .browser
        .post_form(&format!("/integrations/api/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let revoked = Instant::now();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for l in loops {
        samples.extend(l.await.expect("load loop"));
    }

    assert!(
        hits(&b).await > hits_before + 10.0,
        "B served the token from its cache"
    );
    let first_refusal = samples
        .iter()
        .filter(|s| s.status == 401)
        .map(|s| s.ended)
        .min()
        .expect("B refused the token");
    let propagation = first_refusal.saturating_duration_since(revoked);
    assert!(
        propagation < Duration::from_secs(1),
        "B's first 401 came {propagation:?} after the revoke"
    );
    let late = samples
        .iter()
        .filter(|s| s.started > first_refusal && s.status != 401)
        .count();
    assert_eq!(late, 0, "requests started after B's first 401 all refused");
    assert!(samples.iter().all(|s| s.status == 200 || s.status == 401));
    eprintln!(
        "revocation reached B {propagation:?} after A's answer ({} requests)",
        samples.len()
    );
}

/// Ends this database's LISTEN connections (the app's listener); how many there were.
fn kill_listeners(app: &TestApp) -> usize {
    #[derive(QueryableByName)]
    struct Killed {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        #[allow(dead_code)]
        killed: bool,
    }
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .load::<Killed>(&mut *conn(app))
    .expect("terminate the listener")
    .len()
}

#[actix_web::test]
async fn without_its_listener_an_instance_bypasses_its_cache_then_uses_it_again() {
    if backend() != "postgres" {
        return; // The listener's test (see the module documentation).
    }
    let a = metered_app().await;
    // B without a cache, hence without a listener: A's is the only one on this database.
    let b = TestApp::spawn_on(TempDir::new(), a.settings.database_url.clone(), |s| {
        s.credential_cache.enabled = false;
    })
    .await;
    listening(&a, 1.0).await;
    let owner = sign_up(&a, "Away Co", "Avi Away", &email("avi")).await;
    let pat = owner.browser.create_pat("cli", "30").await;
    let revoked_elsewhere = owner.browser.create_pat("elsewhere", "30").await;
    cached(&a, &pat).await;
    cached(&a, &revoked_elsewhere).await;

    // The listener killed again and again: A is mostly without it.
    let stop = Arc::new(AtomicBool::new(false));
    let killer = {
        let (stop, db) = (Arc::clone(&stop), a.db.clone());
        actix_web::rt::task::spawn_blocking(move || {
            let mut killed = 0;
            while !stop.load(Ordering::Relaxed) {
                use diesel::connection::SimpleConnection;
                let mut c = db.conn().expect("a connection");
                c.batch_execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND query LIKE 'LISTEN%'",
                )
                .expect("terminate");
                killed += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            killed
        })
    };
    let bypass = "console_auth_cache_total";
    let bypassed_before = counter(&a, bypass, "outcome", "bypass").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while counter(&a, bypass, "outcome", "bypass").await == bypassed_before {
        assert!(Instant::now() < deadline, "the cache was never bypassed");
        assert_eq!(me(&a, &pat).await, 200, "requests keep working");
    }
    for _ in 0..20 {
        assert_eq!(me(&a, &pat).await, 200, "requests keep working");
    }
    // Revoked through B: A missed the NOTIFY, yet never serves the token again.
    let r = b
        .anonymous()
        .post_json(
            "/v4/credentials/revoke",
            &serde_json::json!({ "credentials": [revoked_elsewhere] }),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(me(&a, &revoked_elsewhere).await, 401);
    stop.store(true, Ordering::Relaxed);
    assert!(killer.await.expect("killer") > 0);

    // Back: the listener reconnects and the cache is used again.
    listening(&a, 2.0).await;
    let reconnected = reconnects(&a).await;
    for _ in 0..20 {
        assert_eq!(me(&a, &revoked_elsewhere).await, 401);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let before = hits(&a).await;
        assert_eq!(me(&a, &pat).await, 200);
        if hits(&a).await > before {
            break;
        }
        assert!(Instant::now() < deadline, "the cache was never used again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // And a single kill is noticed too (the listener is one connection of this database).
    assert_eq!(kill_listeners(&a), 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while reconnects(&a).await <= reconnected {
        assert!(Instant::now() < deadline, "the listener never came back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
