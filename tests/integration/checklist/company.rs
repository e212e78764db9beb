//! The company's items, as owners and admins see them, each fixed through the product.

use meetergo_console::db::models::SamlConfig;
use meetergo_console::domain::Role;

use super::{checks, dashboard, item, press_fix, state};
use crate::domains::{claim, txt_value};
use crate::helpers::db::{add_user, company, conn, pat_id, set_sso_enforced};
use crate::helpers::dns::DnsServer;
use crate::helpers::fixtures::sign_up;
use crate::helpers::time::days_pass;
use crate::helpers::{email, random_domain, RequestHelper, TestApp};

const COMPANY_ITEMS: [&str; 9] = [
    "sso",
    "require-invitation",
    "two-factor-required",
    "inactive-members",
    "admins",
    "expiring-credentials",
    "unused-credentials",
    "token-lifetime",
    "domains",
];

#[actix_web::test]
async fn the_owner_sees_the_company_checklist_first_with_a_count_of_what_is_done() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Check KG", "Olga Owner", &email("olga")).await;
    let html = dashboard(&owner.browser).await;

    let ids: Vec<String> = checks(&html).into_iter().map(|(id, _)| id).collect();
    assert_eq!(&ids[..9], COMPANY_ITEMS);
    assert!(ids.contains(&"two-factor".to_owned()));
    // The checklist comes before the other sections.
    let checklist_at = html.find("data-testid=\"checklist\"").expect("checklist");
    assert!(
        checklist_at
            < html
                .find("data-testid=\"meeting-types")
                .expect("meeting types")
    );
    let done = checks(&html).iter().filter(|(_, s)| s == "ok").count();
    assert!(done < ids.len(), "a new company has things to do");
    assert!(
        html.contains(&format!("<strong>{done} of {}</strong> done", ids.len())),
        "{html}"
    );
    // The state is said in words, not by colour alone.
    assert!(item(&html, "require-invitation").contains("Needs attention"));
    assert!(item(&html, "inactive-members").contains("Done"));
}

#[actix_web::test]
async fn require_invitation_and_two_factor_are_one_click_each_and_keep_the_other_settings() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Switch KG", "Olga Owner", &email("olga")).await;
    let domain = random_domain("switch");
    claim(&owner.browser, "Switch KG", &domain).await;

    let html = dashboard(&owner.browser).await;
    assert_eq!(state(&html, "require-invitation"), "attention");
    press_fix(&owner.browser, &html, "require-invitation")
        .await
        .assert_redirect("/settings/company");
    let html = dashboard(&owner.browser).await;
    assert_eq!(state(&html, "require-invitation"), "ok");
    assert!(!item(&html, "require-invitation").contains("check-fix"));
    let saved = company(&app, &owner.company_id);
    assert!(saved.require_invitation);
    assert_eq!(saved.name, "Switch KG", "the name is kept");
    assert_eq!(saved.allowed_domains, domain, "the domains are kept");

    assert_eq!(state(&html, "two-factor-required"), "attention");
    press_fix(&owner.browser, &html, "two-factor-required")
        .await
        .assert_redirect("/settings/company");
    let html = dashboard(&owner.browser).await;
    assert_eq!(state(&html, "two-factor-required"), "ok");
    assert!(company(&app, &owner.company_id).require_two_factor);
}

#[actix_web::test]
async fn an_admin_may_flip_the_switches_and_a_member_is_refused() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Roles KG", "Olga Owner", &email("olga")).await;
    let admin_email = email("ari");
    add_user(
        &app,
        &owner.company_id,
        "Ari Admin",
        &admin_email,
        Role::Admin,
    );
    let admin = app.browser();
    admin.sign_in(&admin_email).await;
    let member_email = email("max");
    add_user(
        &app,
        &owner.company_id,
        "Max Member",
        &member_email,
        Role::Member,
    );
    let member = app.browser();
    member.sign_in(&member_email).await;

    // The member sends what the admin's form sends: both refused, nothing changes.
    let admin_html = dashboard(&admin).await;
    for id in ["require-invitation", "two-factor-required"] {
        let r = press_fix(&member, &admin_html, id).await;
        assert_eq!(r.status, 403, "{id}: {}", r.body);
    }
    let saved = company(&app, &owner.company_id);
    assert!(!saved.require_invitation && !saved.require_two_factor);

    press_fix(&admin, &admin_html, "require-invitation")
        .await
        .assert_redirect("/settings/company");
    assert!(company(&app, &owner.company_id).require_invitation);
    assert_eq!(
        state(&dashboard(&owner.browser).await, "require-invitation"),
        "ok"
    );
}

