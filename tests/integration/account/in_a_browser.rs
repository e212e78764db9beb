//! "Forgot password?" in a real headless Chromium, which sends `Origin` and `Sec-Fetch-Site`
//! with its forms: from the sign-in page to the mail, the new password, and signing in with it.

use crate::helpers::chrome::{by_testid, chromium, click, fill, text_of, wait_for_path};
use crate::helpers::fixtures::{reset_path_in, sign_up, wait_for_mails};
use crate::helpers::{email, TestApp};

#[actix_web::test]
async fn forgot_password_in_a_browser() {
    let app = TestApp::spawn().await;
    let who = email("forgetful");
    sign_up(&app, "Forgetful GmbH", "Fritz Forgetful", &who).await;
    let (_driver, c) = chromium().await;

    c.goto(&app.url("/login")).await.expect("open /login");
    click(&c, "forgot-password-link").await;
    wait_for_path(&c, "/password/forgot").await;
    fill(&c, "forgot-email", &who).await;
    click(&c, "forgot-submit").await;
    by_testid(&c, "forgot-sent").await;

    let mails = wait_for_mails(&app, &who, 1).await;
    let path = reset_path_in(mails.last().expect("the mail"));
    c.goto(&app.url(&path)).await.expect("open the link");
    by_testid(&c, "reset-form").await;
    let new_password = "a new passphrase from the browser";
    fill(&c, "reset-password", new_password).await;
    click(&c, "reset-submit").await;
    wait_for_path(&c, "/login").await;
    assert!(text_of(&c, "flash")
        .await
        .contains("Your password was changed"));

    fill(&c, "login-email", &who).await;
    fill(&c, "login-password", new_password).await;
    click(&c, "login-submit").await;
    wait_for_path(&c, "/dashboard").await;
    assert_eq!(
        text_of(&c, "dashboard-title").await,
        "Welcome, Fritz Forgetful"
    );

    c.close().await.expect("close browser session");
}
