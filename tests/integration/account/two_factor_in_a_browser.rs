//! Two-factor enrolment and sign-in in a real headless Chromium, codes from oathtool.

use super::two_factor::oathtool;
use crate::helpers::chrome::{by_testid, chromium, click, fill, sign_up, text_of, wait_for_path};
use crate::helpers::{email, TestApp, PASSWORD};

#[actix_web::test]
async fn enrol_and_sign_in_with_a_code_in_a_browser() {
    let app = TestApp::spawn().await;
    let (_driver, c) = chromium().await;
    let who = email("tfb");
    sign_up(&c, &app, "Browser 2FA", "Bo", &who).await;

    // From the user menu to the profile, then to two-factor.
    click(&c, "nav-profile").await;
    wait_for_path(&c, "/profile").await;
    click(&c, "profile-two-factor").await;
    wait_for_path(&c, "/profile/two-factor").await;
    by_testid(&c, "totp-qr").await;
    let secret = text_of(&c, "totp-secret").await;
    fill(&c, "totp-code", &oathtool(&secret, app.clock.now())).await;
    click(&c, "totp-confirm").await;
    by_testid(&c, "recovery-codes").await;

    // Sign out and in again: the code is asked for on a second step.
    click(&c, "logout").await;
    wait_for_path(&c, "/login").await;
    fill(&c, "login-email", &who).await;
    fill(&c, "login-password", PASSWORD).await;
    click(&c, "login-submit").await;
    wait_for_path(&c, "/login/two-factor").await;
    app.clock.advance(chrono::Duration::seconds(30));
    fill(&c, "two-factor-code", &oathtool(&secret, app.clock.now())).await;
    click(&c, "two-factor-submit").await;
    wait_for_path(&c, "/dashboard").await;

    c.close().await.expect("close browser session");
}
