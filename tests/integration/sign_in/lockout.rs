//! No lock-out by strangers: failures are counted per (account, IP) and per IP, so guesses from
//! elsewhere do not stop the real person; only far more failures than a person makes close
//! the account for the hour, and its owner is mailed.

use std::net::IpAddr;

use crate::helpers::db::events_of_kind;
use crate::helpers::fixtures::{sign_up, wait_for_mails};
use crate::helpers::{email, Browser, TestApp, PASSWORD};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an IP")
}

#[actix_web::test]
async fn guesses_from_elsewhere_do_not_lock_the_real_person_out() {
    let app = TestApp::spawn_with(|s| s.login_rate_limit_per_minute = 3).await;
    let address = email("victim");
    sign_up(&app, "Victim Co", "Vic", &address).await;

    // A stranger guesses until their IP is refused, then from two more addresses.
    for stranger in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        let b = Browser::from_address(&app.address, ip(stranger));
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(b.login(&address, "a wrong guess here").await.status);
        }
        assert_eq!(statuses, [401, 401, 401, 429], "from {stranger}");
    }

    // The person, from their own address, with the right password.
    let own = app.browser();
    own.login(&address, PASSWORD)
        .await
        .assert_redirect("/dashboard");
    assert!(!events_of_kind(&app, "rate_limit.hit").is_empty());
}

#[actix_web::test]
async fn the_account_wide_ceiling_closes_the_account_for_the_hour_and_mails_the_person() {
    let app = TestApp::spawn_with(|s| {
        s.login_rate_limit_per_minute = 3;
        s.login_account_failures_per_hour = 6;
    })
    .await;
    let address = email("ceiling");
    sign_up(&app, "Ceiling Co", "Cel", &address).await;
    let other = email("bystander");
    sign_up(&app, "Bystander Co", "By", &other).await;
    for stranger in ["127.0.0.2", "127.0.0.3"] {
        let b = Browser::from_address(&app.address, ip(stranger));
        for _ in 0..3 {
            b.login(&address, "a wrong guess here")
                .await
                .assert_status(401);
        }
    }
    let mails = wait_for_mails(&app, &address, 1).await;
    assert!(mails[0].contains("failed"), "{}", mails[0]);

    // Now even the right password waits, from anywhere.
    let r = app.browser().login(&address, PASSWORD).await;
    r.assert_status(429);
    assert!(r.header("retry-after").is_some());
    // Another account is not affected.
    Browser::from_address(&app.address, ip("127.0.0.5"))
        .login(&other, PASSWORD)
        .await
        .assert_redirect("/dashboard");
}
