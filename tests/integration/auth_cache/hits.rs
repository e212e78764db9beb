//! What a hit does: no query, the expiry checked, "last used" kept up to date off the request.

use std::time::{Duration, Instant};

use chrono::Duration as Days;
use diesel::prelude::*;
use meetergo_console::db::schema::personal_access_tokens as pats;

use super::{cached, hits, me, metered};
use crate::helpers::db::{conn, pat_id};
use crate::helpers::fixtures::sign_up;
use crate::helpers::{email, TestApp};

#[actix_web::test]
async fn a_hit_answers_while_every_database_connection_is_taken() {
    let app = TestApp::spawn_with(|s| {
        metered(s);
        s.db_pool_size = 2;
    })
    .await;
    let owner = sign_up(&app, "No Query Co", "Nora Query", &email("nora")).await;
    let pat = owner.browser.create_pat("hot", "30").await;
    let cold = owner.browser.create_pat("cold", "30").await;
    let key = owner.browser.create_api_key("Hot", "30").await;
    cached(&app, &pat).await;
    cached(&app, &key).await;

    // Every connection of the pool held by the test: any query would wait for one.
    let held: Vec<_> = (0..2)
        .map(|_| app.db.conn().expect("a connection"))
        .collect();
    let before = hits(&app).await;
    for secret in [&pat, &key] {
        let started = Instant::now();
        assert_eq!(me(&app, secret).await, 200, "answered from the cache");
        assert!(started.elapsed() < Duration::from_millis(500));
    }
    assert_eq!(hits(&app).await, before + 2.0);
    // The proof that the test could fail: a credential that is not cached needs a query.
    let started = Instant::now();
    assert_eq!(me(&app, &cold).await, 503, "no connection for the lookup");
    assert!(started.elapsed() >= Duration::from_secs(1));
    drop(held);
    assert_eq!(me(&app, &cold).await, 200);
}

#[actix_web::test]
async fn expiry_is_checked_on_every_hit() {
    let app = TestApp::spawn_with(metered).await;
    let owner = sign_up(&app, "Expiry Co", "Ezra Expiry", &email("ezra")).await;
    let pat = owner.browser.create_pat("week", "7").await;
    let key = owner.browser.create_api_key("Week", "7").await;
    cached(&app, &pat).await;
    cached(&app, &key).await;

    app.clock.advance(Days::days(8));
    let before = hits(&app).await;
    for secret in [&pat, &key] {
        let r = crate::helpers::RequestHelper::get(&app.token(secret), "/v4/user/me").await;
        assert_eq!((r.status, r.code()), (401, "credential_expired"));
    }
    assert_eq!(hits(&app).await, before + 2.0, "refused from the cache");
}

#[actix_web::test]
async fn last_used_is_written_from_a_hit_once_it_is_due() {
    let app = TestApp::spawn_with(metered).await;
    let owner = sign_up(&app, "Used Co", "Uma Used", &email("uma")).await;
    let pat = owner.browser.create_pat("cli", "30").await;
    let id = pat_id(&app, &owner.id, "cli");
    cached(&app, &pat).await;
    let last_used = || {
        pats::table
            .filter(pats::id.eq(&id))
            .select(pats::last_used_at)
            .first::<Option<chrono::NaiveDateTime>>(&mut *conn(&app))
            .expect("token row")
            .expect("used")
    };
    let first = last_used();

    // `last_used` reads through `Db::conn`, which drops the cache: cache it again.
    cached(&app, &pat).await;
    app.clock.advance(Days::minutes(2));
    let before = hits(&app).await;
    assert_eq!(me(&app, &pat).await, 200);
    assert_eq!(hits(&app).await, before + 1.0, "a hit");
    let deadline = Instant::now() + Duration::from_secs(5);
    while last_used() == first {
        assert!(Instant::now() < deadline, "last used never written");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(last_used() >= first + Days::minutes(2));
}
