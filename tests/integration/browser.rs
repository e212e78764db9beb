//! The main flows of the credential pages in a real headless Chromium: sign-up, sign-out and
//! sign-in; a personal access token's life; a Platform API key's life.

use fantoccini::{Client, Locator};

use crate::helpers::chrome::{
    assert_api_accepts, assert_api_refuses, axe_violations, by_testid, chromium, click, count,
    dates_in, eventually, fill, find, focused_testid, horizontal_overflow, press, set_width,
    sign_up, tab_to, testid, text_of, wait_for_path, wait_for_row_status, ChromeDriver, DESKTOP,
    ENTER, PHONE,
};
use crate::helpers::fixtures;
use crate::helpers::{email, RequestHelper, TestApp, PASSWORD};

/// The row's expiry `<time>` carries one of `dates` (`YYYY-MM-DD`, UTC) in its `datetime`; the
/// words beside it are relative.
async fn assert_expires_on(c: &Client, row_css: &str, dates: &[String]) {
    let row = find(c, row_css).await;
    let cell = row
        .find(Locator::Css("td[data-label=\"Expires\"] time"))
        .await
        .expect("the expiry's <time>");
    let at = cell
        .attr("datetime")
        .await
        .expect("datetime")
        .unwrap_or_default();
    assert!(
        dates.iter().any(|d| at.starts_with(d.as_str())),
        "expires on one of {dates:?}: {at}"
    );
    let title = cell.attr("title").await.expect("title").unwrap_or_default();
    assert!(title.ends_with("UTC"), "the exact time on demand: {title}");
}

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
    assert_expires_on(&c, &row_css, &expected_dates).await;

    assert_api_accepts(&app, &token, &who).await;

    // Reloaded (post/redirect/get: a plain reload), the page never shows the token again and
    // says why.
    c.refresh().await.expect("reload the page");
    by_testid(&c, "secret-gone").await;
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
    assert_expires_on(&c, &row_css, &expected_dates).await;
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

/// Signs `address` in through the sign-in form with the mouse-free helpers of WebDriver.
async fn sign_in(c: &Client, app: &TestApp, address: &str) {
    c.goto(&app.url("/login")).await.expect("open /login");
    fill(c, "login-email", address).await;
    fill(c, "login-password", PASSWORD).await;
    click(c, "login-submit").await;
    wait_for_path(c, "/dashboard").await;
}

/// Types text into the focused field.
async fn type_text(c: &Client, text: &str) {
    press(c, text).await;
}

/// Issue 14: sign in, create a token, copy it and revoke it with the keyboard alone (Tab,
/// Enter; no clicks), and the new token receives the focus when it is shown.
#[actix_web::test]
async fn a_token_is_created_copied_and_revoked_with_the_keyboard_only() {
    let app = TestApp::spawn().await;
    let who = email("keys");
    fixtures::sign_up(&app, "Keyboard KG", "Kai Keys", &who).await;
    let (_driver, c) = chromium().await;

    c.goto(&app.url("/login")).await.expect("open /login");
    tab_to(&c, "login-email").await;
    type_text(&c, &who).await;
    tab_to(&c, "login-password").await;
    type_text(&c, PASSWORD).await;
    press(&c, ENTER).await;
    wait_for_path(&c, "/dashboard").await;

    tab_to(&c, "nav-integrations").await;
    press(&c, ENTER).await;
    wait_for_path(&c, "/integrations").await;
    tab_to(&c, "api-card-link").await;
    press(&c, ENTER).await;
    wait_for_path(&c, "/integrations/api").await;

    tab_to(&c, "token-name").await;
    type_text(&c, "CI deploy").await;
    tab_to(&c, "create-token").await;
    press(&c, ENTER).await;

    // Shown once, and focused: a screen reader starts there, Tab goes on to "Copy".
    let token = text_of(&c, "new-token").await;
    assert!(token.starts_with("rgo-"), "{token:?}");
    eventually("the new token to have the focus", || async {
        focused_testid(&c).await == "new-token"
    })
    .await;
    tab_to(&c, "copy-token").await;
    let copy = by_testid(&c, "copy-token").await;
    assert_eq!(
        copy.attr("aria-label")
            .await
            .expect("aria-label")
            .as_deref(),
        Some("Copy token \u{201c}CI deploy\u{201d}")
    );
    press(&c, ENTER).await;
    eventually("the Copy button to say Copied", || async {
        by_testid(&c, "copy-token")
            .await
            .text()
            .await
            .is_ok_and(|t| t == "Copied")
    })
    .await;
    assert_api_accepts(&app, &token, &who).await;

    // Revoke: Enter opens the confirmation, Tab reaches its button, Enter confirms.
    tab_to(&c, "revoke-token").await;
    let summary = by_testid(&c, "revoke-token").await;
    let html = summary.html(false).await.expect("summary html");
    assert!(
        html.contains("token \u{201c}CI deploy\u{201d}"),
        "its name for screen readers: {html}"
    );
    press(&c, ENTER).await;
    tab_to(&c, "confirm-revoke").await;
    press(&c, ENTER).await;
    eventually("the flash to confirm the revocation", || async {
        c.find(Locator::Css(&testid("flash"))).await.ok().is_some()
    })
    .await;
    assert!(text_of(&c, "flash").await.contains("revoked"));
    assert_eq!(count(&c, &testid("revoke-token")).await, 0);
    assert_api_refuses(&app, &token).await;
    c.close().await.expect("close browser session");
}

