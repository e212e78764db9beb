//! "Require two-factor for password sign-in": members without it enrol before anything else;
//! only owners and admins change it.

use meetergo_console::domain::Role;

use super::two_factor::{enrol, oathtool, post_from};
use crate::helpers::db::{add_user, company, events_of_kind};
use crate::helpers::fixtures::sign_up;
use crate::helpers::{email, random_domain, RequestHelper, TestApp, PASSWORD};

#[actix_web::test]
async fn members_without_two_factor_enrol_first_when_the_company_requires_it() {
    let app = TestApp::spawn().await;
    let domain = random_domain("req");
    let owner = sign_up(&app, "Strict Co", "Olga", &format!("olga@{domain}")).await;
    let member_email = format!("mo@{domain}");
    add_user(&app, &owner.company_id, "Mo", &member_email, Role::Member);

    // A member may not change the setting.
    let member = app.browser();
    member.sign_in(&member_email).await;
    let r = member
        .post_form(
            "/settings/company/two-factor",
            &[("require_two_factor", "on")],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(!company(&app, &owner.company_id).require_two_factor);

    let r = owner
        .browser
        .post_form(
            "/settings/company/two-factor",
            &[("require_two_factor", "on")],
        )
        .await;
    r.assert_redirect("/settings/company");
    assert!(company(&app, &owner.company_id).require_two_factor);
    assert!(owner
        .browser
        .get("/settings/company")
        .await
        .body
        .contains("data-testid=\"require-two-factor\""));
    assert_eq!(events_of_kind(&app, "settings.changed").len(), 1);

    // A fresh password sign-in goes to enrolment, and nothing else opens until it is done.
    let b = app.browser();
    b.login(&member_email, PASSWORD)
        .await
        .assert_redirect("/profile/two-factor");
    for page in [
        "/dashboard",
        "/profile",
        "/integrations",
        "/settings/members",
    ] {
        b.get(page).await.assert_redirect("/profile/two-factor");
    }
    let (secret, _) = enrol(&app, &b).await;
    assert_eq!(
        b.get("/dashboard").await.status,
        200,
        "enrolled: free to go"
    );

    // Disabling is refused while the company requires it.
    app.clock.advance(chrono::Duration::seconds(30));
    let code = oathtool(&secret, app.clock.now());
    let r = post_from(
        &b,
        "/profile/two-factor",
        "/profile/two-factor/disable",
        &[("password", PASSWORD), ("code", &code)],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // Turning it off again lets others in directly.
    owner
        .browser
        .post_form("/settings/company/two-factor", &[])
        .await
        .assert_redirect("/settings/company");
    let other = app.browser();
    let third = email("third");
    let _ = third;
    other.sign_in(&owner.email).await;
}

#[actix_web::test]
async fn a_newcomer_joining_by_invitation_enrols_first_when_the_company_requires_it() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Strict Invites Co", "Olga", &email("olga")).await;
    owner
        .browser
        .post_form(
            "/settings/company/two-factor",
            &[("require_two_factor", "on")],
        )
        .await
        .assert_redirect("/settings/company");
    let invitee = email("newcomer");
    let link = owner.browser.invite(&invitee, "member").await;
    let path = crate::helpers::html::link_path(&link);

    let b = app.browser();
    b.get(&path).await.assert_status(200);
    b.post_form(&path, &[("name", "Nico New"), ("password", PASSWORD)])
        .await
        .assert_redirect("/profile/two-factor");
    b.get("/dashboard")
        .await
        .assert_redirect("/profile/two-factor");
}
