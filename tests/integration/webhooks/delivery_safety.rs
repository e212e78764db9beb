//! No SSRF and no redirects: a name resolving to a loopback address is refused when the
//! connection is made (with the reason recorded, the receiver never reached), a literal one
//! before sending, and a 302 is a failed attempt, not followed. And a secret rotation: both
//! signatures during the overlap, only the new one after.

use std::net::Ipv4Addr;

use chrono::Duration;
use meetergo_console::webhooks::secret::SigningSecret;
use meetergo_console::webhooks::DeliveryState;
use serde_json::json;

use super::support::{attempts, company, deliveries, endpoint, rotate, Receiver};
use crate::helpers::dns::DnsServer;
use crate::helpers::fixtures::create_user;
use crate::helpers::TestApp;

#[actix_web::test]
async fn a_name_resolving_to_loopback_is_refused_at_connect_time() {
    let dns = DnsServer::start();
    let app = TestApp::spawn_with(|s| {
        s.webhook_allow_private_targets = false;
        s.dns_resolver = Some(dns.addr);
    })
    .await;
    let c = company(&app).await;
    let receiver = Receiver::start(&[]);
    // A public-looking name that (now) points at the receiver on 127.0.0.1.
    dns.add_a("hooks.rebound.example", Ipv4Addr::LOCALHOST);
    let by_name = format!("http://hooks.rebound.example:{}/hook", receiver.port);
    let (named, secret) = endpoint(&app, &c.owner.company_id, &by_name);
    let (literal, _) = endpoint(&app, &c.owner.company_id, &receiver.url());
    receiver
        .control(json!({"secrets": [secret.expose()]}))
        .await;
    create_user(&app, &c.key, "Nia", "member").await;

    let report = app.deliver_webhooks().await;
    assert_eq!((report.attempted, report.succeeded), (2, 0), "{report:?}");
    assert!(receiver.requests().await.is_empty(), "never reached");
    let refused = attempts(&app, &deliveries(&app, &named.id)[0]);
    let error = refused[0].error.clone().unwrap_or_default();
    assert!(error.contains("no public address"), "{error}");
    assert_eq!(refused[0].status_code, None);
    let before = attempts(&app, &deliveries(&app, &literal.id)[0]);
    let error = before[0].error.clone().unwrap_or_default();
    assert!(error.contains("refused before sending"), "{error}");
}

#[actix_web::test]
async fn a_redirect_is_a_failed_attempt_and_not_followed() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    let receiver = Receiver::start(&[]);
    let (hook, secret) = endpoint(&app, &c.owner.company_id, &receiver.url());
    receiver
        .control(json!({"secrets": [secret.expose()], "redirect": true}))
        .await;
    create_user(&app, &c.key, "Nia", "member").await;

    let report = app.deliver_webhooks().await;
    assert_eq!((report.attempted, report.retrying), (1, 1), "{report:?}");
    assert_eq!(
        receiver.followed().await,
        0,
        "the redirect was not followed"
    );
    let delivery = &deliveries(&app, &hook.id)[0];
    assert_eq!(delivery.state, DeliveryState::Pending);
    let tried = attempts(&app, delivery);
    assert_eq!(tried[0].status_code, Some(302));
    assert_eq!(tried[0].error.as_deref(), Some("redirect not followed"));
}

#[actix_web::test]
async fn during_a_rotation_both_secrets_verify_and_afterwards_only_the_new_one() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    let receiver = Receiver::start(&[]);
    let (hook, old) = endpoint(&app, &c.owner.company_id, &receiver.url());
    let new = SigningSecret::generate();
    rotate(&app, &hook, &new, app.clock.now() + Duration::hours(24));
    // Verified with each secret on its own: a receiver still holding the old secret and one
    // already holding the new one both accept the delivery.
    receiver
        .control(json!({"secrets": [old.expose(), new.expose()]}))
        .await;
    create_user(&app, &c.key, "Nia", "member").await;
    assert_eq!(app.deliver_webhooks().await.succeeded, 1);
    assert_eq!(receiver.deliveries().await.len(), 1);

    // After the overlap only the new secret signs: the old one no longer verifies.
    assert!(app.clock.advance(Duration::hours(25)));
    receiver.control(json!({"secrets": [old.expose()]})).await;
    create_user(&app, &c.key, "Noa", "member").await;
    assert_eq!(app.deliver_webhooks().await.retrying, 1);
    let last = receiver.requests().await;
    assert_eq!(last.len(), 2);
    assert_eq!(last[1]["verified"], false);
    receiver.control(json!({"secrets": [new.expose()]})).await;
    assert!(app.clock.advance(Duration::seconds(5)));
    assert_eq!(app.deliver_webhooks().await.succeeded, 1);
    assert_eq!(receiver.deliveries().await.len(), 2);
}