/// Issue 14: without JavaScript the custom date stays visible, says it wins, and a token
/// created with "30 days" checked and a date typed gets the typed date.
#[actix_web::test]
async fn without_javascript_a_typed_custom_date_is_the_tokens_expiry() {
    let app = TestApp::spawn().await;
    let who = email("nojs");
    fixtures::sign_up(&app, "Plain HTML", "Nora Nojs", &who).await;
    let driver = ChromeDriver::start().await;
    let c = driver.connect_without_js().await;
    sign_in(&c, &app, &who).await;

    c.goto(&app.url("/integrations/api"))
        .await
        .expect("open /integrations/api");
    let date = by_testid(&c, "expires-at").await;
    assert!(
        date.is_displayed().await.expect("shown"),
        "visible without JavaScript"
    );
    let label = find(&c, "label[for=\"expires_at\"]").await;
    assert_eq!(
        label.text().await.expect("label"),
        "Custom date (used instead of the preset when filled)"
    );
    assert!(
        by_testid(&c, "expiry-30")
            .await
            .is_selected()
            .await
            .expect("radio state"),
        "a preset is checked"
    );
    let copy = by_testid(&c, "token-name").await;
    copy.send_keys("Nightly export")
        .await
        .expect("type the name");
    let wanted = app.clock.now().date() + chrono::Duration::days(45);
    date.send_keys(&wanted.format("%m%d%Y").to_string())
        .await
        .expect("type the date");
    click(&c, "create-token").await;
    let token = text_of(&c, "new-token").await;
    assert!(token.starts_with("rgo-"));
    click(&c, "token-detail-link").await;
    let exact = text_of(&c, "credential-expires-exact").await;
    assert_eq!(exact, format!("({wanted} 23:59 UTC)"));
    assert_eq!(
        count(&c, &testid("copy-token")).await,
        0,
        "no Copy on the detail page"
    );
    c.close().await.expect("close browser session");
}

/// Issue 14: the credential pages as the owner sees them, at a laptop's and a phone's width:
/// no axe-core violation, nothing wider than the screen. With JavaScript, the custom date
/// shows only when "Custom date" is chosen.
#[actix_web::test]
async fn the_credential_pages_are_accessible_at_both_widths() {
    let app = TestApp::spawn().await;
    let who = email("widths");
    let owner = fixtures::sign_up(&app, "Narrow Screens Incorporated", "Wanda Widths", &who).await;
    let key = owner
        .browser
        .create_api_key("Production booking widget integration", "30")
        .await;
    owner
        .browser
        .create_pat("A rather long token name for the nightly sync", "7")
        .await;
    owner.browser.create_pat("Old one", "none").await;
    let old = crate::helpers::db::pat_id(&app, &owner.id, "Old one");
    owner
        .browser
        .post_form(&format!("/integrations/api/tokens/{old}/revoke"), &[])
        .await;
    let pat = crate::helpers::db::pat_id(
        &app,
        &owner.id,
        "A rather long token name for the nightly sync",
    );
    let key_id = fixtures::key_id_of(&key);
    let (_driver, c) = chromium().await;
    sign_in(&c, &app, &who).await;

    c.goto(&app.url("/integrations/api")).await.expect("open");
    assert!(!by_testid(&c, "expires-at")
        .await
        .is_displayed()
        .await
        .expect("shown?"));
    click(&c, "expiry-custom").await;
    assert!(by_testid(&c, "expires-at")
        .await
        .is_displayed()
        .await
        .expect("shown?"));
    assert_eq!(
        find(&c, "label[for=\"expires_at\"]")
            .await
            .text()
            .await
            .expect("label"),
        "Custom date"
    );

    let pages = [
        "/integrations/api".to_owned(),
        format!("/integrations/api/tokens/{pat}"),
        format!("/integrations/api/tokens/{pat}/regenerate"),
        "/admin/api-keys".to_owned(),
        format!("/admin/api-keys/{key_id}"),
        "/settings/credentials".to_owned(),
        format!("/settings/credentials/{pat}/revoke"),
    ];
    for size in [DESKTOP, PHONE] {
        set_width(&c, size).await;
        for page in &pages {
            c.goto(&app.url(page)).await.expect("open the page");
            wait_for_path(&c, page).await;
            // The collapsed "Inactive" section too.
            if let Ok(summary) = c.find(Locator::Css(&testid("inactive-summary"))).await {
                summary.click().await.expect("open Inactive");
            }
            let violations = axe_violations(&c).await;
            assert!(violations.is_empty(), "{page} at {size:?}: {violations:#?}");
            let (over, culprits) = horizontal_overflow(&c).await;
            assert!(
                over <= 0,
                "{page} at {size:?} is {over} px too wide: {culprits:?}"
            );
        }
    }
    c.close().await.expect("close browser session");
}
