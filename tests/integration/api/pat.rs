//! A personal access token is shown once, at creation, and its revocation is immediate.

use serde_json::json;

use crate::helpers::db::pat_id;
use crate::helpers::fixtures::{secret_part, sign_up};
use crate::helpers::html::{new_secret_in, unescape};
use crate::helpers::{email, RequestHelper, TestApp};

#[actix_web::test]
async fn a_pat_is_shown_once_at_creation() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Once", "On Ce", &email("once")).await;
    let browser = &owner.browser;

    // Post/redirect/get: the POST answers with a redirect that carries no secret.
    let r = browser
        .post_form(
            "/integrations/api/tokens",
            &[("name", "CI"), ("expiry", "30")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let shown_at = r.location().to_owned();
    assert!(shown_at.starts_with("/integrations/api?new="), "{shown_at}");
    assert!(!r.body.contains("rgo-"), "no secret in the redirect");
    for cookie in r.set_cookies() {
        assert!(!cookie.contains("rgo-"), "no secret in a cookie: {cookie}");
    }
    let r = browser.get(&shown_at).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("cache-control"),
        Some("no-store"),
        "the page with the secret is not cached"
    );
    let token = new_secret_in(&r.body).expect("shown after the redirect");
    assert!(token.starts_with("rgo-"));
    assert!(
        !shown_at.contains(secret_part(&token)),
        "not in the address"
    );
    let expiry = words_of(&r.body, "new-secret-expiry");
    assert!(expiry.starts_with("It expires"), "{expiry}");

    // A reload shows it no more, and says so instead of an error.
    let again = browser.get(&shown_at).await;
    assert_eq!(again.status, 200);
    assert!(!again.body.contains(&token), "shown twice");
    assert!(!again.body.contains("data-testid=\"new-token\""));
    let gone = words_of(&again.body, "secret-gone");
    assert!(
        gone.contains("The token was shown once and is no longer displayed.")
            && gone.contains("Regenerate it if you did not copy it."),
        "{gone}"
    );
    assert!(!again.body.contains("already have a token with this name"));

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

/// The words of the paragraph with this testid, tags left out.
fn words_of(html: &str, testid: &str) -> String {
    let at = html
        .find(&format!("data-testid=\"{testid}\""))
        .unwrap_or_else(|| panic!("no {testid} in {html}"));
    let rest = html.get(at..).expect("rest");
    let inner = rest
        .get(rest.find('>').expect("tag end") + 1..rest.find("</p>").expect("paragraph end"))
        .expect("inner");
    let mut words = String::new();
    let mut in_tag = false;
    for c in inner.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => words.push(c),
            _ => {}
        }
    }
    unescape(
        words
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .as_str(),
    )
}
