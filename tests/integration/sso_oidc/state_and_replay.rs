//! The state binds the answer to the browser that started the sign-in, once: a tampered state,
//! the answer in another browser, a replayed callback and a redeemed code are refused.

use crate::helpers::db::user_by_email;
use crate::helpers::{RequestHelper, TestApp};

use super::flow::{at_provider, callback, param, start, with_param};
use super::{assert_refusal, before, NOT_THIS_BROWSER, NOT_VERIFIED};

#[actix_web::test]
async fn a_tampered_state_or_a_callback_in_another_browser_is_refused() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;

    // Wrong state.
    let browser = app.browser();
    let authorize = start(&provider, &browser, "").await;
    let back = at_provider(&app, &provider, &authorize, "sam").await;
    let tampered = with_param(&back, "state", &"ab".repeat(24));
    let was = before(&app);
    let r = callback(&browser, &tampered).await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        NOT_THIS_BROWSER,
        "state does not match",
    )
    .await;

    // The same answer opened in another browser: without the binding cookie, and with a
    // binding cookie of its own.
    let stranger = app.browser();
    let was = before(&app);
    let r = callback(&stranger, &back).await;
    assert_refusal(
        &app,
        &stranger,
        was,
        &r,
        "This sign-in link is not valid.",
        "without code, state or browser binding",
    )
    .await;
    let other = app.browser();
    start(&provider, &other, "").await;
    let was = before(&app);
    let r = callback(&other, &back).await;
    assert_refusal(
        &app,
        &other,
        was,
        &r,
        NOT_THIS_BROWSER,
        "state does not match",
    )
    .await;

    // None of that used up the real answer: in the browser that started it, it signs in.
    let r = callback(&browser, &back).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    assert!(browser.is_signed_in().await);
    assert!(user_by_email(&app, "sam@example.com").is_some());
}

#[actix_web::test]
async fn a_replayed_callback_and_a_redeemed_code_are_refused() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let browser = app.browser();
    let authorize = start(&provider, &browser, "").await;
    let back = at_provider(&app, &provider, &authorize, "rita").await;
    let r = callback(&browser, &back).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    // Signed out (the browser keeps its binding cookie), the same callback again.
    let r = browser.post_form("/logout", &[]).await;
    assert_eq!(r.status, 303);
    assert!(!browser.is_signed_in().await);
    let was = before(&app);
    let r = callback(&browser, &back).await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        NOT_THIS_BROWSER,
        "state does not match",
    )
    .await;

    // The same code under a fresh state of this browser: the provider refuses to redeem it
    // a second time.
    let fresh = start(&provider, &browser, "").await;
    let fresh_state = param(&fresh, "state").expect("state");
    let reused = with_param(&back, "state", &fresh_state);
    let was = before(&app);
    let r = callback(&browser, &reused).await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        NOT_VERIFIED,
        "code exchange failed",
    )
    .await;
    // And that fresh state is used up too.
    let was = before(&app);
    let r = callback(&browser, &reused).await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        NOT_THIS_BROWSER,
        "state does not match",
    )
    .await;
}
