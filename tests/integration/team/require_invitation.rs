//! The joining rule: a sign-up with a domain the company holds verified joins it as a member
//! once the address is confirmed, unless the company requires an invitation; then only a valid
//! invitation lets that email in. Only admins with a confirmed address claim domains; a claim
//! counts at once for their own domain, and stays pending for any other.

use crate::helpers::db::{
    company, company_events, count_companies, count_users, invitation, user_by_email,
};
use crate::helpers::fixtures::{confirm_email, sign_up, verification_path};
use crate::helpers::html::link_path;
use crate::helpers::time::invitations_expire;
use crate::helpers::{
    email, random_domain, Browser, Person, Reply, RequestHelper, TestApp, PASSWORD,
};

async fn save_company(browser: &Browser, name: &str, require: bool, domains: &str) -> Reply {
    let mut fields = vec![("name", name), ("allowed_domains", domains)];
    if require {
        fields.push(("require_invitation", "on"));
    }
    browser.post_form("/settings/company", &fields).await
}

/// "Domain Co", whose owner (olga@ the domain) claims the domain with `require` set.
async fn domain_company(app: &TestApp, require: bool) -> (Person, String) {
    let domain = random_domain("x");
    let owner = sign_up(app, "Domain Co", "Olga", &format!("olga@{domain}")).await;
    let r = save_company(&owner.browser, "Domain Co", require, &domain).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let c = company(app, &owner.company_id);
    assert_eq!(c.allowed_domains, domain);
    assert_eq!(c.require_invitation, require);
    (owner, domain)
}

#[actix_web::test]
async fn without_require_invitation_a_sign_up_with_the_domain_joins_as_a_member() {
    let app = TestApp::spawn().await;
    let (owner, domain) = domain_company(&app, false).await;
    assert_eq!(
        company_events(&app, &owner.company_id, "settings.changed").len(),
        1
    );

    // A sign-up with the domain starts in a workspace of its own: the address is not proven.
    let companies_before = count_companies(&app);
    let joiner = app.browser();
    let joiner_email = format!("jo@{domain}");
    let r = joiner.signup("Jo's Own Co", "Jo", &joiner_email).await;
    r.assert_redirect("/dashboard");
    let jo = user_by_email(&app, &joiner_email).expect("signed up");
    assert_ne!(jo.company_id.as_str(), owner.company_id);
    assert_eq!(count_companies(&app), companies_before + 1);
    // Following the mailed link proves it: Jo joins the company as a member.
    let r = confirm_email(&joiner, &verification_path(&app, &joiner_email)).await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("data-testid=\"joined-company\""),
        "{}",
        r.body
    );
    let jo = user_by_email(&app, &joiner_email).expect("joined");
    assert_eq!(jo.company_id.as_str(), owner.company_id);
    assert_eq!(jo.role.as_str(), "member");
    assert!(joiner
        .get("/dashboard")
        .await
        .body
        .contains("data-testid=\"dashboard-role\">member<"));
}

#[actix_web::test]
async fn with_require_invitation_a_sign_up_with_the_domain_is_refused_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let (owner, domain) = domain_company(&app, false).await;
    let r = save_company(&owner.browser, "Domain Co", true, &domain).await;
    assert_eq!(r.status, 303);
    assert!(company(&app, &owner.company_id).require_invitation);

    let (users_before, companies_before) = (count_users(&app), count_companies(&app));
    let refused = app.browser();
    let refused_email = format!("rex@{domain}");
    let r = refused.signup("Rex Co", "Rex", &refused_email).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("requires an invitation"), "{}", r.body);
    assert!(user_by_email(&app, &refused_email).is_none());
    assert_eq!(count_users(&app), users_before);
    assert_eq!(count_companies(&app), companies_before);
    assert!(!refused.is_signed_in().await);
    // Other domains are not affected.
    let free = app.browser();
    assert_eq!(
        free.signup("Free Co", "Fred", &email("fred")).await.status,
        303
    );
    assert_eq!(count_companies(&app), companies_before + 1);
}

#[actix_web::test]
async fn only_a_valid_invitation_lets_the_domain_in_when_an_invitation_is_required() {
    let app = TestApp::spawn().await;
    let (owner, domain) = domain_company(&app, true).await;

    // With a valid invitation the invited email joins, with the invited role.
    let invited_email = format!("ida@{domain}");
    let link = owner.browser.invite(&invited_email, "admin").await;
    let r = app
        .browser()
        .post_form(
            &link_path(&link),
            &[("name", "Ida"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let ida = user_by_email(&app, &invited_email).expect("ida joined");
    assert_eq!(ida.company_id.as_str(), owner.company_id);
    assert_eq!(ida.role.as_str(), "admin");

    // Used, revoked or expired invitations let nobody in.
    let users_before = count_users(&app);
    let r = app
        .browser()
        .post_form(
            &link_path(&link),
            &[("name", "Ida 2"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 410, "used");
    let revoked_email = format!("rob@{domain}");
    let revoked_link = owner.browser.invite(&revoked_email, "member").await;
    let revoked_id = invitation(&app, &revoked_email)
        .expect("inv")
        .id
        .to_string();
    assert_eq!(
        owner
            .browser
            .post_form(&format!("/settings/invitations/{revoked_id}/revoke"), &[])
            .await
            .status,
        303
    );
    let expired_email = format!("eve@{domain}");
    let expired_link = owner.browser.invite(&expired_email, "member").await;
    invitations_expire(&app);
    for (address, link) in [
        (&revoked_email, &revoked_link),
        (&expired_email, &expired_link),
    ] {
        let outsider = app.browser();
        let r = outsider
            .post_form(
                link_path(link).as_str(),
                &[("name", "Nope"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status, 410, "{address} by link");
        let r = outsider.signup("Nope Co", "Nope", address).await;
        assert_eq!(r.status, 422, "{address} by sign-up");
        assert!(r.body.contains("requires an invitation"));
        assert!(user_by_email(&app, address).is_none());
        assert!(!outsider.is_signed_in().await);
    }
    assert_eq!(count_users(&app), users_before);
}
