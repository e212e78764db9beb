//! A receiver that fails: retries after the backoff with the same webhook-id, every attempt
//! recorded; retries running out; an endpoint failing for 3 days switched off and its
//! company's owners and admins mailed.

use chrono::Duration;
use meetergo_console::webhooks::delivery::BACKOFF;
use meetergo_console::webhooks::DeliveryState;
use serde_json::json;

use super::support::{
    attempts, company, delete_endpoint, deliveries, endpoint, endpoint_now, Receiver,
};
use crate::helpers::db::company_events;
use crate::helpers::fixtures::{create_user, mails_to_besides_confirmation};
use crate::helpers::TestApp;

#[actix_web::test]
async fn a_failing_receiver_is_retried_with_backoff_under_the_same_webhook_id() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    let receiver = Receiver::start(&[]);
    let (hook, secret) = endpoint(&app, &c.owner.company_id, &receiver.url());
    receiver
        .control(json!({"secrets": [secret.expose()], "fail": 2}))
        .await;
    create_user(&app, &c.key, "Nia", "member").await;

    let first = app.deliver_webhooks().await;
    assert_eq!((first.attempted, first.retrying), (1, 1), "{first:?}");
    // Not due again before the first wait (5 s) has passed.
    assert_eq!(app.deliver_webhooks().await.attempted, 0);
    assert!(app.clock.advance(BACKOFF[0]));
    assert_eq!(app.deliver_webhooks().await.retrying, 1);
    // The second wait is 5 minutes.
    assert!(app.clock.advance(Duration::minutes(4)));
    assert_eq!(app.deliver_webhooks().await.attempted, 0);
    assert!(app.clock.advance(Duration::minutes(1)));
    let third = app.deliver_webhooks().await;
    assert_eq!(third.succeeded, 1, "{third:?}");

    let requests = receiver.requests().await;
    assert_eq!(requests.len(), 3);
    let ids: Vec<&str> = requests.iter().filter_map(|r| r["id"].as_str()).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "same webhook-id: {ids:?}"
    );
    assert!(requests.iter().all(|r| r["verified"] == true));
    assert_eq!(receiver.deliveries().await.len(), 1);

    let all = deliveries(&app, &hook.id);
    assert_eq!(all.len(), 1);
    let delivery = &all[0];
    assert_eq!(delivery.state, DeliveryState::Succeeded);
    assert_eq!(delivery.attempts, 3);
    assert_eq!(delivery.event_id.as_str(), ids[0]);
    let tried = attempts(&app, delivery);
    let statuses: Vec<Option<i32>> = tried.iter().map(|a| a.status_code).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(200)]);
    assert!(tried[0]
        .response_excerpt
        .as_deref()
        .is_some_and(|e| e.contains("failing on purpose")));
    assert!(tried.iter().all(|a| a.latency_ms >= 0));
    assert!(
        tried[1].attempted_at - tried[0].attempted_at >= BACKOFF[0],
        "the second attempt waited"
    );
    assert!(endpoint_now(&app, &hook.id).failing_since.is_none());
}

#[actix_web::test]
async fn retries_run_out_after_about_a_day() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    let receiver = Receiver::start(&[]);
    let (hook, secret) = endpoint(&app, &c.owner.company_id, &receiver.url());
    receiver
        .control(json!({"secrets": [secret.expose()], "fail": 1000}))
        .await;
    create_user(&app, &c.key, "Nia", "member").await;

    assert_eq!(app.deliver_webhooks().await.retrying, 1);
    for wait in BACKOFF.iter().take(BACKOFF.len() - 1) {
        assert!(app.clock.advance(*wait));
        assert_eq!(app.deliver_webhooks().await.retrying, 1);
    }
    assert!(app.clock.advance(BACKOFF[BACKOFF.len() - 1]));
    let last = app.deliver_webhooks().await;
    assert_eq!((last.attempted, last.failed), (1, 1), "{last:?}");
    let delivery = &deliveries(&app, &hook.id)[0];
    assert_eq!(delivery.state, DeliveryState::Failed);
    assert_eq!(delivery.attempts as usize, BACKOFF.len() + 1);
    assert!(delivery.completed_at.is_some());
    assert_eq!(receiver.requests().await.len(), BACKOFF.len() + 1);
    // About a day of failures does not disable the endpoint (that takes 3 days).
    assert!(endpoint_now(&app, &hook.id).enabled);
}

