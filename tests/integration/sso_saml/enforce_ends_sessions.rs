//! Turning Enforce SSO on ends the password (and OIDC) sessions of everyone but the owner;
//! sessions started through the company's IdP and personal access tokens keep working.

use std::rc::Rc;

use meetergo_console::domain::Role;

use crate::helpers::db::{add_user, company_event_details};
use crate::helpers::{email, RequestHelper, TestApp};

use super::idp::{Idp, Tenant};
use super::sp::{save_sso, setup, signed_in_as};

#[actix_web::test]
async fn enforcing_sso_signs_out_password_sessions_except_the_owners() {
    let app = TestApp::spawn().await;
    let idp = Rc::new(Idp::start().await);
    let s = setup(&app, idp, Tenant::new("ends", "idp"), "Ending Sessions Ltd").await;
    let by_password = email("pw");
    add_user(
        &app,
        &s.company_id,
        "Pat Password",
        &by_password,
        Role::Admin,
    );
    let by_saml = email("saml");
    add_user(&app, &s.company_id, "Sam Saml", &by_saml, Role::Member);

    let pw = app.browser();
    pw.sign_in(&by_password).await;
    let pat = pw.create_pat("script", "30").await;
    let saml = app.browser();
    let resp = s.solicited(&app, &saml, &by_saml, &[]).await;
    s.accept(&app, &saml, &resp, &by_saml, "member through SAML")
        .await;

    let r = save_sso(&s.owner_browser, "", &["enforce_sso"]).await;
    r.assert_status(303);

    assert_eq!(signed_in_as(&pw).await, None, "the password session ended");
    assert_eq!(
        signed_in_as(&saml).await.as_deref(),
        Some(by_saml.to_lowercase().as_str()),
        "the SAML session stays"
    );
    assert_eq!(
        signed_in_as(&s.owner_browser).await.as_deref(),
        Some(s.owner.as_str()),
        "the owner stays"
    );
    app.token(&pat).get("/v4/user/me").await.assert_status(200);
    let details = company_event_details(&app, &s.company_id, "sso.config_changed");
    assert!(
        details
            .iter()
            .any(|d| d.contains("1 password or OIDC sessions ended")),
        "{details:?}"
    );

    // Saving again while enforced ends nothing more.
    let again = app.browser();
    let resp = s.solicited(&app, &again, &by_saml, &[]).await;
    s.accept(&app, &again, &resp, &by_saml, "again").await;
    save_sso(&s.owner_browser, "", &["enforce_sso"])
        .await
        .assert_status(303);
    assert!(signed_in_as(&again).await.is_some());
}
