//! Each event type, caused through the product, reaches a receiver that verifies it with the
//! official library; the payload names what changed and never a secret. A change that rolls
//! back leaves no event.

use std::collections::BTreeSet;

use meetergo_console::domain::{AuditKind, UserId};
use meetergo_console::error::AppError;
use meetergo_console::services::audit::{self, Event, Origin};
use meetergo_console::webhooks::emit::Subject;
use serde_json::json;

use super::support::{company, endpoint, events, of_type, Receiver};
use crate::helpers::fixtures::{secret_part, signed_in_user};
use crate::helpers::html::link_path;
use crate::helpers::{email, RequestHelper, TestApp, PASSWORD};

#[actix_web::test]
async fn every_event_type_reaches_the_receiver_signed_and_verified() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    let receiver = Receiver::start(&[]);
    let (_, secret) = endpoint(&app, &c.owner.company_id, &receiver.url());
    receiver
        .control(json!({"secrets": [secret.expose()]}))
        .await;

    // new_employee: the API creates Nia; credential_created: Nia's token, the owner's token
    // and a key that will expire soon.
    let nia = signed_in_user(&app, &c.key, "Nia", "member").await;
    let nias_token = nia.browser.create_pat("Nia sync", "90").await;
    let owners_token = c.owner.browser.create_pat("Sync", "90").await;
    let expiring_key = c.owner.browser.create_api_key("Expiring", "30").await;
    // credential_revoked: the owner's token is reported leaked.
    let r = app
        .anonymous()
        .post_json(
            "/v4/credentials/revoke",
            &json!({"credentials": [owners_token]}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    // employee_offboarded, and credential_revoked for Nia's token: the API removes Nia.
    let r = app
        .token(&c.key)
        .acting_as(&c.owner.id)
        .delete(&format!("/v4/user/{}", nia.id))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);

    let report = app.deliver_webhooks().await;
    assert_eq!(report.attempted, 7, "{report:?}");
    assert_eq!(report.succeeded, 7, "{report:?}");

    // credential_expiring: the expiry reminders, 14 days before the key expires.
    assert!(app.clock.advance(chrono::Duration::days(17)));
    let jobs = app.run_jobs().await;
    assert_eq!(jobs.webhooks.succeeded, 1, "{jobs:?}");

    let delivered = receiver.deliveries().await;
    assert!(
        receiver
            .requests()
            .await
            .iter()
            .all(|r| r["verified"] == true),
        "every request verified"
    );
    for d in &delivered {
        assert_eq!(d["body"]["webhookType"], d["type"]);
        let text = d["body"].to_string();
        for secret in [&nias_token, &owners_token, &expiring_key, &c.key] {
            assert!(!text.contains(secret_part(secret)), "no secret in {text}");
        }
        assert!(!text.contains("hash"), "no hash in {text}");
    }

    let joined = of_type(&delivered, "new_employee");
    assert_eq!(joined.len(), 1, "{delivered:?}");
    let body = &joined[0]["body"];
    assert_eq!(body["userId"], nia.id.as_str());
    assert_eq!(body["email"], nia.email.as_str());
    assert_eq!(body["name"], "Nia");
    assert_eq!(body["role"], "member");
    assert_eq!(body["companyId"], c.owner.company_id.as_str());
    assert_eq!(body["source"], "api");

    let created = of_type(&delivered, "credential_created");
    let names: BTreeSet<&str> = created
        .iter()
        .filter_map(|d| d["body"]["name"].as_str())
        .collect();
    assert_eq!(names, BTreeSet::from(["Expiring", "Nia sync", "Sync"]));
    let key = created
        .iter()
        .find(|d| d["body"]["name"] == "Expiring")
        .expect("the key's event");
    assert_eq!(key["body"]["kind"], "platform_api_key");
    assert_eq!(key["body"]["ownerId"], c.owner.id.as_str());
    assert!(key["body"]["prefix"]
        .as_str()
        .is_some_and(|p| !p.is_empty()));
    assert!(key["body"]["expiresAt"].as_str().is_some());

    let revoked = of_type(&delivered, "credential_revoked");
    let reasons: BTreeSet<(&str, &str)> = revoked
        .iter()
        .filter_map(|d| Some((d["body"]["name"].as_str()?, d["body"]["reason"].as_str()?)))
        .collect();
    assert_eq!(
        reasons,
        BTreeSet::from([("Nia sync", "offboarding"), ("Sync", "reported_leaked")])
    );
    assert!(revoked
        .iter()
        .all(|d| d["body"]["kind"] == "personal_access_token"));

    let left = of_type(&delivered, "employee_offboarded");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["body"]["userId"], nia.id.as_str());
    assert_eq!(left[0]["body"]["source"], "api");

    let expiring = of_type(&delivered, "credential_expiring");
    assert_eq!(expiring.len(), 1, "{delivered:?}");
    assert_eq!(expiring[0]["body"]["name"], "Expiring");
    assert_eq!(expiring[0]["body"]["daysLeft"], 14);

    // The webhook-id of each delivery is its event's id in the outbox, each delivered once.
    let sent: Vec<&str> = delivered.iter().filter_map(|d| d["id"].as_str()).collect();
    let stored: BTreeSet<String> = events(&app, &c.owner.company_id)
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(sent.len(), stored.len());
    assert_eq!(
        sent.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>(),
        stored
    );
}

