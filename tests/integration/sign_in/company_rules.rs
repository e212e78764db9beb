//! The company rules that decide who signs up or in with a password: a company that enforces
//! SSO is joined only through its identity provider, only the owner changes single sign-on, and
//! public mail domains cannot be claimed.

use diesel::prelude::*;
use meetergo_console::db::schema::invitations;
use meetergo_console::domain::Role;

use crate::helpers::db::{add_user, company, conn, count_users, set_joining, set_sso_enforced};
use crate::helpers::fixtures::mailed_invite_link;
use crate::helpers::fixtures::sign_up;
use crate::helpers::html::link_path;
use crate::helpers::{email, random_domain, RequestHelper, TestApp, PASSWORD};

#[actix_web::test]
async fn a_company_that_enforces_sso_is_joined_only_through_its_identity_provider() {
    let app = TestApp::spawn().await;
    let domain = random_domain("x");
    let owner = sign_up(&app, "Enforcing Co", "Olga", &format!("owner@{domain}")).await;
    set_joining(&app, &owner.company_id, &domain, false);
    set_sso_enforced(&app, &owner.company_id, true);
    // An invitation made while SSO is enforced cannot be accepted with a password.
    let r = owner
        .browser
        .post_form(
            "/settings/members/invite",
            &[("email", &format!("invitee@{domain}")), ("role", "member")],
        )
        .await;
    assert_eq!(r.status, 200);
    let path = link_path(&mailed_invite_link(&app, &format!("invitee@{domain}")));

    let newcomer = app.browser();
    let r = newcomer
        .post_form(
            "/signup",
            &[
                ("company_name", "X"),
                ("name", "N"),
                ("email", &format!("new@{domain}")),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("Sign in with SSO"),
        "signup by domain is refused with the SSO message"
    );
    let r = newcomer
        .post_form(&path, &[("name", "Invitee"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Sign in with SSO"));

    assert_eq!(count_users(&app), 1, "nobody joined");
    let pending: i64 = invitations::table
        .filter(invitations::accepted_at.is_null())
        .count()
        .get_result(&mut *conn(&app))
        .unwrap();
    assert_eq!(
        pending, 1,
        "the invitation stays usable for SSO just-in-time sign-up"
    );
}

#[actix_web::test]
async fn only_the_owner_changes_single_sign_on() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Sso Co", "Olga", &email("sso-owner")).await;
    let admin = email("sso-admin");
    add_user(&app, &owner.company_id, "Adam", &admin, Role::Admin);
    let view = app.browser();
    assert_eq!(view.login(&admin, PASSWORD).await.status, 303);
    let r = view.get("/settings/sso").await;
    assert_eq!(r.status, 200, "admins see the SP endpoints");
    assert!(r.body.contains("data-testid=\"sso-owner-only\""));
    assert!(!r.body.contains("data-testid=\"sso-settings-form\""));
    let r = view
        .post_form(
            "/settings/sso",
            &[("metadata_xml", "<x/>"), ("enforce_sso", "on")],
        )
        .await;
    assert_eq!(r.status, 403, "an admin cannot set the identity provider");
    let r = view.post_form("/settings/sso/remove", &[]).await;
    assert_eq!(r.status, 403);
    let html = owner.browser.get("/settings/sso").await.body;
    assert!(
        html.contains("data-testid=\"sso-settings-form\""),
        "the owner can"
    );
}

#[actix_web::test]
async fn public_mail_domains_cannot_be_claimed_and_huge_page_numbers_are_harmless() {
    let app = TestApp::spawn().await;
    let who = format!(
        "eve-{}@gmail.com",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let owner = sign_up(&app, "Grabby Co", "Eve", &who).await;
    let r = owner
        .browser
        .post_form(
            "/settings/company",
            &[("name", "Grabby Co"), ("allowed_domains", "gmail.com")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("public email provider"));
    assert_eq!(
        company(&app, &owner.company_id).allowed_domains,
        "",
        "nothing claimed"
    );
    for path in [
        "/settings/members?page=9223372036854775807",
        "/settings/audit?page=9223372036854775807",
    ] {
        assert_eq!(owner.browser.get(path).await.status, 200, "{path}");
    }
}
