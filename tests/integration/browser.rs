//! The main flows of the credential pages in a real headless Chromium: sign-up, sign-out and
//! sign-in; a personal access token's life; a Platform API key's life.

use crate::helpers::chrome::{
    assert_api_accepts, assert_api_refuses, axe_violations, by_testid, chromium, click, count,
    dates_in, eventually, fill, find, horizontal_overflow, set_width, sign_up, testid, text_of,
    wait_for_path, wait_for_row_status, DESKTOP, PHONE,
};
use crate::helpers::{email, TestApp, PASSWORD};

#[actix_web::test]
async fn signup_logout_login_in_a_browser() {
    let app = TestApp::spawn().await;
    let (_driver, c) = chromium().await;
    let who = email("browser");

    // An anonymous visitor lands on the sign-in page and follows the link to sign up.
    c.goto(&app.url("/")).await.expect("open /");
    wait_for_path(&c, "/login").await;
    let link = by_testid(&c, "signup-link").await;
    assert_eq!(link.text().await.expect("link text"), "Create a workspace");
    link.click().await.expect("follow signup link");
    wait_for_path(&c, "/signup").await;

    fill(&c, "signup-company", "Browser GmbH").await;
    fill(&c, "signup-name", "Bea Browser").await;
    fill(&c, "signup-email", &who).await;
    fill(&c, "signup-password", PASSWORD).await;
    click(&c, "signup-submit").await;
    wait_for_path(&c, "/dashboard").await;
    assert_eq!(text_of(&c, "dashboard-title").await, "Welcome, Bea Browser");
    assert_eq!(text_of(&c, "dashboard-role").await, "owner");
    assert_eq!(
        text_of(&c, "current-user").await,
        "Bea Browser · Browser GmbH"
    );
    assert_eq!(
        text_of(&c, "flash").await,
        "Welcome! Your account is ready."
    );

    // Log out: back on the sign-in page, and the dashboard is closed again.
    click(&c, "logout").await;
    wait_for_path(&c, "/login").await;
    by_testid(&c, "login-form").await;
    assert_eq!(text_of(&c, "flash").await, "You have been signed out.");
    assert_eq!(count(&c, &testid("logout")).await, 0, "no logout when out");
    c.goto(&app.url("/dashboard"))
        .await
        .expect("open /dashboard");
    wait_for_path(&c, "/login").await;

    // Log in again.
    fill(&c, "login-email", &who).await;
    fill(&c, "login-password", PASSWORD).await;
    click(&c, "login-submit").await;
    wait_for_path(&c, "/dashboard").await;
    assert_eq!(text_of(&c, "dashboard-title").await, "Welcome, Bea Browser");
    assert_eq!(text_of(&c, "dashboard-role").await, "owner");

    c.close().await.expect("close browser session");
}

#[actix_web::test]
async fn pat_lifecycle_in_a_browser() {
    let app = TestApp::spawn().await;
    let (_driver, c) = chromium().await;
    let who = email("pat");
    sign_up(&c, &app, "Token AG", "Tom Token", &who).await;
    assert_eq!(text_of(&c, "active-token-count").await, "0");

    c.goto(&app.url("/integrations"))
        .await
        .expect("open /integrations");
    click(&c, "api-card-link").await;
    wait_for_path(&c, "/integrations/api").await;
    by_testid(&c, "tokens-empty").await;

    fill(&c, "token-name", "CRM sync").await;
    let radio = by_testid(&c, "expiry-30").await;
    radio.click().await.expect("choose 30 days");
    assert!(radio.is_selected().await.expect("radio state"));
    let expected_dates = dates_in(30);
    click(&c, "create-token").await;

    let token = text_of(&c, "new-token").await;
    assert!(token.starts_with("rgo-"), "a PAT is shown: {token:?}");
    assert!(token.len() > 20, "a full token, not a prefix: {token:?}");
    let row_css = testid("token-row");
    wait_for_row_status(&c, &row_css, "active").await;
    let row_text = find(&c, &row_css).await.text().await.expect("row text");
    assert!(
        row_text.contains("CRM sync"),
        "row names the token: {row_text}"
    );
    assert!(
        expected_dates.iter().any(|d| row_text.contains(d.as_str())),
        "expires in 30 days ({expected_dates:?}): {row_text}"
    );

    assert_api_accepts(&app, &token, &who).await;

    // Loaded again, the page never shows the token. (A plain reload would re-POST the
    // creation form, so the page is opened afresh.)
    c.goto(&app.url("/integrations/api"))
        .await
        .expect("open /integrations/api again");
    wait_for_row_status(&c, &row_css, "active").await;
    assert_eq!(count(&c, &testid("new-token")).await, 0);
    let source = c.source().await.expect("page source");
    assert!(
        !source.contains(&token),
        "the token must not be shown again"
    );

    // Revoke, confirming in the disclosure.
    let summary = find(&c, &format!("summary{}", testid("revoke-token"))).await;
    summary.click().await.expect("open revoke confirmation");
    let confirm = by_testid(&c, "confirm-revoke").await;
    eventually("the revoke confirmation to show", || async {
        confirm.is_displayed().await.unwrap_or(false)
    })
    .await;
    confirm.click().await.expect("confirm revoke");
    // A revoked credential moves to the collapsed "Inactive" section: open it to see it.
    click(&c, "inactive-summary").await;
    wait_for_row_status(&c, &row_css, "revoked").await;
    assert!(
        text_of(&c, "flash").await.contains("revoked"),
        "revocation is confirmed"
    );
    assert_eq!(count(&c, &testid("revoke-token")).await, 0);

    assert_api_refuses(&app, &token).await;

    c.close().await.expect("close browser session");
}

