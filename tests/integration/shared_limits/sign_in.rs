//! Sign-in attempts and failures counted once for the fleet; hostile input makes bounded keys.

use std::net::IpAddr;

use super::two_instances;
use crate::helpers::fixtures::sign_up;
use crate::helpers::redis::RedisServer;
use crate::helpers::{email, Browser, RequestHelper, PASSWORD};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an IP")
}

#[actix_web::test]
async fn sign_in_attempts_from_one_address_are_one_limit_across_instances() {
    let redis = RedisServer::start();
    // The default: ten attempts a minute per IP and per (account, IP).
    let (a, b) = two_instances(Some(&redis.url()), |s| s.login_rate_limit_per_minute = 10).await;
    let address = email("target");
    sign_up(&a, "Target Co", "Tar", &address).await;
    let from_a = Browser::from_address(&a.address, ip("127.0.0.7"));
    let from_b = Browser::from_address(&b.address, ip("127.0.0.7"));
    let mut statuses = Vec::new();
    for n in 0..12 {
        let browser = if n % 2 == 0 { &from_a } else { &from_b };
        statuses.push(browser.login(&address, "a wrong guess here").await.status);
    }
    assert_eq!(
        statuses,
        [[401; 10].as_slice(), &[429, 429]].concat(),
        "ten attempts for the fleet, not ten per instance"
    );
    // Another address is not held back.
    let elsewhere = Browser::from_address(&b.address, ip("127.0.0.8"));
    elsewhere
        .login(&address, PASSWORD)
        .await
        .assert_redirect("/dashboard");
}

#[actix_web::test]
async fn failed_sign_ins_of_an_account_are_counted_once_for_the_fleet() {
    let redis = RedisServer::start();
    let (a, b) = two_instances(Some(&redis.url()), |s| {
        s.login_account_failures_per_hour = 4;
    })
    .await;
    let address = email("ceiling");
    sign_up(&a, "Ceiling Co", "Cel", &address).await;
    for (n, app) in [&a, &b, &a, &b].into_iter().enumerate() {
        let r = app.browser().login(&address, "a wrong guess here").await;
        assert_eq!(r.status, 401, "failure {n}");
    }
    // Two failures on each instance; in memory neither would have reached four.
    for app in [&a, &b] {
        let r = app.browser().login(&address, PASSWORD).await;
        assert_eq!(
            r.status, 429,
            "the account is closed for the hour everywhere"
        );
    }
}

#[actix_web::test]
async fn hostile_input_makes_keys_of_bounded_size_and_breaks_nothing() {
    let redis = RedisServer::start();
    let (a, _b) = two_instances(Some(&redis.url()), |_| {}).await;
    let address = email("plain");
    sign_up(&a, "Plain Co", "Pla", &address).await;
    let long = format!("{}@example.com", "x".repeat(60_000));
    for typed in ["nul\0byte@example.com", long.as_str(), "\u{0}\u{0}", ""] {
        let r = a.browser().login(typed, "a wrong guess here").await;
        assert!(
            [400, 401, 422].contains(&r.status),
            "{} for a hostile address {}",
            r.status,
            typed.len()
        );
        let r = a
            .browser()
            .post_form("/password/forgot", &[("email", typed)])
            .await;
        assert!(r.status < 500, "{} from forgot-password", r.status);
    }
    a.browser().sign_in(&address).await;

    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut conn).unwrap();
    assert!(!keys.is_empty(), "the limits were counted in Redis");
    for key in &keys {
        assert!(key.starts_with("console:rl:"), "{key}");
        assert!(key.len() <= 100, "{} bytes: {key}", key.len());
    }
}
