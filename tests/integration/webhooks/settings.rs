//! Settings → Webhooks through its forms (with CSRF): create with the secret shown once, edit,
//! switch off and on, delete and rotate behind confirmation pages, field errors, the limit,
//! members kept out; the delivery log with its attempts, "Redeliver" and "Send test event".

use chrono::NaiveDateTime;
use diesel::prelude::*;
use meetergo_console::auth::keys::Keys;
use meetergo_console::db::schema::{
    webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_events,
};
use meetergo_console::domain::{CompanyId, WebhookEndpointId};
use meetergo_console::webhooks::secret::SigningSecret;
use meetergo_console::webhooks::{outbox, WebhookEventType};

use crate::helpers::db::{company_events, conn};
use crate::helpers::fixtures::{sign_up, signed_in_user};
use crate::helpers::html::{new_secret_in, testid_text};
use crate::helpers::{email, Person, RequestHelper, TestApp};

use super::stored_endpoint;

const HOOK: &str = "https://hooks.example.com/console";

/// Adds an endpoint through the form; returns its id and the secret shown.
async fn add(owner: &Person, url: &str) -> (String, String) {
    let r = owner
        .browser
        .post_form(
            "/settings/webhooks/new",
            &[
                ("endpoint", url),
                ("description", "CRM sync"),
                ("event_types", "new_employee"),
                ("event_types", "credential_revoked"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let secret = new_secret_in(&r.body).expect("the signing secret is shown");
    let marker = "data-webhook-id=\"";
    let rows: Vec<&str> = r.body.split(marker).skip(1).collect();
    let row = rows
        .iter()
        .find(|row| row.contains(url))
        .expect("the new row");
    (row.split('"').next().expect("id").to_owned(), secret)
}

fn rows(html: &str) -> usize {
    html.matches("data-testid=\"webhook-row\"").count()
}

#[actix_web::test]
async fn an_owner_creates_edits_switches_and_deletes_a_webhook() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Pages Co", "Olga Owner", &email("pages")).await;
    let page = owner.browser.get("/settings/webhooks").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-testid=\"webhooks-empty\""));
    assert!(page.body.contains("data-testid=\"webhook-create\""));
    assert!(
        page.body.contains("href=\"/settings/webhooks\""),
        "in the settings navigation"
    );
    let form = owner.browser.get("/settings/webhooks/new").await;
    assert_eq!(form.status, 200);
    assert!(form
        .body
        .contains("data-testid=\"event-employee_offboarded\""));
    assert!(!form.body.contains("data-testid=\"event-test\""));

    let (id, secret) = add(&owner, HOOK).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let stored = stored_endpoint(&app, &id);
    assert_eq!(stored.event_types, "new_employee,credential_revoked");
    let keys = Keys::derive(app.settings.secret_key_bytes());
    let decrypted =
        SigningSecret::decrypt(&keys, &id, &stored.secret_encrypted).map(|s| s.expose().to_owned());
    assert_eq!(decrypted.as_deref(), Some(secret.as_str()));

    // Shown once: the list has the row and the prefix, never the secret.
    let page = owner.browser.get("/settings/webhooks").await;
    assert_eq!(rows(&page.body), 1);
    assert!(!page.body.contains(&secret));
    assert_eq!(testid_text(&page.body, "new-token"), None);
    assert_eq!(
        testid_text(&page.body, "webhook-secret-prefix"),
        Some(stored.secret_prefix.clone())
    );
    assert_eq!(
        testid_text(&page.body, "webhook-state").as_deref(),
        Some("enabled")
    );
    assert_eq!(
        testid_text(&page.body, "webhook-description").as_deref(),
        Some("CRM sync")
    );

    let edit = owner.browser.get(&format!("/settings/webhooks/{id}")).await;
    assert_eq!(edit.status, 200);
    assert!(edit.body.contains(HOOK));
    let r = owner
        .browser
        .post_form(
            &format!("/settings/webhooks/{id}"),
            &[
                ("endpoint", "https://hooks.example.com/v2"),
                ("description", ""),
                ("event_types", "employee_offboarded"),
            ],
        )
        .await;
    r.assert_redirect("/settings/webhooks");
    let stored = stored_endpoint(&app, &id);
    assert_eq!(stored.endpoint, "https://hooks.example.com/v2");
    assert_eq!(stored.description, None);
    assert_eq!(stored.event_types, "employee_offboarded");

    let r = owner
        .browser
        .post_form(&format!("/settings/webhooks/{id}/disable"), &[])
        .await;
    r.assert_redirect("/settings/webhooks");
    let page = owner.browser.get("/settings/webhooks").await;
    assert_eq!(
        testid_text(&page.body, "webhook-state").as_deref(),
        Some("disabled")
    );
    assert!(testid_text(&page.body, "webhook-disabled-reason")
        .is_some_and(|r| r.contains("Olga Owner")));
    // As if deliveries had been failing too: switching on forgets that run.
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(&id)))
        .set(webhook_endpoints::failing_since.eq(Some(app.clock.now())))
        .execute(&mut *conn(&app))
        .expect("failing");
    let r = owner
        .browser
        .post_form(&format!("/settings/webhooks/{id}/enable"), &[])
        .await;
    r.assert_redirect("/settings/webhooks");
    let stored = stored_endpoint(&app, &id);
    assert!(stored.enabled);
    assert_eq!((stored.disabled_at, stored.disabled_reason), (None, None));
    assert_eq!(stored.failing_since, None);

    let confirm = owner
        .browser
        .get(&format!("/settings/webhooks/{id}/delete"))
        .await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("data-testid=\"confirm-delete\""));
    let r = owner
        .browser
        .post_form(&format!("/settings/webhooks/{id}/delete"), &[])
        .await;
    r.assert_redirect("/settings/webhooks");
    assert!(stored_endpoint(&app, &id).deleted_at.is_some());
    let page = owner.browser.get("/settings/webhooks").await;
    assert_eq!(rows(&page.body), 0);
    let gone = owner.browser.get(&format!("/settings/webhooks/{id}")).await;
    assert_eq!(gone.status, 404);

    for kind in ["webhook.created", "webhook.updated", "webhook.deleted"] {
        assert!(
            !company_events(&app, &owner.company_id, kind).is_empty(),
            "{kind}"
        );
    }
}

