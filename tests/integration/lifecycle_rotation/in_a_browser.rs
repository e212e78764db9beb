//! Regenerating a token in a real headless Chromium: from the list's "Regenerate…" through the
//! confirmation page to the new token, shown once, that works at once.

use crate::helpers::chrome::{
    assert_api_accepts, assert_api_refuses, by_testid, chromium, click, fill, find, sign_up,
    testid, text_of, wait_for_path, wait_for_row_status,
};
use crate::helpers::{email, TestApp};

#[actix_web::test]
async fn regenerate_a_token_in_a_browser() {
    let app = TestApp::spawn().await;
    let (_driver, c) = chromium().await;
    let who = email("regen");
    sign_up(&c, &app, "Regen AG", "Rhea Regen", &who).await;
    c.goto(&app.url("/integrations/api"))
        .await
        .expect("open /integrations/api");
    fill(&c, "token-name", "CRM sync").await;
    by_testid(&c, "expiry-30")
        .await
        .click()
        .await
        .expect("30 days");
    click(&c, "create-token").await;
    let old = text_of(&c, "new-token").await;
    let row_css = testid("token-row");
    wait_for_row_status(&c, &row_css, "active").await;
    let id = find(&c, &row_css)
        .await
        .attr("data-token-id")
        .await
        .expect("attribute")
        .expect("a token id");

    click(&c, "regenerate-token").await;
    wait_for_path(&c, &format!("/integrations/api/tokens/{id}/regenerate")).await;
    let grace = by_testid(&c, "grace-1h").await;
    grace.click().await.expect("choose 1 hour");
    assert!(grace.is_selected().await.expect("radio state"));
    click(&c, "confirm-regenerate").await;

    let new = text_of(&c, "new-token").await;
    assert!(
        new.starts_with("rgo-") && new != old,
        "a new token: {new:?}"
    );
    assert!(text_of(&c, "regenerated-note")
        .await
        .contains("keeps working"));
    find(&c, &testid("replaced-by")).await;
    assert_api_accepts(&app, &new, &who).await;
    // Its first use ended the old one's grace.
    assert_api_refuses(&app, &old).await;

    c.close().await.expect("close browser session");
}
