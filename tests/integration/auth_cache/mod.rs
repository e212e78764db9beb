//! Issue 13 §3: verified credentials cached in memory, never served once revoked. A change made
//! on this instance refuses the cached credential on the very next request; one made on another
//! instance (PostgreSQL) within the NOTIFY's delivery; expiry is checked on every hit; a hit
//! runs no query.

mod fleet;
mod hits;
mod invalidation;

use crate::helpers::client::{cookie_less_http, Anonymous};
use crate::helpers::{RequestHelper, TestApp};

/// An app whose metrics are on, to see hits, misses and invalidations.
pub async fn metered_app() -> TestApp {
    TestApp::spawn_with(metered).await
}

pub fn metered(s: &mut meetergo_console::config::Settings) {
    s.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
}

/// The value of the counter `name` with the label `key="value"`, 0 when absent.
pub async fn counter(app: &TestApp, name: &str, key: &str, value: &str) -> f64 {
    let base = app.metrics_address.clone().expect("metrics on");
    let body = Anonymous::new(&base, cookie_less_http())
        .get("/metrics")
        .await
        .body;
    let series = format!("{name}{{{key}=\"{value}\"}}");
    body.lines()
        .filter_map(|l| l.strip_prefix(&series))
        .filter_map(|rest| rest.trim().parse::<f64>().ok())
        .sum()
}

pub async fn hits(app: &TestApp) -> f64 {
    counter(app, "console_auth_cache_total", "outcome", "hit").await
}

/// `GET /v4/user/me` with the credential (an API key acts as the owner).
pub async fn me(app: &TestApp, secret: &str) -> u16 {
    app.token(secret).get("/v4/user/me").await.status
}

/// Serves the credential until an answer comes from the cache. More than twice only on
/// PostgreSQL, where the NOTIFY of a change made just before may arrive between the two.
pub async fn cached(app: &TestApp, secret: &str) {
    for _ in 0..20 {
        let before = hits(app).await;
        assert_eq!(me(app, secret).await, 200, "the credential works");
        if hits(app).await > before {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("never answered from the cache");
}