#[actix_web::test]
async fn a_member_silent_for_ninety_days_is_listed_until_offboarded() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Quiet KG", "Olga Owner", &email("olga")).await;
    let quiet = add_user(
        &app,
        &owner.company_id,
        "Quinn Quiet",
        &email("quinn"),
        Role::Member,
    );
    assert_eq!(
        state(&dashboard(&owner.browser).await, "inactive-members"),
        "ok"
    );

    days_pass(&app, 91);
    let html = dashboard(&owner.browser).await;
    assert_eq!(state(&html, "inactive-members"), "attention");
    let listed = item(&html, "inactive-members");
    assert!(listed.contains("Quinn Quiet"), "{listed}");
    assert!(listed.contains(&format!("href=\"/settings/members/{}/offboard\"", quiet.id)));
    assert!(
        !listed.contains("Olga Owner"),
        "the viewer is here, so never inactive"
    );
    assert!(
        listed.contains("href=\"/settings/members\""),
        "the fix: review members"
    );

    let r = owner
        .browser
        .post_form(
            &format!("/settings/members/{}/offboard", quiet.id),
            &[("transfer_to", &owner.id)],
        )
        .await;
    assert!(
        r.status == 303 || r.status == 200,
        "offboarding: {}",
        r.body
    );
    let html = dashboard(&owner.browser).await;
    assert_eq!(
        state(&html, "inactive-members"),
        "ok",
        "{}",
        item(&html, "inactive-members")
    );
}

#[actix_web::test]
async fn with_members_but_no_admin_the_owner_is_asked_to_choose_one() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Admin KG", "Olga Owner", &email("olga")).await;
    assert_eq!(state(&dashboard(&owner.browser).await, "admins"), "ok");
    let max = add_user(
        &app,
        &owner.company_id,
        "Max Member",
        &email("max"),
        Role::Member,
    );
    let html = dashboard(&owner.browser).await;
    assert_eq!(state(&html, "admins"), "attention");
    assert!(item(&html, "admins").contains("href=\"/settings/members\""));

    owner
        .browser
        .post_form(
            &format!("/settings/members/{}/role", max.id),
            &[("role", "admin"), ("from", "member")],
        )
        .await;
    assert_eq!(crate::helpers::db::role_of(&app, max.id.as_str()), "admin");
    assert_eq!(state(&dashboard(&owner.browser).await, "admins"), "ok");
}

#[actix_web::test]
async fn an_unused_token_is_listed_until_revoked() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Idle KG", "Olga Owner", &email("olga")).await;
    let max_email = email("max");
    let max = add_user(
        &app,
        &owner.company_id,
        "Max Member",
        &max_email,
        Role::Member,
    );
    let member = app.browser();
    member.sign_in(&max_email).await;
    member.create_pat("Old sync", "90").await;
    assert_eq!(
        state(&dashboard(&owner.browser).await, "unused-credentials"),
        "ok"
    );

    days_pass(&app, 31);
    let html = dashboard(&owner.browser).await;
    assert_eq!(state(&html, "unused-credentials"), "attention");
    let listed = item(&html, "unused-credentials");
    assert!(listed.contains("Old sync (Max Member)"), "{listed}");
    assert!(
        listed.contains("unused_for=30"),
        "the fix: the inventory, filtered"
    );
    // The member sees the same token among their own items.
    assert_eq!(state(&dashboard(&member).await, "own-unused"), "attention");

    let id = pat_id(&app, max.id.as_str(), "Old sync");
    member
        .post_form(&format!("/integrations/api/tokens/{id}/revoke"), &[])
        .await
        .assert_status(303);
    assert_eq!(
        state(&dashboard(&owner.browser).await, "unused-credentials"),
        "ok"
    );
    assert_eq!(state(&dashboard(&member).await, "own-unused"), "ok");
}

