//! Enforce SSO with OpenID: members are refused (and the refusal audited), the owner may still
//! sign in, as an audited break-glass sign-in.

use meetergo_console::db::models::AuditEvent;

use crate::helpers::db::{events_of_kind, set_joining, set_sso_enforced, user_by_email};
use crate::helpers::fixtures::sign_up;
use crate::helpers::{random_domain, TestApp};

use super::flow::{round_trip, sign_in_as};
use super::{assert_refusal, before, identities_of};

#[actix_web::test]
async fn enforce_sso_refuses_members_and_lets_the_owner_break_glass() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let domain = random_domain("enforce");
    let owner_email = format!("owen@{domain}");
    let owner = sign_up(&app, "Strict Co", "Owen", &owner_email).await;
    let company_id = owner.company_id.clone();
    // The owner links the provider from the profile.
    let r = round_trip(
        &app,
        &provider,
        &owner.browser,
        "?purpose=link",
        &owner_email,
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/profile");
    assert_eq!(identities_of(&app, owner.id.as_str()).len(), 1);
    // A member joins through the provider (the company claims the domain).
    set_joining(&app, &company_id, &domain, false);
    let member_email = format!("mia@{domain}");
    let r = sign_in_as(&app, &provider, &app.browser(), &member_email).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let mia = user_by_email(&app, &member_email).expect("mia joined");
    assert_eq!(mia.role.as_str(), "member");
    assert_eq!(mia.company_id.as_str(), company_id);

    set_sso_enforced(&app, &company_id, true);

    // The member: refused.
    let browser = app.browser();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &browser, &member_email).await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        "Your company requires single sign-on.",
        "requires single sign-on",
    )
    .await;
    let refused: Vec<AuditEvent> = events_of_kind(&app, "sign_in.failed")
        .into_iter()
        .filter(|e| e.company_id.as_ref().map(|c| c.as_str()) == Some(company_id.as_str()))
        .collect();
    assert!(
        refused
            .iter()
            .any(|e| e.target.as_deref() == Some(mia.id.as_str())
                && e.detail.as_deref() == Some("oidc:okta refused: SSO enforced")),
        "{refused:?}"
    );

    // The owner: allowed, and the break-glass sign-in is audited.
    assert!(events_of_kind(&app, "sign_in.break_glass").is_empty());
    let browser = app.browser();
    let r = sign_in_as(&app, &provider, &browser, &owner_email).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    assert!(browser.is_signed_in().await);
    let glass = events_of_kind(&app, "sign_in.break_glass");
    assert_eq!(glass.len(), 1, "{glass:?}");
    let glass = glass.first().expect("break glass event");
    assert_eq!(glass.actor_id.as_deref(), Some(owner.id.as_str()));
    assert_eq!(
        glass.company_id.as_ref().map(|c| c.as_str()),
        Some(company_id.as_str())
    );
    assert_eq!(
        glass.detail.as_deref(),
        Some("owner signed in by oidc:okta while SSO is enforced")
    );
}