#[actix_web::test]
async fn three_days_of_failures_disable_the_endpoint_and_mail_the_admins() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    let receiver = Receiver::start(&[]);
    let (hook, secret) = endpoint(&app, &c.owner.company_id, &receiver.url());
    receiver
        .control(json!({"secrets": [secret.expose()], "fail": 1000}))
        .await;
    create_user(&app, &c.key, "Nia", "member").await;
    app.deliver_webhooks().await;
    let since = endpoint_now(&app, &hook.id).failing_since.expect("failing");

    // Short of 3 days: still on.
    assert!(app.clock.advance(Duration::days(3) - Duration::minutes(1)));
    create_user(&app, &c.key, "Noa", "member").await;
    app.deliver_webhooks().await;
    let now = endpoint_now(&app, &hook.id);
    assert!(now.enabled);
    assert_eq!(
        now.failing_since,
        Some(since),
        "the run of failures goes on"
    );
    assert!(mails_to_besides_confirmation(&app, &c.owner.email)
        .iter()
        .all(|m| !m.contains("disabled")));

    assert!(app.clock.advance(Duration::minutes(2)));
    create_user(&app, &c.key, "Ned", "member").await;
    let report = app.deliver_webhooks().await;
    assert_eq!(report.endpoints_disabled, 1, "{report:?}");
    let off = endpoint_now(&app, &hook.id);
    assert!(!off.enabled);
    assert!(off.disabled_at.is_some());
    assert!(off.disabled_reason.is_some());
    assert!(deliveries(&app, &hook.id)
        .iter()
        .all(|d| d.state == DeliveryState::Failed));
    let mails = mails_to_besides_confirmation(&app, &c.owner.email);
    assert!(
        mails
            .iter()
            .any(|m| m.contains("disabled") && m.contains(&receiver.url())),
        "{mails:?}"
    );
    assert_eq!(
        company_events(&app, &c.owner.company_id, "webhook.disabled").len(),
        1
    );

    // A disabled endpoint gets nothing more.
    let before = receiver.requests().await.len();
    create_user(&app, &c.key, "Nell", "member").await;
    assert!(app.clock.advance(Duration::days(1)));
    assert_eq!(app.deliver_webhooks().await.attempted, 0);
    assert_eq!(receiver.requests().await.len(), before);
}

/// A success ends the run of failures: failures before it do not count towards the 3 days.
#[actix_web::test]
async fn a_success_ends_the_run_of_failures() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    let receiver = Receiver::start(&[]);
    let (hook, secret) = endpoint(&app, &c.owner.company_id, &receiver.url());
    receiver
        .control(json!({"secrets": [secret.expose()], "fail": 1}))
        .await;
    create_user(&app, &c.key, "Nia", "member").await;
    app.deliver_webhooks().await;
    assert!(endpoint_now(&app, &hook.id).failing_since.is_some());
    assert!(app.clock.advance(BACKOFF[0]));
    assert_eq!(app.deliver_webhooks().await.succeeded, 1);
    assert!(endpoint_now(&app, &hook.id).failing_since.is_none());

    receiver.control(json!({"fail": 1})).await;
    assert!(app.clock.advance(Duration::days(4)));
    create_user(&app, &c.key, "Noa", "member").await;
    let report = app.deliver_webhooks().await;
    assert_eq!((report.retrying, report.endpoints_disabled), (1, 0));
    assert!(endpoint_now(&app, &hook.id).enabled);
}

/// Deliveries to an endpoint deleted (or switched off) meanwhile fail without an attempt.
#[actix_web::test]
async fn deliveries_to_a_deleted_endpoint_are_never_attempted() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    let receiver = Receiver::start(&[]);
    let (hook, secret) = endpoint(&app, &c.owner.company_id, &receiver.url());
    receiver
        .control(json!({"secrets": [secret.expose()]}))
        .await;
    create_user(&app, &c.key, "Nia", "member").await;
    delete_endpoint(&app, &hook, app.clock.now());

    let report = app.deliver_webhooks().await;
    assert_eq!((report.attempted, report.failed), (0, 1), "{report:?}");
    assert!(receiver.requests().await.is_empty());
    let delivery = &deliveries(&app, &hook.id)[0];
    assert_eq!(delivery.state, DeliveryState::Failed);
    assert!(attempts(&app, delivery).is_empty());
}
