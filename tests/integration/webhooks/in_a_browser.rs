//! Settings → Webhooks in a headless Chromium: an owner adds an endpoint, copies its signing
//! secret from the one page that shows it, and finds the endpoint in the list.

use crate::helpers::chrome::{
    by_testid, chromium, click, count, fill, sign_up, testid, text_of, wait_for_path,
};
use crate::helpers::{email, TestApp};

#[actix_web::test]
async fn an_owner_adds_a_webhook_in_a_browser() {
    let app = TestApp::spawn().await;
    let (_driver, c) = chromium().await;
    sign_up(&c, &app, "Hook Browser Co", "Bo Owner", &email("bo")).await;

    c.goto(&app.url("/settings")).await.expect("open settings");
    click(&c, "settings-nav-webhooks").await;
    wait_for_path(&c, "/settings/webhooks").await;
    by_testid(&c, "webhooks-empty").await;
    click(&c, "webhook-create").await;
    wait_for_path(&c, "/settings/webhooks/new").await;
    fill(
        &c,
        "webhook-endpoint-input",
        "https://hooks.example.com/console",
    )
    .await;
    fill(&c, "webhook-description-input", "CRM").await;
    click(&c, "event-new_employee").await;
    click(&c, "webhook-save").await;
    // The answer to the form is the list with the secret on top (`text_of` waits for it).
    let secret = text_of(&c, "new-token").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(count(&c, &testid("webhook-row")).await, 1);
    assert!(text_of(&c, "webhook-endpoint")
        .await
        .contains("https://hooks.example.com/console"));
    assert_eq!(text_of(&c, "webhook-events").await, "new_employee");

    // Shown once: the list, opened again, has the row and not the secret.
    c.goto(&app.url("/settings/webhooks"))
        .await
        .expect("reload");
    assert_eq!(count(&c, &testid("webhook-row")).await, 1);
    assert_eq!(count(&c, &testid("new-token")).await, 0);
    let page = c.source().await.expect("page source");
    assert!(!page.contains(&secret));
}
