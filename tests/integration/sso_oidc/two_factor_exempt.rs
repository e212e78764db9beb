//! "Require two-factor for password sign-in" leaves SSO alone: the IdP decides.

use super::flow::sign_in_as;
use crate::helpers::db::{company, set_joining};
use crate::helpers::fixtures::sign_up;
use crate::helpers::{random_domain, RequestHelper, TestApp};

#[actix_web::test]
async fn an_sso_sign_in_is_not_sent_to_enrolment() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let domain = random_domain("exempt");
    let owner = sign_up(&app, "Exempt Co", "Olga", &format!("olga@{domain}")).await;
    set_joining(&app, &owner.company_id, &domain, false);
    owner
        .browser
        .post_form(
            "/settings/company/two-factor",
            &[("require_two_factor", "on")],
        )
        .await
        .assert_redirect("/settings/company");
    assert!(company(&app, &owner.company_id).require_two_factor);

    let browser = app.browser();
    let r = sign_in_as(&app, &provider, &browser, &format!("sam@{domain}")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        browser.get("/dashboard").await.status,
        200,
        "no enrolment step"
    );
    assert_eq!(browser.get("/integrations").await.status, 200);
}
