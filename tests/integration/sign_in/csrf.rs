//! CSRF: a POST without this browser's token, or with another browser's, is refused and changes
//! nothing, signed in or not.

use reqwest::Method;

use crate::helpers::db::{count_sessions, count_users};
use crate::helpers::{csrf_in, email, RequestHelper, TestApp, PASSWORD};

#[actix_web::test]
async fn posts_without_or_with_a_foreign_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let who = email("csrf");
    let signup = [
        ("company_name", "C"),
        ("name", "N"),
        ("email", who.as_str()),
        ("password", PASSWORD),
    ];
    // No token at all.
    let r = browser
        .send(browser.request(Method::POST, "/signup").form(&signup))
        .await;
    assert_eq!(r.status, 403);
    // Another browser's token.
    let foreign = csrf_in(&app.browser().get("/signup").await.body).unwrap();
    browser.get("/signup").await; // our own cookie exists
    let mut with_foreign = signup.to_vec();
    with_foreign.push(("csrf_token", foreign.as_str()));
    let r = browser
        .send(browser.request(Method::POST, "/signup").form(&with_foreign))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(count_users(&app), 0, "refused POSTs changed nothing");
    assert_eq!(
        count_sessions(&app),
        0,
        "anonymous visitors create no server-side session"
    );

    // Signed in: a state change without the token is refused too.
    browser.signup("Csrf Co", "C", &who).await;
    let create = browser
        .request(Method::POST, "/integrations/api/tokens")
        .form(&[("name", "x"), ("expiry", "30")]);
    assert_eq!(browser.send(create).await.status, 403);
    let logout = browser.request(Method::POST, "/logout");
    assert_eq!(browser.send(logout).await.status, 403);
    assert_eq!(
        browser.get("/dashboard").await.status,
        200,
        "still signed in"
    );
}
