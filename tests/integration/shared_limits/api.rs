//! The per-credential API limit (100 a minute, burst 200) is one limit across instances.

use std::time::Instant;

use super::{calls_until_refused, retry_after, two_instances};
use crate::helpers::fixtures::sign_up;
use crate::helpers::redis::RedisServer;
use crate::helpers::{email, RequestHelper};

#[actix_web::test]
async fn two_instances_sharing_redis_let_one_burst_through_not_two() {
    let redis = RedisServer::start();
    let (a, b) = two_instances(Some(&redis.url()), |s| {
        s.api_rate_limit_per_minute = 100;
        s.api_rate_limit_burst = 200;
    })
    .await;
    let owner = sign_up(&a, "Fleet Co", "Flo", &email("flo")).await;
    let pat = owner.browser.create_pat("busy", "30").await;

    let started = Instant::now();
    let (allowed, refusal) = calls_until_refused(&[&a, &b], &pat, 450).await;
    let took = started.elapsed();
    let refusal = refusal.expect("a refusal after the burst");
    // One request is earned back every 600 ms while the calls run.
    let earned = (took.as_millis() / 600) as usize;
    assert!(
        (200..=200 + earned).contains(&allowed),
        "{allowed} calls let through in {took:?}: one burst of 200, not one per instance"
    );
    assert_eq!(refusal.code(), "rate_limited");
    assert!((1..=60).contains(&retry_after(&refusal)));
    // Refused on the other instance too.
    let r = b.token(&pat).get("/v4/user/me").await;
    let r2 = a.token(&pat).get("/v4/user/me").await;
    assert_eq!((r.status, r2.status), (429, 429));
}

/// The contrast: without Redis each instance counts for itself, so two let two bursts through
/// (the reason README says "a single instance only").
#[actix_web::test]
async fn without_redis_each_instance_counts_its_own_burst() {
    let (a, b) = two_instances(None, |s| {
        s.api_rate_limit_per_minute = 5;
        s.api_rate_limit_burst = 5;
    })
    .await;
    let owner = sign_up(&a, "Solo Co", "Sol", &email("sol")).await;
    let pat = owner.browser.create_pat("busy", "30").await;
    let (allowed, refusal) = calls_until_refused(&[&a, &b], &pat, 30).await;
    assert!(refusal.is_some());
    assert_eq!(allowed, 10, "five on each instance");
}

/// Counted per credential in Redis too: a busy credential leaves the others alone.
#[actix_web::test]
async fn a_busy_credential_leaves_the_others_alone_in_redis() {
    let redis = RedisServer::start();
    let (a, b) = two_instances(Some(&redis.url()), |s| {
        s.api_rate_limit_per_minute = 5;
        s.api_rate_limit_burst = 5;
    })
    .await;
    let owner = sign_up(&a, "Busy Co", "Bu", &email("bu")).await;
    let hot = owner.browser.create_pat("hot", "30").await;
    let cold = owner.browser.create_pat("cold", "30").await;
    let (allowed, refusal) = calls_until_refused(&[&a, &b], &hot, 30).await;
    assert_eq!((allowed, refusal.is_some()), (5, true));
    let (allowed, _) = calls_until_refused(&[&b, &a], &cold, 5).await;
    assert_eq!(allowed, 5);
}

/// A measurement, not a check (`--ignored --nocapture`): the time of an API call with the limit
/// counted in Redis and in memory, sequential calls on one instance.
#[actix_web::test]
#[ignore = "a measurement; run by hand"]
async fn measure_the_cost_of_counting_in_redis() {
    let redis = RedisServer::start();
    for url in [None, Some(redis.url())] {
        let (a, _b) = two_instances(url.as_deref(), |_| {}).await;
        let owner = sign_up(&a, "Timed Co", "Tim", &email("tim")).await;
        let pat = owner.browser.create_pat("timed", "30").await;
        let caller = a.token(&pat);
        for _ in 0..200 {
            caller.get("/v4/user/me").await.assert_status(200);
        }
        let n = 2000;
        let started = Instant::now();
        for _ in 0..n {
            caller.get("/v4/user/me").await.assert_status(200);
        }
        let per_call = started.elapsed() / n;
        eprintln!("redis={}: {per_call:?} per /v4/user/me", url.is_some());
    }
}