#[actix_web::test]
async fn a_refused_form_comes_back_with_its_errors_beside_the_fields() {
    let app = TestApp::spawn_with(|s| s.webhook_allow_private_targets = false).await;
    let owner = sign_up(&app, "Errors Co", "Olga Owner", &email("errors")).await;
    let r = owner
        .browser
        .post_form(
            "/settings/webhooks/new",
            &[
                ("endpoint", "http://127.0.0.1/in"),
                ("description", "kept <b>as typed</b>"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(testid_text(&r.body, "error-endpoint").is_some_and(|e| e.contains("public")));
    assert!(testid_text(&r.body, "error-event_types").is_some());
    assert!(
        r.body.contains("value=\"http://127.0.0.1/in\""),
        "the URL is kept"
    );
    assert!(
        r.body.contains("kept &#60;b&#62;as typed&#60;/b&#62;")
            || r.body.contains("kept &lt;b&gt;as typed&lt;/b&gt;")
    );
    assert_eq!(new_secret_in(&r.body), None);

    // The limit, said at the top of the form.
    for i in 0..6 {
        add(&owner, &format!("{HOOK}/{i}")).await;
    }
    let page = owner.browser.get("/settings/webhooks").await;
    assert_eq!(rows(&page.body), 6);
    assert!(page.body.contains("data-testid=\"webhook-limit\""));
    let r = owner
        .browser
        .post_form(
            "/settings/webhooks/new",
            &[("endpoint", HOOK), ("event_types", "new_employee")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(testid_text(&r.body, "error-form").is_some_and(|e| e.contains("6 webhooks")));
}

#[actix_web::test]
async fn rotating_shows_the_new_secret_once_and_keeps_the_old_one_for_a_day() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Rotate Co", "Olga Owner", &email("rotate")).await;
    let (id, first) = add(&owner, HOOK).await;
    let before = stored_endpoint(&app, &id);

    let confirm = owner
        .browser
        .get(&format!("/settings/webhooks/{id}/rotate"))
        .await;
    assert_eq!(confirm.status, 200);
    assert!(testid_text(&confirm.body, "confirm-explanation")
        .is_some_and(|t| t.contains("24 hours") && t.contains("two signatures")));
    let r = owner
        .browser
        .post_form(&format!("/settings/webhooks/{id}/rotate"), &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let second = new_secret_in(&r.body).expect("the new secret is shown");
    assert!(second.starts_with("whsec_") && second != first);
    assert!(testid_text(&r.body, "regenerated-note").is_some());

    let after = stored_endpoint(&app, &id);
    assert_eq!(
        after.previous_secret_encrypted.as_deref(),
        Some(before.secret_encrypted.as_str())
    );
    let keys = Keys::derive(app.settings.secret_key_bytes());
    let current =
        SigningSecret::decrypt(&keys, &id, &after.secret_encrypted).map(|s| s.expose().to_owned());
    assert_eq!(current.as_deref(), Some(second.as_str()));
    let until = after.previous_secret_expires_at.expect("the overlap ends");
    let now = app.clock.now();
    assert!(
        until > now + chrono::Duration::hours(23) && until <= now + chrono::Duration::hours(24)
    );
    let page = owner.browser.get("/settings/webhooks").await;
    assert!(!page.body.contains(&second));
    let edit = owner.browser.get(&format!("/settings/webhooks/{id}")).await;
    assert!(edit
        .body
        .contains("data-testid=\"webhook-previous-secret\""));
    assert_eq!(
        company_events(&app, &owner.company_id, "webhook.secret_rotated").len(),
        1
    );
}

#[actix_web::test]
async fn members_are_kept_out_and_other_companies_ids_are_not_found() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Keep Co", "Olga Owner", &email("keep")).await;
    let key = owner.browser.create_api_key("setup", "30").await;
    let (id, _) = add(&owner, HOOK).await;
    let member = signed_in_user(&app, &key, "Mia", "member").await;
    for path in [
        "/settings/webhooks".to_owned(),
        "/settings/webhooks/new".to_owned(),
        format!("/settings/webhooks/{id}"),
        format!("/settings/webhooks/{id}/deliveries"),
    ] {
        assert_eq!(member.browser.get(&path).await.status, 403, "{path}");
    }
    let r = member
        .browser
        .post_form(&format!("/settings/webhooks/{id}/delete"), &[])
        .await;
    assert_eq!(r.status, 403);
    let page = member.browser.get("/dashboard").await;
    assert!(!page.body.contains("href=\"/settings/webhooks\""));
    let admin = signed_in_user(&app, &key, "Adam", "admin").await;
    assert_eq!(admin.browser.get("/settings/webhooks").await.status, 200);

    let other = sign_up(&app, "Other Co", "Otto Owner", &email("other")).await;
    for path in [
        format!("/settings/webhooks/{id}"),
        format!("/settings/webhooks/{id}/deliveries"),
        format!("/settings/webhooks/{id}/delete"),
    ] {
        assert_eq!(other.browser.get(&path).await.status, 404, "{path}");
    }
    let r = other
        .browser
        .post_form(&format!("/settings/webhooks/{id}/delete"), &[])
        .await;
    assert_eq!(r.status, 404);
    assert!(stored_endpoint(&app, &id).deleted_at.is_none());
}

/// A delivery of a `new_employee` event to the endpoint, written as the outbox does, failed
/// after two attempts as the worker would have recorded them.
fn failed_delivery(app: &TestApp, company: &str, endpoint: &str) -> (String, String) {
    let mut c = conn(app);
    let now = app.clock.now();
    let company: CompanyId = company.parse().expect("company id");
    let endpoint_id: WebhookEndpointId = endpoint.parse().expect("endpoint id");
    let event = outbox::enqueue_to(
        &mut c,
        &company,
        &endpoint_id,
        WebhookEventType::NewEmployee,
        serde_json::json!({"email": "new@example.com"}),
        now - chrono::Duration::hours(2),
    )
    .expect("enqueued");
    let delivery: String = webhook_deliveries::table
        .filter(webhook_deliveries::event_id.eq(event.as_str()))
        .select(webhook_deliveries::id)
        .first(&mut *c)
        .expect("the delivery");
    let attempts: [(NaiveDateTime, Option<i32>, &str, Option<&str>); 2] = [
        (
            now - chrono::Duration::hours(2),
            Some(500),
            "<script>alert(1)</script>oops",
            None,
        ),
        (
            now - chrono::Duration::hours(1),
            None,
            "",
            Some("connection refused"),
        ),
    ];
    for (at, status, excerpt, error) in attempts {
        diesel::insert_into(webhook_attempts::table)
            .values((
                webhook_attempts::id.eq(uuid::Uuid::new_v4().to_string()),
                webhook_attempts::delivery_id.eq(&delivery),
                webhook_attempts::attempted_at.eq(at),
                webhook_attempts::status_code.eq(status),
                webhook_attempts::latency_ms.eq(1234),
                webhook_attempts::response_excerpt.eq((!excerpt.is_empty()).then_some(excerpt)),
                webhook_attempts::error.eq(error),
            ))
            .execute(&mut *c)
            .expect("an attempt");
    }
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq(&delivery)))
        .set((
            webhook_deliveries::state.eq("failed"),
            webhook_deliveries::attempts.eq(2),
            webhook_deliveries::last_attempt_at.eq(Some(now - chrono::Duration::hours(1))),
            webhook_deliveries::completed_at.eq(Some(now - chrono::Duration::hours(1))),
            webhook_deliveries::locked_until.eq(Some(now - chrono::Duration::minutes(59))),
        ))
        .execute(&mut *c)
        .expect("failed");
    (event.to_string(), delivery)
}

#[actix_web::test]
async fn the_delivery_log_shows_attempts_and_redelivers_and_sends_a_test_event() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Log Co", "Olga Owner", &email("log")).await;
    let (id, _) = add(&owner, HOOK).await;
    let log_path = format!("/settings/webhooks/{id}/deliveries");
    let page = owner.browser.get(&log_path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-testid=\"deliveries-empty\""));

    let (event, delivery) = failed_delivery(&app, &owner.company_id, &id);
    let page = owner.browser.get(&log_path).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("data-testid=\"delivery-row\"").count(), 1);
    assert_eq!(
        testid_text(&page.body, "delivery-webhook-id"),
        Some(event.clone())
    );
    assert_eq!(
        testid_text(&page.body, "delivery-event-type").as_deref(),
        Some("new_employee")
    );
    assert_eq!(
        testid_text(&page.body, "delivery-state").as_deref(),
        Some("failed")
    );
    assert_eq!(
        testid_text(&page.body, "delivery-attempts").as_deref(),
        Some("2")
    );
    assert_eq!(
        testid_text(&page.body, "delivery-last").as_deref(),
        Some("no answer · 1234 ms")
    );
    assert_eq!(page.body.matches("data-testid=\"attempt-row\"").count(), 2);
    assert_eq!(
        testid_text(&page.body, "attempt-status").as_deref(),
        Some("500")
    );
    assert!(
        !page.body.contains("<script>alert(1)</script>"),
        "the answer is escaped"
    );
    assert_eq!(
        testid_text(&page.body, "attempt-excerpt").as_deref(),
        Some("<script>alert(1)</script>oops")
    );
    assert_eq!(
        testid_text(&page.body, "attempt-error").as_deref(),
        Some("connection refused")
    );

    let r = owner
        .browser
        .post_form(
            &format!("/settings/webhooks/deliveries/{delivery}/redeliver"),
            &[],
        )
        .await;
    r.assert_redirect(&log_path);
    let (state, next, locked, completed): (
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    ) = webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(&delivery))
        .select((
            webhook_deliveries::state,
            webhook_deliveries::next_attempt_at,
            webhook_deliveries::locked_until,
            webhook_deliveries::completed_at,
        ))
        .first(&mut *conn(&app))
        .expect("the delivery");
    assert_eq!(state, "pending");
    assert!(
        (next - app.clock.now()).num_seconds().abs() < 60,
        "due now: {next}"
    );
    assert_eq!((locked, completed), (None, None));
    let page = owner.browser.get(&log_path).await;
    assert!(page.body.contains("queued again"), "the flash says so");

    let r = owner
        .browser
        .post_form(&format!("/settings/webhooks/{id}/test"), &[])
        .await;
    r.assert_redirect(&log_path);
    let tests: Vec<(String, String)> = webhook_deliveries::table
        .inner_join(webhook_events::table)
        .filter(webhook_deliveries::endpoint_id.eq(&id))
        .filter(webhook_events::event_type.eq("test"))
        .select((webhook_deliveries::state, webhook_events::payload))
        .load(&mut *conn(&app))
        .expect("test deliveries");
    assert_eq!(tests.len(), 1);
    assert_eq!(tests[0].0, "pending");
    let payload: serde_json::Value = serde_json::from_str(&tests[0].1).expect("JSON");
    assert_eq!(payload["webhookType"], "test");
    assert!(!tests[0].1.contains("whsec_"));
    for kind in ["webhook.redelivered", "webhook.test_sent"] {
        assert_eq!(
            company_events(&app, &owner.company_id, kind).len(),
            1,
            "{kind}"
        );
    }

    // A switched-off endpoint is neither tested nor redelivered to.
    owner
        .browser
        .post_form(&format!("/settings/webhooks/{id}/disable"), &[])
        .await
        .assert_redirect("/settings/webhooks");
    let (state,): (String,) = webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(&delivery))
        .select((webhook_deliveries::state,))
        .first(&mut *conn(&app))
        .expect("the delivery");
    assert_eq!(state, "failed", "switching off gives up what was pending");
    let r = owner
        .browser
        .post_form(&format!("/settings/webhooks/{id}/test"), &[])
        .await;
    r.assert_redirect(&log_path);
    let page = owner.browser.get(&log_path).await;
    assert!(page.body.contains("switched off"), "the flash explains");
    assert_eq!(
        company_events(&app, &owner.company_id, "webhook.test_sent").len(),
        1
    );
}

