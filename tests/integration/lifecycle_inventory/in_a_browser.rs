//! The inventory's main flow in a headless Chromium: an admin filters by person, revokes a
//! member's token with a reason, and sees the flash and the revoked row.

use crate::helpers::chrome::{
    by_testid, chromium, click, count, fill, find, testid, text_of, wait_for_path,
    wait_for_row_status,
};
use crate::helpers::fixtures::wait_for_mails;
use crate::helpers::{RequestHelper, TestApp, PASSWORD};

use super::World;

#[actix_web::test]
async fn an_admin_revokes_a_members_token_in_a_browser() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let token = w.pat(&w.member, "Mia CRM");
    let (_driver, c) = chromium().await;

    c.goto(&app.url("/login")).await.expect("open /login");
    fill(&c, "login-email", &w.admin.email).await;
    fill(&c, "login-password", PASSWORD).await;
    click(&c, "login-submit").await;
    wait_for_path(&c, "/dashboard").await;

    c.goto(&app.url("/settings")).await.expect("open settings");
    click(&c, "settings-nav-credentials").await;
    wait_for_path(&c, "/settings/credentials").await;
    assert_eq!(count(&c, &testid("credential-row")).await, 5);

    // Filter by the member: only her token is left.
    let option = find(
        &c,
        &format!(
            "{} option[value=\"{}\"]",
            testid("filter-person"),
            w.member.id
        ),
    )
    .await;
    option.click().await.expect("choose the member");
    click(&c, "filter-apply").await;
    crate::helpers::chrome::eventually("the list to narrow to the member", || async {
        count(&c, &testid("credential-row")).await == 1
    })
    .await;
    let row_css = format!(
        "{}[data-credential-id=\"{token}\"]",
        testid("credential-row")
    );
    wait_for_row_status(&c, &row_css, "active").await;

    // Revoke with a reason, on the confirmation page.
    click(&c, "revoke-credential").await;
    wait_for_path(&c, &format!("/settings/credentials/{token}/revoke")).await;
    assert!(text_of(&c, "revoke-token-name").await.contains("Mia CRM"));
    fill(&c, "revoke-reason", "Leaving the project").await;
    click(&c, "confirm-revoke").await;
    wait_for_path(&c, "/settings/credentials").await;
    let flash = text_of(&c, "flash").await;
    assert!(
        flash.contains("revoked") && flash.contains("Mia CRM"),
        "{flash}"
    );
    wait_for_row_status(&c, &row_css, "revoked").await;
    assert_eq!(count(&c, &testid("revoke-credential")).await, 0);
    let person = by_testid(&c, "filter-person").await;
    assert_eq!(
        person.prop("value").await.expect("select value").as_deref(),
        Some(w.member.id.as_str()),
        "still filtered by the member"
    );

    assert_eq!(
        app.token(&w.member_pat).get("/v4/user/me").await.status,
        401
    );
    let mails = wait_for_mails(&app, &w.member.email, 1).await;
    assert!(mails.last().expect("mail").contains("Leaving the project"));

    c.close().await.expect("close browser session");
}