#[actix_web::test]
async fn admin_api_key_lifecycle_in_a_browser() {
    let app = TestApp::spawn().await;
    let (_driver, c) = chromium().await;
    let who = email("admin");
    sign_up(&c, &app, "Keys Ltd", "Kim Keys", &who).await;
    let settings = by_testid(&c, "nav-settings").await;
    assert_eq!(
        settings.attr("href").await.expect("href").as_deref(),
        Some("/settings/members"),
        "owners see the settings link"
    );
    settings.click().await.expect("open settings");
    by_testid(&c, "settings-nav-api-keys")
        .await
        .click()
        .await
        .expect("open Settings → API");
    by_testid(&c, "keys-empty").await;
    fill(&c, "key-name", "Production").await;
    let radio = by_testid(&c, "expiry-30").await;
    radio.click().await.expect("choose 30 days");
    assert!(radio.is_selected().await.expect("radio state"));
    let expected_dates = dates_in(30);
    click(&c, "create-key").await;

    let key = text_of(&c, "new-token").await;
    assert!(key.len() > 20, "a full key is shown: {key:?}");
    let row_css = testid("key-row");
    wait_for_row_status(&c, &row_css, "active").await;
    let row_text = find(&c, &row_css).await.text().await.expect("row text");
    assert!(
        row_text.contains("Production"),
        "row names the key: {row_text}"
    );
    assert!(
        expected_dates.iter().any(|d| row_text.contains(d.as_str())),
        "expires in 30 days ({expected_dates:?}): {row_text}"
    );
    // Without x-meetergo-api-user-id a key acts as the owner: us.
    assert_api_accepts(&app, &key, &who).await;

    // Deactivate: the key stops working.
    click(&c, "deactivate-key").await;
    wait_for_row_status(&c, &row_css, "deactivated").await;
    assert_eq!(count(&c, &testid("deactivate-key")).await, 0);
    by_testid(&c, "activate-key").await;
    assert_api_refuses(&app, &key).await;

    // Activate: it works again.
    click(&c, "activate-key").await;
    wait_for_row_status(&c, &row_css, "active").await;
    assert_eq!(count(&c, &testid("activate-key")).await, 0);
    by_testid(&c, "deactivate-key").await;
    assert_api_accepts(&app, &key, &who).await;

    // Revoke, confirming in the disclosure: for good.
    let summary = find(&c, &format!("summary{}", testid("revoke-key"))).await;
    summary.click().await.expect("open revoke confirmation");
    let confirm = by_testid(&c, "confirm-revoke").await;
    eventually("the revoke confirmation to show", || async {
        confirm.is_displayed().await.unwrap_or(false)
    })
    .await;
    confirm.click().await.expect("confirm revoke");
    // A revoked credential moves to the collapsed "Inactive" section: open it to see it.
    click(&c, "inactive-summary").await;
    wait_for_row_status(&c, &row_css, "revoked").await;
    for gone in ["deactivate-key", "activate-key", "revoke-key"] {
        assert_eq!(count(&c, &testid(gone)).await, 0, "{gone} after revoke");
    }
    assert_api_refuses(&app, &key).await;

    c.close().await.expect("close browser session");
}

/// The sign-in page as a visitor sees it, at a laptop's and a phone's width: axe-core finds no
/// WCAG 2.1 AA violation and nothing makes the page scroll sideways.
#[actix_web::test]
async fn the_sign_in_page_is_accessible_at_both_widths() {
    let app = TestApp::spawn().await;
    let (_driver, c) = chromium().await;
    for size in [DESKTOP, PHONE] {
        set_width(&c, size).await;
        c.goto(&app.url("/login")).await.expect("open /login");
        wait_for_path(&c, "/login").await;
        let violations = axe_violations(&c).await;
        assert!(violations.is_empty(), "at {size:?}: {violations:#?}");
        let (over, culprits) = horizontal_overflow(&c).await;
        assert!(
            over <= 0,
            "at {size:?} the page is {over} px too wide: {culprits:?}"
        );
    }
}
