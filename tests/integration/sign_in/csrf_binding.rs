//! CSRF tokens are bound to the session and change at sign-in; a POST a browser marks as
//! cross-site, or sends from another origin, is refused whatever its token.

use reqwest::Method;

use crate::helpers::fixtures::sign_up;
use crate::helpers::{csrf_in, email, RequestHelper, TestApp};

#[actix_web::test]
async fn the_token_changes_at_sign_in_and_the_old_one_is_refused() {
    let app = TestApp::spawn().await;
    let address = email("bound");
    let person = sign_up(&app, "Bound Co", "Bo", &address).await;
    person.browser.logout().await;

    let before = csrf_in(&person.browser.get("/login").await.body).expect("a token");
    person.browser.sign_in(&address).await;
    let after = csrf_in(&person.browser.get("/dashboard").await.body).expect("a token");
    assert_ne!(before, after, "a new token after sign-in");

    let create = |token: &str| {
        person
            .browser
            .request(Method::POST, "/integrations/api/tokens")
            .form(&[("name", "x"), ("expiry", "30"), ("csrf_token", token)])
    };
    let r = person.browser.send(create(&before)).await;
    r.assert_status(403);
    assert!(r.body.contains("This form has expired"), "{}", r.body);
    person.browser.send(create(&after)).await.assert_status(303);

    // The next session of the same browser has another token again.
    person.browser.logout().await;
    person.browser.sign_in(&address).await;
    let third = csrf_in(&person.browser.get("/dashboard").await.body).expect("a token");
    assert_ne!(third, after);
    person.browser.send(create(&after)).await.assert_status(403);
}

#[actix_web::test]
async fn cross_site_posts_are_refused_and_same_origin_ones_pass() {
    let app = TestApp::spawn().await;
    let person = sign_up(&app, "Origin Co", "Ori", &email("origin")).await;
    let b = &person.browser;
    let token = b.csrf_token().await;
    let post_named = |name: &str| {
        let form = [
            ("name", name),
            ("expiry", "30"),
            ("csrf_token", token.as_str()),
        ];
        b.request(Method::POST, "/integrations/api/tokens")
            .form(&form)
    };
    let post = || post_named("x");

    let r = b.send(post().header("sec-fetch-site", "cross-site")).await;
    r.assert_status(403);
    let r = b
        .send(post().header("origin", "https://evil.example"))
        .await;
    r.assert_status(403);
    let r = b.send(post().header("origin", "null")).await;
    r.assert_status(403);

    let r = b
        .send(
            post_named("same origin")
                .header("origin", app.address.as_str())
                .header("sec-fetch-site", "same-origin"),
        )
        .await;
    // Accepted: the redirect of post/redirect/get to the new token's one display.
    r.assert_status(303);
    // Clients that send neither header (scripts, the test client) rely on the token alone.
    b.send(post_named("no headers")).await.assert_status(303);
    // The JSON API is not a form target: bearer tokens, no CSRF.
    let pat = b.create_pat("api", "30").await;
    let r = app
        .token(&pat)
        .send(
            app.token(&pat)
                .request(Method::GET, "/v4/user/me")
                .header("origin", "https://evil.example"),
        )
        .await;
    r.assert_status(200);
}