/// The outbox row is written by the audit record inside the service's transaction: the same
/// record committed writes an event, rolled back writes none.
#[actix_web::test]
async fn a_change_that_rolls_back_leaves_no_event() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    let receiver = Receiver::start(&[]);
    let (_, secret) = endpoint(&app, &c.owner.company_id, &receiver.url());
    receiver
        .control(json!({"secrets": [secret.expose()]}))
        .await;
    let record = |fail: bool| {
        let company = c.owner.company_id.parse().expect("company id");
        let user: UserId = c.owner.id.parse().expect("user id");
        app.db.transaction(move |tx| {
            audit::record(
                tx,
                &Origin::default(),
                Event::new(AuditKind::InvitationAccepted)
                    .company(&company)
                    .actor(&user)
                    .subject(Subject::Person(user.clone())),
            )?;
            if fail {
                return Err(AppError::NotFound);
            }
            Ok(())
        })
    };

    assert!(record(true).await.is_err());
    assert!(events(&app, &c.owner.company_id).is_empty(), "rolled back");
    let report = app.deliver_webhooks().await;
    assert_eq!(report.attempted, 0);
    assert!(receiver.requests().await.is_empty());

    record(false).await.expect("commits");
    let stored = events(&app, &c.owner.company_id);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1, "new_employee");
    app.deliver_webhooks().await;
    let delivered = receiver.deliveries().await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0]["id"], stored[0].0.as_str());
    assert_eq!(delivered[0]["body"]["source"], "invitation");
}

/// `new_employee` from an invitation and from the company's identity provider (SCIM), and
/// `employee_offboarded` when the IdP deprovisions the person: each says where it came from.
#[actix_web::test]
async fn invitations_and_scim_send_people_events_with_their_source() {
    let app = TestApp::spawn().await;
    let c = company(&app).await;
    let receiver = Receiver::start(&[]);
    let (_, secret) = endpoint(&app, &c.owner.company_id, &receiver.url());
    receiver
        .control(json!({"secrets": [secret.expose()]}))
        .await;

    let invitee = email("ines");
    let link = c.owner.browser.invite(&invitee, "admin").await;
    let r = app
        .browser()
        .post_form(
            &link_path(&link),
            &[("name", "Ines"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let scim_secret = crate::scim::generate_secret(&c.owner).await;
    let created = crate::scim::create(&app, &scim_secret, &email("sam"), "Sam").await;
    let sam = created["id"].as_str().expect("SCIM id").to_owned();
    let r = crate::scim::idp(&app, &scim_secret)
        .delete(&format!("/scim/v2/Users/{sam}"))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);

    app.deliver_webhooks().await;
    let delivered = receiver.deliveries().await;
    let joined = of_type(&delivered, "new_employee");
    let sources: BTreeSet<(&str, &str)> = joined
        .iter()
        .filter_map(|d| Some((d["body"]["email"].as_str()?, d["body"]["source"].as_str()?)))
        .collect();
    let sam_email = created["userName"].as_str().expect("userName");
    assert_eq!(
        sources,
        BTreeSet::from([(invitee.as_str(), "invitation"), (sam_email, "scim")])
    );
    let ines = joined
        .iter()
        .find(|d| d["body"]["email"] == invitee.as_str())
        .expect("Ines");
    assert_eq!(ines["body"]["role"], "admin");
    let left = of_type(&delivered, "employee_offboarded");
    assert_eq!(left.len(), 1, "{delivered:?}");
    assert_eq!(left[0]["body"]["email"], sam_email);
    assert_eq!(left[0]["body"]["source"], "scim");
}
