//! The dashboard with its checklist in headless Chromium, as owner, admin and member, at a
//! laptop's and a phone's width: no axe-core violation, nothing wider than the screen, and the
//! one-click switch works without JavaScript's help.

use fantoccini::Client;
use meetergo_console::domain::Role;

use crate::helpers::chrome::{
    axe_violations, by_testid, chromium, count, fill, horizontal_overflow, set_width, testid,
    text_of, wait_for_path, DESKTOP, PHONE,
};
use crate::helpers::db::add_user;
use crate::helpers::fixtures::sign_up;
use crate::helpers::time::days_pass;
use crate::helpers::{email, TestApp, PASSWORD};

async fn sign_in(c: &Client, app: &TestApp, address: &str) {
    c.goto(&app.url("/login")).await.expect("open /login");
    fill(c, "login-email", address).await;
    fill(c, "login-password", PASSWORD).await;
    by_testid(c, "login-submit")
        .await
        .click()
        .await
        .expect("sign in");
    wait_for_path(c, "/dashboard").await;
}

async fn assert_fits_and_passes_axe(c: &Client, app: &TestApp, who: &str) {
    for size in [DESKTOP, PHONE] {
        set_width(c, size).await;
        c.goto(&app.url("/dashboard"))
            .await
            .expect("open /dashboard");
        wait_for_path(c, "/dashboard").await;
        assert!(text_of(c, "checklist-progress").await.ends_with("done"));
        let violations = axe_violations(c).await;
        assert!(violations.is_empty(), "{who} at {size:?}: {violations:#?}");
        let (over, culprits) = horizontal_overflow(c).await;
        assert!(
            over <= 0,
            "{who} at {size:?}: the page is {over} px too wide: {culprits:?}"
        );
    }
}

#[actix_web::test]
async fn the_dashboard_checklist_is_accessible_for_owner_admin_and_member_at_both_widths() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Browser Check KG", "Olga Owner", &email("olga")).await;
    let max_email = email("max");
    add_user(
        &app,
        &owner.company_id,
        "Max Member",
        &max_email,
        Role::Member,
    );
    let ari_email = email("ari");
    add_user(
        &app,
        &owner.company_id,
        "Ari Admin",
        &ari_email,
        Role::Admin,
    );
    owner
        .browser
        .create_pat("A token with a rather long name for a phone", "7")
        .await;
    // Someone silent for months, so the owner's list also shows names with dates.
    days_pass(&app, 91);

    let (_driver, c) = chromium().await;
    sign_in(&c, &app, &owner.email).await;
    assert!(count(&c, &testid("check-fix-form")).await >= 2);
    assert!(count(&c, &testid("check-name")).await >= 1);
    assert_fits_and_passes_axe(&c, &app, "owner").await;

    // One click turns Require Invitation on; the item then says it is done.
    set_width(&c, PHONE).await;
    c.goto(&app.url("/dashboard"))
        .await
        .expect("open /dashboard");
    let fix = c
        .find(fantoccini::Locator::Css(
            "li[data-check=\"require-invitation\"] [data-testid=\"check-fix\"]",
        ))
        .await
        .expect("the switch");
    fix.click().await.expect("press it");
    wait_for_path(&c, "/settings/company").await;
    c.goto(&app.url("/dashboard"))
        .await
        .expect("open /dashboard");
    let item = c
        .find(fantoccini::Locator::Css(
            "li[data-check=\"require-invitation\"]",
        ))
        .await
        .expect("the item");
    assert_eq!(
        item.attr("data-state").await.expect("state").as_deref(),
        Some("ok")
    );
    c.close().await.expect("close owner's browser");

    let (_driver, c) = chromium().await;
    sign_in(&c, &app, &ari_email).await;
    assert_eq!(count(&c, &testid("checklist-company")).await, 1);
    assert_fits_and_passes_axe(&c, &app, "admin").await;
    c.close().await.expect("close admin's browser");

    let (_driver, c) = chromium().await;
    sign_in(&c, &app, &max_email).await;
    assert_eq!(count(&c, &testid("checklist-company")).await, 0);
    assert_fits_and_passes_axe(&c, &app, "member").await;
    c.close().await.expect("close member's browser");
}
