//! SP-initiated sign-in: started at /sso/start from the company's slug or a member's email,
//! members matched by email and then by NameID, newcomers at the company's domain joining as
//! members, and everyone else refused.

use std::rc::Rc;

use diesel::prelude::*;
use meetergo_console::db::schema::sso_requests;
use meetergo_console::domain::Role;

use crate::helpers::db::{add_user, company_event_details, conn, set_joining, user_by_email};
use crate::helpers::{email, random_domain, RequestHelper, TestApp};

use super::idp::{Idp, Tenant};
use super::sp::{footprint, identities_of_company, setup, Setup};

/// "Acme SAML AG" with SAML set up and a domain of its own (Require Invitation off); returns
/// the setup, the issuer its identities are stored under, and the domain.
async fn acme(app: &TestApp) -> (Setup, String, String) {
    let idp = Rc::new(Idp::start().await);
    let s = setup(app, idp, Tenant::new("acme", "idp"), "Acme SAML AG").await;
    let issuer = format!("saml:{}", s.company_id);
    let domain = random_domain("acme");
    set_joining(app, &s.company_id, &domain, false);
    (s, issuer, domain)
}

/// A NameID like Okta's.
fn okta_name_id() -> String {
    format!("00u{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

#[actix_web::test]
async fn the_owner_signs_in_from_the_company_slug() {
    let app = TestApp::spawn().await;
    let (s, issuer, _) = acme(&app).await;

    // The owner, starting from the company slug.
    let c = app.browser();
    let id = s.start(&app, &c, &s.sp.slug).await;
    let resp = s.response(&s.owner, &["--in-response-to", &id]).await;
    s.accept(&app, &c, &resp, &s.owner, "owner by slug").await;
    let r = c.get("/dashboard").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Welcome, Olga Owner"));
    let used: Option<chrono::NaiveDateTime> = sso_requests::table
        .filter(sso_requests::id.eq(&id))
        .select(sso_requests::used_at)
        .first(&mut *conn(&app))
        .expect("request");
    assert!(used.is_some(), "the AuthnRequest is used up");
    let owner_id = user_by_email(&app, &s.owner).expect("owner").id.to_string();
    assert!(identities_of_company(&app, &s.company_id).contains(&(
        issuer.clone(),
        s.owner.clone(),
        owner_id.clone()
    )));
    assert!(
        company_event_details(&app, &s.company_id, "sign_in.succeeded")
            .iter()
            .any(|d| d.contains("saml"))
    );
}

#[actix_web::test]
async fn a_member_is_matched_by_email_then_by_name_id() {
    let app = TestApp::spawn().await;
    let (s, issuer, domain) = acme(&app).await;

    // An existing member, starting from their email: matched by email, and the IdP's NameID is
    // linked to them.
    let mia = format!("mia@{domain}");
    let mia_id = add_user(&app, &s.company_id, "Mia Member", &mia, Role::Member)
        .id
        .to_string();
    let name_id = okta_name_id();
    let c = app.browser();
    let id = s.start(&app, &c, &mia.to_uppercase()).await;
    let resp = s
        .response(&name_id, &["--in-response-to", &id, "--email", &mia])
        .await;
    s.accept(&app, &c, &resp, &mia, "member by email").await;
    assert!(identities_of_company(&app, &s.company_id).contains(&(
        issuer.clone(),
        name_id.clone(),
        mia_id.clone()
    )));

    // Next time by (company, NameID), even though the IdP now sends another email.
    let before = footprint(&app);
    let c = app.browser();
    let id = s.start(&app, &c, &s.sp.slug).await;
    let resp = s
        .response(
            &name_id,
            &[
                "--in-response-to",
                &id,
                "--email",
                &format!("mia.renamed@{domain}"),
            ],
        )
        .await;
    s.accept(&app, &c, &resp, &mia, "member by NameID").await;
    let after = footprint(&app);
    assert_eq!(
        (after.users, after.identities, after.accounts),
        (before.users, before.identities, before.accounts),
        "no new user or identity"
    );

    // IdPs that sign the whole Response, or both, work too.
    for sign in ["response", "both"] {
        let c = app.browser();
        let resp = s
            .solicited(&app, &c, &name_id, &["--sign", sign, "--email", &mia])
            .await;
        s.accept(&app, &c, &resp, &mia, &format!("--sign {sign}"))
            .await;
    }
}

#[actix_web::test]
async fn a_newcomer_at_the_company_domain_joins_as_a_member() {
    let app = TestApp::spawn().await;
    let (s, issuer, domain) = acme(&app).await;

    // A newcomer at the company's domain joins as a member (Require Invitation is off).
    let nora = format!("nora@{domain}");
    let c = app.browser();
    let id = s.start(&app, &c, &nora).await;
    let resp = s
        .response(
            &nora,
            &[
                "--in-response-to",
                &id,
                "--given-name",
                "Nora",
                "--surname",
                "Newcomer",
            ],
        )
        .await;
    s.accept(&app, &c, &resp, &nora, "JIT newcomer").await;
    let user = user_by_email(&app, &nora).expect("the newcomer's account");
    assert_eq!(user.company_id.to_string(), s.company_id);
    assert_eq!(user.role.as_str(), "member");
    assert_eq!(user.name, "Nora Newcomer");
    assert!(
        user.password_hash.is_none(),
        "no password for an SSO account"
    );
    // The company's own IdP vouches for the address: confirmed, no banner.
    assert!(
        user.email_verified_at.is_some(),
        "the IdP's address counts as confirmed"
    );
    let html = c.get("/dashboard").await.body;
    assert!(html.contains("data-testid=\"dashboard-role\">member<"));
    assert!(
        !html.contains("verify-email-banner"),
        "no confirmation banner"
    );
    assert!(company_event_details(&app, &s.company_id, "sign_up")
        .iter()
        .any(|d| d.contains("saml")));
    assert!(identities_of_company(&app, &s.company_id).contains(&(
        issuer.clone(),
        nora.clone(),
        user.id.to_string()
    )));
}

#[actix_web::test]
async fn strangers_and_uninvited_newcomers_are_refused_while_members_sign_in() {
    let app = TestApp::spawn().await;
    let (s, _, domain) = acme(&app).await;
    let mia = format!("mia@{domain}");
    add_user(&app, &s.company_id, "Mia Member", &mia, Role::Member);
    let name_id = okta_name_id();

    // Not at the company's domain: refused, nobody created.
    let stranger = email("stranger");
    let c = app.browser();
    let resp = s.solicited(&app, &c, &stranger, &[]).await;
    s.refuse(&app, &c, &resp, "not a member", "a stranger's email")
        .await;
    assert!(user_by_email(&app, &stranger).is_none());

    // With Require Invitation on, a newcomer at the domain is refused too.
    set_joining(&app, &s.company_id, &domain, true);
    let nina = format!("nina@{domain}");
    let c = app.browser();
    let resp = s.solicited(&app, &c, &nina, &[]).await;
    s.refuse(&app, &c, &resp, "invitation", "require invitation")
        .await;
    assert!(user_by_email(&app, &nina).is_none());
    // …while members still sign in.
    let c = app.browser();
    let resp = s.solicited(&app, &c, &name_id, &["--email", &mia]).await;
    s.accept(&app, &c, &resp, &mia, "member with require invitation on")
        .await;
}