#[actix_web::test]
async fn an_api_key_about_to_expire_needs_attention_until_revoked() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Soon KG", "Olga Owner", &email("olga")).await;
    let key = owner.browser.create_api_key("Weekly key", "7").await;
    let html = dashboard(&owner.browser).await;
    assert_eq!(state(&html, "expiring-credentials"), "attention");
    assert!(item(&html, "expiring-credentials").contains("expiring_within=14"));

    let id = crate::helpers::fixtures::key_id_of(&key);
    owner
        .browser
        .post_form(&format!("/admin/api-keys/{id}/revoke"), &[])
        .await
        .assert_status(303);
    assert_eq!(
        state(&dashboard(&owner.browser).await, "expiring-credentials"),
        "ok"
    );
}

#[actix_web::test]
async fn a_maximum_token_lifetime_satisfies_the_expiry_policy_item() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Policy KG", "Olga Owner", &email("olga")).await;
    let html = dashboard(&owner.browser).await;
    assert_eq!(state(&html, "token-lifetime"), "attention");
    assert!(item(&html, "token-lifetime").contains("href=\"/settings/company\""));

    owner
        .browser
        .post_form(
            "/settings/company/credential-policy",
            &[
                ("max_pat_lifetime_days", "90"),
                ("members_may_create_pats", "on"),
            ],
        )
        .await
        .assert_status(303);
    let html = dashboard(&owner.browser).await;
    assert_eq!(state(&html, "token-lifetime"), "ok");
    assert!(item(&html, "token-lifetime").contains("at most 90 days"));
}

#[actix_web::test]
async fn a_claimed_domain_needs_attention_until_its_dns_record_proves_it() {
    let dns = DnsServer::start();
    let app = TestApp::spawn_with(|s| s.dns_resolver = Some(dns.addr)).await;
    let owner = sign_up(
        &app,
        "Proof KG",
        "Olga Owner",
        &format!("olga@{}", random_domain("own")),
    )
    .await;
    assert_eq!(state(&dashboard(&owner.browser).await, "domains"), "ok");
    let domain = random_domain("proof");
    claim(&owner.browser, "Proof KG", &domain)
        .await
        .assert_status(303);
    let html = dashboard(&owner.browser).await;
    assert_eq!(state(&html, "domains"), "attention");
    assert!(item(&html, "domains").contains(&domain));

    dns.add_txt(&domain, &txt_value(&owner.browser, &domain).await);
    owner
        .browser
        .post_form("/settings/company/domains/verify", &[("domain", &domain)])
        .await
        .assert_redirect("/settings/company");
    assert_eq!(state(&dashboard(&owner.browser).await, "domains"), "ok");
}

/// SAML is configured here as the settings page would store it (the signed-metadata round trip
/// is proven in sso_saml); the item asks for enforcement until it is on.
#[actix_web::test]
async fn sso_is_done_only_when_configured_and_enforced() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Saml KG", "Olga Owner", &email("olga")).await;
    let html = dashboard(&owner.browser).await;
    assert_eq!(state(&html, "sso"), "attention");
    assert!(item(&html, "sso").contains("Set up single sign-on"));

    let config = SamlConfig {
        company_id: owner.company_id.parse().unwrap(),
        idp_entity_id: "https://idp.example/saml".into(),
        idp_sso_url: "https://idp.example/sso".into(),
        metadata_xml: "<EntityDescriptor/>".into(),
        allow_sha1: false,
        allow_idp_initiated: false,
        updated_at: meetergo_console::db::models::now(),
    };
    assert!(config.save_over(&mut conn(&app), None).unwrap());
    let html = dashboard(&owner.browser).await;
    assert_eq!(state(&html, "sso"), "attention");
    assert!(item(&html, "sso").contains("not enforced"));

    set_sso_enforced(&app, &owner.company_id, true);
    assert_eq!(state(&dashboard(&owner.browser).await, "sso"), "ok");
}
