//! Members, audit log and an offboarding preview in Chromium, as the owner, on a laptop and on
//! a phone: axe-core finds no violation and no page scrolls sideways.

use fantoccini::Client;

use crate::helpers::chrome::{
    axe_violations, chromium, click, fill, find, horizontal_overflow, set_width, testid,
    wait_for_path, DESKTOP, PHONE,
};
use crate::helpers::{RequestHelper, TestApp, PASSWORD};

use super::World;

async fn sign_in(c: &Client, app: &TestApp, address: &str) {
    c.goto(&app.url("/login")).await.expect("open /login");
    fill(c, "login-email", address).await;
    fill(c, "login-password", PASSWORD).await;
    click(c, "login-submit").await;
    wait_for_path(c, "/dashboard").await;
}

async fn assert_fits_and_passes(c: &Client, what: &str, size: (u32, u32)) {
    let violations = axe_violations(c).await;
    assert!(violations.is_empty(), "{what} at {size:?}: {violations:#?}");
    let (over, culprits) = horizontal_overflow(c).await;
    assert!(
        over <= 0,
        "{what} at {size:?} is {over} px too wide: {culprits:?}"
    );
}

#[actix_web::test]
async fn the_people_pages_are_accessible_and_fit_a_phone() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    // Something in every table: a pending invitation, a removed member, events of all sorts.
    w.invitation("pending-person").await;
    let (leaver, _) = w.fresh("Leandra", "member").await;
    let r = w
        .owner
        .browser
        .post_form(
            &format!("/settings/members/{leaver}/offboard"),
            &[("transfer_to", w.owner.id.as_str())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = app
        .browser()
        .post_form(
            "/login",
            &[("email", w.member.email.as_str()), ("password", "wrong")],
        )
        .await;
    assert_eq!(r.status, 401);

    let (_driver, c) = chromium().await;
    sign_in(&c, &app, &w.owner.email).await;
    let offboard = format!(
        "/settings/members/{}/offboard?transfer_to={}",
        w.member.id, w.admin.id
    );
    for size in [DESKTOP, PHONE] {
        set_width(&c, size).await;
        for page in ["/settings/members", "/settings/audit", offboard.as_str()] {
            c.goto(&app.url(page)).await.expect("open the page");
            assert_fits_and_passes(&c, page, size).await;
        }
        // The members page with a sign-out confirmation and a user agent opened.
        c.goto(&app.url("/settings/members"))
            .await
            .expect("members");
        find(
            &c,
            &format!(
                "tr[data-email=\"{}\"] {}",
                w.member.email,
                testid("member-sign-out-open")
            ),
        )
        .await
        .click()
        .await
        .expect("open the confirmation");
        assert!(
            find(
                &c,
                &format!(
                    "tr[data-email=\"{}\"] {}",
                    w.member.email,
                    testid("member-sign-out")
                )
            )
            .await
            .is_displayed()
            .await
            .expect("displayed"),
            "the confirmation shows its button"
        );
        assert_fits_and_passes(&c, "members with a confirmation open", size).await;
    }
    c.close().await.expect("close the browser");
}
