//! The scenario of issue 10: an outsider signs up with an address at someone else's domain
//! (they cannot read its mail), claims the domain, and waits for its people to sign up. They
//! get nothing: no claim, no member, nobody visible in the member list or through the API.

use super::claim;
use crate::helpers::db::{domain_claims, user_by_email};
use crate::helpers::fixtures::{sign_up, sign_up_unconfirmed, verification_path};
use crate::helpers::{random_domain, RequestHelper, TestApp};

#[actix_web::test]
async fn an_outsider_with_an_unconfirmed_address_takes_over_nothing() {
    let app = TestApp::spawn().await;
    let victim = random_domain("victim");
    let outsider =
        sign_up_unconfirmed(&app, "Outsider Co", "Mallory", &format!("mallory@{victim}")).await;
    // The banner asks them to confirm; they cannot, the link goes to the victim's mail.
    let dashboard = outsider.browser.get("/dashboard").await.body;
    assert!(dashboard.contains("data-testid=\"verify-email-banner\""));
    let r = claim(&outsider.browser, "Outsider Co", &victim).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Confirm your email address first"));
    assert!(domain_claims(&app, &outsider.company_id).is_empty());

    // Even with a confirmed address elsewhere, a claim on the victim's domain stays pending.
    let other = sign_up(
        &app,
        "Other Outsider",
        "Mel",
        &format!("mel@{}", random_domain("m")),
    )
    .await;
    assert_eq!(
        claim(&other.browser, "Other Outsider", &victim)
            .await
            .status,
        303
    );
    assert_eq!(
        domain_claims(&app, &other.company_id),
        [(victim.clone(), false)]
    );

    // The victim's people sign up and confirm: they get workspaces of their own.
    let alice = sign_up(&app, "Victim Inc", "Alice", &format!("alice@{victim}")).await;
    assert_ne!(alice.company_id, outsider.company_id);
    assert_ne!(alice.company_id, other.company_id);
    assert_eq!(
        user_by_email(&app, &alice.email).unwrap().role.as_str(),
        "owner"
    );
    for watcher in [&outsider, &other] {
        let members = watcher.browser.get("/settings/members").await.body;
        assert!(!members.contains(&alice.email), "not in the member list");
        let pat = watcher.browser.create_pat("Peek", "30").await;
        let users = app.token(&pat).get("/v4/user").await.body;
        assert!(!users.contains(&alice.email), "not visible through the API");
    }
    // And the outsider's own link, if it ever leaked to them, proves only what it was sent to.
    let link = verification_path(&app, &outsider.email);
    assert!(link.starts_with("/verify-email/"));
}
