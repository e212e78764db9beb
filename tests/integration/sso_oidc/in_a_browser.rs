//! OpenID sign-in in a real browser: the provider's button, its login form, and back signed in.

use crate::helpers::chrome::{chromium, click, find, text_of, wait_for_path};
use crate::helpers::db::user_by_email;
use crate::helpers::TestApp;

use super::identities_of;

#[actix_web::test]
async fn oidc_sign_in_in_a_browser() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let (_driver, c) = chromium().await;
    c.goto(&app.url("/login")).await.expect("open /login");
    click(&c, "oidc-okta").await;
    // The provider's login form.
    let field = find(&c, "#login").await;
    let at = c.current_url().await.expect("current url");
    assert!(
        at.as_str().starts_with(&provider.issuer),
        "at the provider: {at}"
    );
    field.clear().await.expect("clear login");
    field.send_keys("carla").await.expect("type login");
    find(&c, "#submit")
        .await
        .click()
        .await
        .expect("submit login");
    wait_for_path(&c, "/dashboard").await;
    let at = c.current_url().await.expect("current url");
    assert!(
        at.as_str().starts_with(&app.address),
        "back at the app: {at}"
    );
    assert_eq!(text_of(&c, "dashboard-title").await, "Welcome, carla");
    let carla = user_by_email(&app, "carla@example.com").expect("carla");
    assert_eq!(identities_of(&app, carla.id.as_str()).len(), 1);
    c.close().await.expect("close browser session");
}
