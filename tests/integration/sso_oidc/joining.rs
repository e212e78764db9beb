//! OpenID newcomers follow the company's joining rule: with Require Invitation only an invitation
//! started from its link lets the invited email in; without it the domain joins as members.

use crate::helpers::db::{invitation, set_joining, user_by_email};
use crate::helpers::fixtures::sign_up;
use crate::helpers::html::token_of;
use crate::helpers::{random_domain, Person, TestApp};

use super::flow::{round_trip, sign_in_as};
use super::{assert_refusal, before, footprint, identities_of};

/// "Domain Co", claiming a domain of its own with Require Invitation on; returns its owner
/// (signed in) and the domain.
async fn domain_co(app: &TestApp) -> (Person, String) {
    let domain = random_domain("join");
    let owner = sign_up(app, "Domain Co", "Olga", &format!("olga@{domain}")).await;
    set_joining(app, &owner.company_id, &domain, true);
    (owner, domain)
}

/// The owner invites `address` as an admin, through the members page; returns the link's token.
async fn invite_admin(owner: &Person, address: &str) -> String {
    token_of(&owner.browser.invite(address, "admin").await)
}

#[actix_web::test]
async fn with_require_invitation_nobody_joins_without_their_invitation_link() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let (owner, domain) = domain_co(&app).await;

    // Require Invitation on, no invitation: refused, nothing created.
    let newcomer = format!("nick@{domain}");
    let browser = app.browser();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &browser, &newcomer).await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        "Your organization requires an invitation to join.",
        "requires an invitation",
    )
    .await;
    assert!(user_by_email(&app, &newcomer).is_none());

    let invited = format!("ida@{domain}");
    let token = invite_admin(&owner, &invited).await;
    // A pending invitation is not picked up by email alone: signing in is not joining.
    let was = before(&app);
    let stranger = app.browser();
    let r = sign_in_as(&app, &provider, &stranger, &invited).await;
    assert_refusal(
        &app,
        &stranger,
        was,
        &r,
        "requires an invitation",
        "requires an invitation",
    )
    .await;
    // The link used with another account of the provider does not let that account in.
    let was = before(&app);
    let other = app.browser();
    let r = round_trip(
        &app,
        &provider,
        &other,
        &format!("?invitation={token}"),
        &format!("mallory@{domain}"),
    )
    .await;
    assert_refusal(
        &app,
        &other,
        was,
        &r,
        "This invitation is for",
        "This invitation is for",
    )
    .await;
}

#[actix_web::test]
async fn started_from_the_invitation_link_the_invited_email_joins_with_the_invited_role() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let (owner, domain) = domain_co(&app).await;
    let company_id = owner.company_id.clone();
    let invited = format!("ida@{domain}");
    let token = invite_admin(&owner, &invited).await;

    // Started from the invitation link, with the invited email: joins with the invited role.
    let was = footprint(&app);
    let browser = app.browser();
    let r = round_trip(
        &app,
        &provider,
        &browser,
        &format!("?invitation={token}"),
        &invited,
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    assert!(browser.is_signed_in().await);
    let ida = user_by_email(&app, &invited).expect("ida joined");
    assert_eq!(ida.company_id.as_str(), company_id);
    assert_eq!(ida.role.as_str(), "admin");
    assert!(ida.password_hash.is_none());
    let now = footprint(&app);
    assert_eq!(now.users, was.users + 1);
    assert_eq!(now.companies, was.companies, "no workspace of her own");
    assert_eq!(now.invitations_accepted, was.invitations_accepted + 1);
    let invitation = invitation(&app, &invited).expect("invitation");
    assert!(invitation.accepted_at.is_some(), "the invitation is used");
    assert_eq!(identities_of(&app, ida.id.as_str()).len(), 1);
}

#[actix_web::test]
async fn without_require_invitation_a_newcomer_with_the_domain_joins_as_a_member() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let (owner, domain) = domain_co(&app).await;
    let company_id = owner.company_id.clone();
    let newcomer = format!("nick@{domain}");
    let was = footprint(&app);

    // Require Invitation off: a newcomer with the domain joins as a member.
    set_joining(&app, &company_id, &domain, false);
    let browser = app.browser();
    let r = sign_in_as(&app, &provider, &browser, &newcomer).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let nick = user_by_email(&app, &newcomer).expect("nick joined");
    assert_eq!(nick.company_id.as_str(), company_id);
    assert_eq!(nick.role.as_str(), "member");
    assert_eq!(footprint(&app).companies, was.companies);
}
