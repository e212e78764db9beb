//! Claiming domains: only with a confirmed address; one's own domain counts at once, any other
//! stays pending; a domain another company proved, or a public mail domain, is refused.

use super::claim;
use crate::helpers::db::{domain_claims, user_by_email};
use crate::helpers::fixtures::{api_user, confirm_email, sign_up, verification_path};
use crate::helpers::{random_domain, RequestHelper, TestApp};

#[actix_web::test]
async fn the_own_domain_counts_at_once_and_any_other_stays_pending() {
    let app = TestApp::spawn().await;
    let domain = random_domain("a");
    let other = random_domain("b");
    let owner = sign_up(&app, "Proven Co", "Olga", &format!("olga@{domain}")).await;
    let r = claim(&owner.browser, "Proven Co", &format!("{domain}\n{other}")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        domain_claims(&app, &owner.company_id),
        [(domain.clone(), true), (other.clone(), false)]
    );
    let html = owner.browser.get("/settings/company").await.body;
    assert_eq!(html.matches("data-testid=\"domain-row\"").count(), 2);
    assert!(html.contains("data-testid=\"domain-status\">verified<"));
    assert!(html.contains("data-testid=\"domain-status\">pending<"));
    assert!(html.contains("meetergo-console-verification="));

    // A pending domain joins nobody: its newcomer keeps the workspace of their own.
    let newcomer = app.browser();
    let address = format!("nina@{other}");
    newcomer
        .signup("Nina Co", "Nina", &address)
        .await
        .assert_redirect("/dashboard");
    let r = confirm_email(&newcomer, &verification_path(&app, &address)).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("joined-company"));
    let nina = user_by_email(&app, &address).unwrap();
    assert_ne!(nina.company_id.as_str(), owner.company_id);
    assert_eq!(nina.role.as_str(), "owner");

    // The proven one does: a newcomer with it joins once their address is confirmed.
    let joiner = app.browser();
    let address = format!("jo@{domain}");
    joiner.signup("Jo Co", "Jo", &address).await;
    confirm_email(&joiner, &verification_path(&app, &address)).await;
    let jo = user_by_email(&app, &address).unwrap();
    assert_eq!(jo.company_id.as_str(), owner.company_id);
    assert_eq!(jo.role.as_str(), "member");

    // Dropping a domain from the list forgets its claim.
    let r = claim(&owner.browser, "Proven Co", &domain).await;
    assert_eq!(r.status, 303);
    assert_eq!(domain_claims(&app, &owner.company_id), [(domain, true)]);
}

#[actix_web::test]
async fn an_admin_whose_address_is_not_confirmed_claims_nothing() {
    let app = TestApp::spawn().await;
    let owner = sign_up(
        &app,
        "Keys Co",
        "Olga",
        &format!("olga@{}", random_domain("k")),
    )
    .await;
    let key = owner.browser.create_api_key("Admins", "30").await;
    let domain = random_domain("ada");
    let address = format!("ada@{domain}");
    let id = api_user(&app, &key, "Ada", &address, "admin").await;
    crate::helpers::db::set_password(&app, &id);
    let ada = app.browser();
    ada.sign_in(&address).await;
    let r = claim(&ada, "Keys Co", &domain).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("Confirm your email address first"),
        "{}",
        r.body
    );
    assert!(domain_claims(&app, &owner.company_id).is_empty());
}

#[actix_web::test]
async fn a_domain_proven_by_one_company_and_public_mail_domains_are_refused() {
    let app = TestApp::spawn().await;
    let domain = random_domain("held");
    let holder = sign_up(&app, "Holder Co", "Hana", &format!("hana@{domain}")).await;
    assert_eq!(
        claim(&holder.browser, "Holder Co", &domain).await.status,
        303
    );

    let rival = sign_up(
        &app,
        "Rival Co",
        "Rita",
        &format!("rita@{}", random_domain("r")),
    )
    .await;
    for refused in [domain.as_str(), "gmail.com"] {
        let r = claim(&rival.browser, "Rival Co", refused).await;
        assert_eq!(r.status, 422, "{refused}");
        assert!(
            r.body.contains("belongs to another company")
                || r.body.contains("public email provider"),
            "{}",
            r.body
        );
    }
    assert!(domain_claims(&app, &rival.company_id).is_empty());
    assert_eq!(domain_claims(&app, &holder.company_id), [(domain, true)]);
}