#[actix_web::test]
async fn the_delivery_log_pages_by_fifty_newest_first() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Pager Co", "Olga Owner", &email("pager")).await;
    let (id, _) = add(&owner, HOOK).await;
    let company: CompanyId = owner.company_id.parse().expect("company id");
    let endpoint: WebhookEndpointId = id.parse().expect("endpoint id");
    let start = app.clock.now() - chrono::Duration::hours(1);
    let mut events = Vec::new();
    {
        let mut c = conn(&app);
        for i in 0..51 {
            let event = outbox::enqueue_to(
                &mut c,
                &company,
                &endpoint,
                WebhookEventType::NewEmployee,
                serde_json::json!({"n": i}),
                start + chrono::Duration::seconds(i),
            )
            .expect("enqueued");
            events.push(event.to_string());
        }
    }
    let path = format!("/settings/webhooks/{id}/deliveries");
    let first = owner.browser.get(&path).await;
    assert_eq!(
        first.body.matches("data-testid=\"delivery-row\"").count(),
        50
    );
    assert_eq!(
        testid_text(&first.body, "delivery-webhook-id"),
        events.last().cloned()
    );
    assert!(first.body.contains("data-testid=\"deliveries-older\""));
    let second = owner.browser.get(&format!("{path}?page=2")).await;
    assert_eq!(
        second.body.matches("data-testid=\"delivery-row\"").count(),
        1
    );
    assert_eq!(
        testid_text(&second.body, "delivery-webhook-id"),
        events.first().cloned()
    );
    let beyond = owner.browser.get(&format!("{path}?page=99")).await;
    assert_eq!(beyond.status, 200);
    let junk = owner.browser.get(&format!("{path}?page=abc")).await;
    assert_eq!(junk.status, 200);
}
