//! In a real headless Chromium: a newcomer signs up with an address at a company's proven
//! domain, sees the banner, follows the mailed link and lands in the company as a member.

use super::claim;
use crate::helpers::chrome::{
    by_testid, chromium, click, count, sign_up as sign_up_in, testid, text_of,
};
use crate::helpers::fixtures::{sign_up, verification_path};
use crate::helpers::{random_domain, TestApp};

#[actix_web::test]
async fn sign_up_then_confirm_then_join_by_domain_in_a_browser() {
    let app = TestApp::spawn().await;
    let domain = random_domain("web");
    let owner = sign_up(&app, "Domain Co", "Olga", &format!("olga@{domain}")).await;
    assert_eq!(
        claim(&owner.browser, "Domain Co", &domain).await.status,
        303
    );

    let (_driver, c) = chromium().await;
    let address = format!("jo@{domain}");
    sign_up_in(&c, &app, "Jo's Own Co", "Jo", &address).await;
    by_testid(&c, "verify-email-banner").await;
    assert_eq!(text_of(&c, "dashboard-role").await, "owner");

    c.goto(&app.url(&verification_path(&app, &address)))
        .await
        .expect("open the link");
    click(&c, "confirm-email").await;
    by_testid(&c, "joined-company").await;
    assert_eq!(count(&c, &testid("verify-email-banner")).await, 0);
    c.goto(&app.url("/dashboard"))
        .await
        .expect("open /dashboard");
    assert_eq!(text_of(&c, "dashboard-role").await, "member");
    assert_eq!(text_of(&c, "current-user").await, "Jo · Domain Co");

    c.close().await.expect("close browser session");
}
