//! At least once across a crash, and once per worker: an instance that dies mid-delivery leaves
//! the delivery to the next after the lease, with the same webhook-id; two instances
//! delivering at the same moment send each event once.

use std::collections::BTreeMap;

use meetergo_console::webhooks::delivery::LEASE;
use meetergo_console::webhooks::DeliveryState;
use serde_json::json;

use super::support::{company, deliveries, endpoint, Receiver};
use crate::helpers::fixtures::create_user;
use crate::helpers::{TempDir, TestApp};

#[actix_web::test]
async fn a_delivery_cut_off_by_a_crash_is_sent_again_after_a_restart() {
    let first = TestApp::spawn().await;
    let c = company(&first).await;
    let receiver = Receiver::start(&[]);
    let (hook, secret) = endpoint(&first, &c.owner.company_id, &receiver.url());
    receiver
        .control(json!({"secrets": [secret.expose()], "hang": true}))
        .await;
    create_user(&first, &c.key, "Nia", "member").await;

    // The delivery is in flight (the receiver holds it) when the instance dies: its round is
    // dropped mid-request and the server stopped, as a killed process would leave things.
    let jobs = first.jobs();
    let round = actix_web::rt::spawn(async move { jobs.deliver_webhooks().await });
    receiver.wait_hanging(1).await;
    round.abort();
    assert!(round.await.is_err(), "the round was cut off");
    first.shut_down().await;
    receiver.control(json!({"hang": false})).await;
    let cut_off = receiver.requests().await;
    assert_eq!(cut_off.len(), 1, "the receiver saw the first request");
    let hook_id = cut_off[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        deliveries(&first, &hook.id)[0].state,
        DeliveryState::Pending
    );

    // A new instance on the same database: nothing while the lease lasts, then the delivery.
    let second =
        TestApp::spawn_on(TempDir::new(), first.settings.database_url.clone(), |_| {}).await;
    assert_eq!(second.deliver_webhooks().await.attempted, 0, "leased");
    assert!(second.clock.advance(LEASE + chrono::Duration::seconds(1)));
    let report = second.deliver_webhooks().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    let delivered = receiver.deliveries().await;
    // The cut-off request may also have been answered after the hang ended; either way the
    // event arrived, and always under its one webhook-id.
    assert!(!delivered.is_empty());
    assert!(delivered.iter().all(|d| d["id"] == hook_id.as_str()));
    let delivery = &deliveries(&second, &hook.id)[0];
    assert_eq!(delivery.state, DeliveryState::Succeeded);
    assert_eq!(delivery.event_id.as_str(), hook_id);
}

#[actix_web::test]
async fn two_instances_delivering_at_once_send_each_event_once() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn_on(TempDir::new(), a.settings.database_url.clone(), |_| {}).await;
    let c = company(&a).await;
    let receiver = Receiver::start(&[]);
    let (_, secret) = endpoint(&a, &c.owner.company_id, &receiver.url());
    receiver
        .control(json!({"secrets": [secret.expose()]}))
        .await;
    for i in 0..12 {
        create_user(&a, &c.key, &format!("Person{i}"), "member").await;
    }

    let (ra, rb) = tokio::join!(a.deliver_webhooks(), b.deliver_webhooks());
    assert_eq!(ra.succeeded + rb.succeeded, 12, "{ra:?} {rb:?}");
    let requests = receiver.requests().await;
    assert_eq!(requests.len(), 12);
    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    for r in &requests {
        *per_id
            .entry(r["id"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    assert_eq!(per_id.len(), 12);
    assert!(per_id.values().all(|n| *n == 1), "{per_id:?}");
}

/// The server's own loop (`WEBHOOK_POLL_INTERVAL_MS`) delivers without a job round.
#[actix_web::test]
async fn the_servers_delivery_loop_sends_without_a_job_round() {
    let app = TestApp::spawn_with(|s| {
        s.webhook_poll_interval = Some(std::time::Duration::from_millis(50));
    })
    .await;
    let c = company(&app).await;
    let receiver = Receiver::start(&[]);
    let (_, secret) = endpoint(&app, &c.owner.company_id, &receiver.url());
    receiver
        .control(json!({"secrets": [secret.expose()]}))
        .await;
    create_user(&app, &c.key, "Nia", "member").await;
    for _ in 0..200 {
        if !receiver.deliveries().await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let delivered = receiver.deliveries().await;
    assert_eq!(delivered.len(), 1, "delivered by the loop");
    assert_eq!(delivered[0]["type"], "new_employee");
}
