//! Redis stopped: the API limit fails open (counted), the sign-in limits are counted in each
//! instance's memory (never open); Redis back: sharing resumes by itself. And an app started
//! while Redis is down starts, serves, and uses Redis once it answers.

use std::net::IpAddr;
use std::time::Duration;

use super::{calls_until_refused, two_instances, until_each_refuses};
use crate::helpers::fixtures::sign_up;
use crate::helpers::redis::RedisServer;
use crate::helpers::{email, Browser, RequestHelper};
use crate::proxy_metrics::metrics::{scrape, total};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an IP")
}

#[actix_web::test]
async fn redis_stopped_the_api_fails_open_sign_in_falls_back_and_sharing_resumes_by_itself() {
    let mut redis = RedisServer::start();
    let (a, b) = two_instances(Some(&redis.url()), |s| {
        s.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
        s.api_rate_limit_per_minute = 5;
        s.api_rate_limit_burst = 5;
        s.login_rate_limit_per_minute = 3;
    })
    .await;
    let owner = sign_up(&a, "Outage Co", "Out", &email("out")).await;
    let pat = owner.browser.create_pat("busy", "30").await;
    let (allowed, refusal) = calls_until_refused(&[&a, &b], &pat, 20).await;
    assert_eq!(
        (allowed, refusal.is_some()),
        (5, true),
        "shared while Redis runs"
    );

    redis.stop();
    // Over the limit, yet answered: the API limit fails open, nothing answers 5xx.
    for n in 0..12 {
        let app = if n % 2 == 0 { &a } else { &b };
        let r = app.token(&pat).get("/v4/user/me").await;
        assert_eq!(r.status, 200, "call {n} with Redis down: {}", r.body);
    }
    // Sign-in attempts are still limited, by each instance for itself.
    let address = email("guessed");
    sign_up(&a, "Guessed Co", "Gue", &address).await;
    for app in [&a, &b] {
        let guesser = Browser::from_address(&app.address, ip("127.0.0.9"));
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(guesser.login(&address, "a wrong guess here").await.status);
        }
        assert_eq!(statuses, [401, 401, 401, 429], "on {}", app.address);
    }
    let metrics = scrape(a.metrics_address.as_deref().unwrap()).await;
    let fail_open = total(&metrics, "console_rate_limit_fail_open_total", &[]);
    assert!(fail_open >= 6.0, "fail-open counted: {fail_open}");
    let errors = total(
        &metrics,
        "console_rate_limit_backend_errors_total",
        &[("limiter", "api")],
    );
    assert!(errors >= 1.0, "Redis errors counted: {errors}");
    let fallback = total(
        &metrics,
        "console_rate_limit_fallback_total",
        &[("limiter", "login")],
    );
    assert!(
        fallback >= 4.0,
        "sign-in checks counted in memory: {fallback}"
    );

    // Redis back (empty): the instances find it again by themselves and share one count.
    redis.start_again();
    let took = until_each_refuses(&[&a, &b], &pat, Duration::from_secs(10)).await;
    eprintln!("shared counting resumed {took:?} after Redis came back");
    assert!(took < Duration::from_secs(5), "resumed after {took:?}");
    let fresh = owner.browser.create_pat("fresh", "30").await;
    let (allowed, refusal) = calls_until_refused(&[&a, &b], &fresh, 20).await;
    assert_eq!(
        (allowed, refusal.is_some()),
        (5, true),
        "one limit for both again"
    );
}

#[actix_web::test]
async fn an_app_started_with_redis_down_serves_and_uses_redis_once_it_is_up() {
    let mut redis = RedisServer::start();
    redis.stop();
    let (a, b) = two_instances(Some(&redis.url()), |s| {
        s.api_rate_limit_per_minute = 3;
        s.api_rate_limit_burst = 3;
    })
    .await;
    a.anonymous().get("/healthz").await.assert_status(200);
    // Signing up counts against the sign-in limits (in memory meanwhile).
    let owner = sign_up(&a, "Early Co", "Ear", &email("early")).await;
    let pat = owner.browser.create_pat("early", "30").await;
    let (allowed, refusal) = calls_until_refused(&[&a, &b], &pat, 10).await;
    assert_eq!((allowed, refusal.is_none()), (10, true), "fails open");

    redis.start_again();
    let took = until_each_refuses(&[&a, &b], &pat, Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(5), "Redis used after {took:?}");
}
