//! A personal access token is shown once, at creation, and its revocation is immediate.

use serde_json::json;

use crate::helpers::db::pat_id;
use crate::helpers::fixtures::{secret_part, sign_up};
use crate::helpers::html::new_secret_in;
use crate::helpers::{email, RequestHelper, TestApp};

#[actix_web::test]
async fn a_pat_is_shown_once_at_creation() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Once", "On Ce", &email("once")).await;
    let browser = &owner.browser;

    let r = browser
        .post_form(
            "/integrations/api/tokens",
            &[("name", "CI"), ("expiry", "30")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("cache-control"),
        Some("no-store"),
        "the page with the secret is not cached"
    );
    let token = new_secret_in(&r.body).expect("shown at creation");
    assert!(token.starts_with("rgo-"));

    for page in ["/integrations/api", "/integrations", "/dashboard"] {
        let r = browser.get(page).await;
        assert_eq!(r.status, 200, "{page}");
        assert!(!r.body.contains(&token), "{page} shows the token again");
        assert!(
            !r.body.contains(secret_part(&token)),
            "{page} shows its secret"
        );
    }
    let html = browser.get("/integrations/api").await.body;
    let shown_prefix: String = token.chars().take(10).collect();
    assert!(
        html.contains(&shown_prefix),
        "the list identifies it by prefix"
    );
    assert!(!html.contains("data-testid=\"new-token\""));

    // A second token's page shows only the second token.
    let second = browser.create_pat("CD", "30").await;
    assert_ne!(second, token);

    let r = app.token(&token).get("/v4/user/me").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], json!(owner.id));
}

#[actix_web::test]
async fn revoking_a_pat_refuses_it_at_once_and_leaves_the_others() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Once", "On Ce", &email("once")).await;
    let browser = &owner.browser;
    let token = browser.create_pat("CI", "30").await;
    let second = browser.create_pat("CD", "30").await;
    let r = app.token(&token).get("/v4/user/me").await;
    assert_eq!(r.status, 200);

    let id = pat_id(&app, &owner.id, "CI");
    let r = browser
        .post_form(&format!("/integrations/api/tokens/{id}/revoke"), &[])
        .await;
    r.assert_redirect("/integrations/api");
    let r = app.token(&token).get("/v4/user/me").await;
    assert_eq!(r.status, 401, "revoked means at once");
    assert_eq!(r.code(), "invalid_credential");
    let html = browser.get("/integrations/api").await.body;
    assert!(html.contains(&format!("data-token-id=\"{id}\" data-status=\"revoked\"")));
    let r = app.token(&second).get("/v4/user/me").await;
    assert_eq!(r.status, 200, "the other token is untouched");
}
