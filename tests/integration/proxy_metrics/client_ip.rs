//! The test app is reached on 127.0.0.1; `TRUSTED_PROXIES=127.0.0.1/32` makes that peer a
//! proxy like nginx, and each browser says in `X-Forwarded-For` which client it is.

use meetergo_console::client_ip::TrustedProxies;
use meetergo_console::config::Settings;

use crate::helpers::client::forwarded_http;
use crate::helpers::db::{events_of_kind, pat_id};
use crate::helpers::fixtures::sign_up;
use crate::helpers::{email, Browser, RequestHelper, TestApp, TokenUser, PASSWORD};

const WRONG: &str = "a wrong guess here";

fn trusting(list: &str) -> impl FnOnce(&mut Settings) + '_ {
    move |s: &mut Settings| {
        s.trusted_proxies = list.parse::<TrustedProxies>().expect("a proxy list");
        s.login_rate_limit_per_minute = 10;
    }
}

/// The addresses the sessions page lists for the signed-in person's browsers.
fn session_ips(html: &str) -> Vec<String> {
    html.split("data-testid=\"session-row\"")
        .skip(1)
        .map(|row| row.split("</tr>").next().unwrap().to_owned())
        .collect()
}

/// The addresses a credential's detail page lists (last used from).
fn usage_ips(html: &str) -> Vec<String> {
    html.match_indices("data-testid=\"usage-ip\" data-ip=\"")
        .map(|(at, m)| {
            let rest = &html[at + m.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_everywhere() {
    let app = TestApp::spawn_with(trusting("127.0.0.1/32")).await;
    let who = email("proxied");
    let me = sign_up(&app, "Proxy Co", "Pia", &who).await;

    // A client that forged an entry of its own; the proxy appended what it saw.
    let laptop = Browser::behind_proxy(&app.address, "198.51.100.66, 203.0.113.7");
    laptop.sign_in(&who).await;
    // The device and address are noted on the first signed-in page.
    laptop.get("/dashboard").await.assert_status(200);
    let signed_in = events_of_kind(&app, "sign_in.succeeded");
    let last = signed_in.last().expect("a sign-in event");
    assert_eq!(last.ip.as_deref(), Some("203.0.113.7"));

    let rows = session_ips(&me.browser.get("/profile/sessions").await.body);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter().any(|r| r.contains("203.0.113.7")),
        "the laptop's row shows the forwarded address: {rows:?}"
    );
    assert!(
        !rows.iter().any(|r| r.contains("198.51.100.66")),
        "{rows:?}"
    );

    // A credential used from an IPv6 client: its last use and its address list say so.
    let pat = me.browser.create_pat("Proxied", "30").await;
    let caller = TokenUser::new(&app.address, forwarded_http("2001:db8::42"), &pat);
    caller.get("/v4/user/me").await.assert_status(200);
    app.flush_usage().await;
    let id = pat_id(&app, &me.id, "Proxied");
    let page = me
        .browser
        .get(&format!("/integrations/api/tokens/{id}"))
        .await;
    assert_eq!(usage_ips(&page.body), ["2001:db8::42"], "{}", page.body);
}

#[actix_web::test]
async fn ten_failures_from_one_forwarded_client_do_not_lock_out_another() {
    let app = TestApp::spawn_with(trusting("127.0.0.1/32")).await;
    let who = email("shared-proxy");
    sign_up(&app, "Shared Proxy Co", "Sam", &who).await;

    let guesser = Browser::behind_proxy(&app.address, "203.0.113.10");
    for i in 0..10 {
        let r = guesser.login(&who, WRONG).await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
    }
    // The eleventh from that client is over the limit of ten a minute...
    guesser.login(&who, WRONG).await.assert_status(429);
    let hits = events_of_kind(&app, "rate_limit.hit");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].ip.as_deref(), Some("203.0.113.10"));

    // ...while another client behind the same proxy signs in.
    let other = Browser::behind_proxy(&app.address, "203.0.113.20");
    other
        .login(&who, PASSWORD)
        .await
        .assert_redirect("/dashboard");
}

/// Without `TRUSTED_PROXIES` (or with a list that does not hold the peer) the header is the
/// client's own word and counts for nothing: every browser here is 127.0.0.1.
#[actix_web::test]
async fn x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    for list in ["", "10.0.0.0/8, fd00::/8"] {
        let app = TestApp::spawn_with(trusting(list)).await;
        let who = email("spoofer");
        let me = sign_up(&app, "Spoof Co", "Spo", &who).await;

        // The sign-up above came from 127.0.0.1 too and used some of its budget of ten.
        let spoofer = Browser::behind_proxy(&app.address, "203.0.113.10");
        let mut refused = false;
        for _ in 0..11 {
            let r = spoofer.login(&who, WRONG).await;
            if r.status == 429 {
                refused = true;
                break;
            }
            r.assert_status(401);
        }
        assert!(refused, "list {list:?}: the peer's limit was reached");
        let hits = events_of_kind(&app, "rate_limit.hit");
        assert_eq!(hits[0].ip.as_deref(), Some("127.0.0.1"), "list {list:?}");
        let failures = events_of_kind(&app, "sign_in.failed");
        assert!(!failures.is_empty());
        assert!(
            failures
                .iter()
                .all(|e| e.ip.as_deref() == Some("127.0.0.1")),
            "list {list:?}"
        );

        // A "different" client is the same peer, and that peer is over its limit.
        let other = Browser::behind_proxy(&app.address, "203.0.113.20");
        other.login(&who, PASSWORD).await.assert_status(429);

        let rows = session_ips(&me.browser.get("/profile/sessions").await.body);
        assert!(rows.iter().all(|r| !r.contains("203.0.113")), "{rows:?}");
    }
}
