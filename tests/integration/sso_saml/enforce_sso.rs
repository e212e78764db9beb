//! Enforce SSO with SAML: members sign in only through the IdP, the owner keeps an audited
//! password sign-in, and removing SAML turns enforcement off.

use std::rc::Rc;

use meetergo_console::domain::Role;

use crate::helpers::db::{add_user, company, company_events, user_by_email};
use crate::helpers::{email, RequestHelper, TestApp, PASSWORD};

use super::idp::{Idp, Tenant};
use super::sp::{save_sso, setup, signed_in_as, Setup};

/// "Enforced SAML Ltd" with SAML set up, Enforce SSO on and a member; returns the setup, the
/// member's email and id.
async fn enforced(app: &TestApp) -> (Setup, String, String) {
    let idp = Rc::new(Idp::start().await);
    let s = setup(app, idp, Tenant::new("enforce", "idp"), "Enforced SAML Ltd").await;
    let member = email("member");
    let member_id = add_user(app, &s.company_id, "Mo Member", &member, Role::Member)
        .id
        .to_string();
    let r = save_sso(&s.owner_browser, "", &["enforce_sso"]).await;
    assert_eq!(r.status, 303);
    assert!(company(app, &s.company_id).sso_enforced);
    let html = s.owner_browser.get("/settings/sso").await.body;
    assert!(html.contains("name=\"enforce_sso\" checked"), "{html}");
    (s, member, member_id)
}

#[actix_web::test]
async fn under_enforce_sso_a_member_signs_in_only_through_saml() {
    let app = TestApp::spawn().await;
    let (s, member, member_id) = enforced(&app).await;

    // The member's password is refused with the SSO message.
    let mc = app.browser();
    let r = mc.login(&member, PASSWORD).await;
    assert_eq!(r.status, 403);
    let html = r.body;
    assert!(
        html.contains("Your company requires single sign-on"),
        "{html}"
    );
    assert_eq!(signed_in_as(&mc).await, None);
    assert!(company_events(&app, &s.company_id, "sign_in.failed")
        .iter()
        .any(|e| e.target.as_deref() == Some(member_id.as_str())
            && e.detail
                .as_deref()
                .unwrap_or_default()
                .contains("SSO enforced")));

    // SAML still signs the member in.
    let resp = s.solicited(&app, &mc, &member, &[]).await;
    s.accept(
        &app,
        &mc,
        &resp,
        &member,
        "member through SAML under Enforce SSO",
    )
    .await;
}

#[actix_web::test]
async fn under_enforce_sso_the_owner_keeps_an_audited_password_sign_in() {
    let app = TestApp::spawn().await;
    let (s, _, _) = enforced(&app).await;

    // The owner's password works, as an audited break-glass sign-in.
    let oc = app.browser();
    let r = oc.login(&s.owner, PASSWORD).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/dashboard");
    assert_eq!(signed_in_as(&oc).await.as_deref(), Some(s.owner.as_str()));
    let glass = company_events(&app, &s.company_id, "sign_in.break_glass");
    assert_eq!(glass.len(), 1, "{glass:?}");
    let owner_id = user_by_email(&app, &s.owner).expect("owner").id.to_string();
    assert_eq!(glass[0].actor_id.as_deref(), Some(owner_id.as_str()));
}

#[actix_web::test]
async fn removing_saml_turns_enforcement_off() {
    let app = TestApp::spawn().await;
    let (s, member, _) = enforced(&app).await;

    // Removing SAML turns enforcement off: the member's password works again.
    let r = s.owner_browser.post_form("/settings/sso/remove", &[]).await;
    assert_eq!(r.status, 303);
    assert!(!company(&app, &s.company_id).sso_enforced);
    let c = app.browser();
    let r = c.login(&member, PASSWORD).await;
    assert_eq!(r.status, 303);
    assert_eq!(signed_in_as(&c).await.as_deref(), Some(member.as_str()));
    // …and /sso/start no longer finds SAML for the company.
    let r = app
        .browser()
        .post_form("/sso/start", &[("identifier", &s.sp.slug)])
        .await;
    assert_eq!(r.status, 422);
}
