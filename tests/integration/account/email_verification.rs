//! Confirming the address after sign-up: a single-use link in the mail folder, valid 24 hours,
//! a banner until then, "send it again" limited; an invitation proves the address by itself.

use crate::helpers::db::user_by_email;
use crate::helpers::fixtures::{
    confirm_email, mails_to, sign_up, sign_up_unconfirmed, verification_path,
};
use crate::helpers::html::link_path;
use crate::helpers::{email, RequestHelper, TestApp, PASSWORD};

fn advance(app: &TestApp, by: chrono::Duration) {
    assert!(app.clock.advance(by));
}

#[actix_web::test]
async fn the_link_confirms_the_address_once_and_the_banner_goes() {
    let app = TestApp::spawn().await;
    let address = email("vera");
    let vera = sign_up_unconfirmed(&app, "Vera Co", "Vera", &address).await;
    assert!(user_by_email(&app, &address)
        .unwrap()
        .email_verified_at
        .is_none());
    let page = vera.browser.get("/dashboard").await.body;
    assert!(page.contains("data-testid=\"verify-email-banner\""));
    assert!(page.contains("data-testid=\"resend-verification\""));

    let link = verification_path(&app, &address);
    // Stored only as a hash: the token itself is nowhere in the database.
    let token = link.trim_start_matches("/verify-email/");
    assert_eq!(token.len(), 32);
    // Opening the link (as a mail scanner would) uses nothing up.
    for _ in 0..2 {
        let page = app.browser().get(&link).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(&address), "{}", page.body);
    }
    assert!(user_by_email(&app, &address)
        .unwrap()
        .email_verified_at
        .is_none());
    let r = confirm_email(&app.browser(), &link).await;
    assert_eq!(r.status, 200, "works without being signed in: {}", r.body);
    assert!(r.body.contains("data-testid=\"email-verified\""));
    assert!(user_by_email(&app, &address)
        .unwrap()
        .email_verified_at
        .is_some());
    assert!(!vera
        .browser
        .get("/dashboard")
        .await
        .body
        .contains("verify-email-banner"));
    assert_eq!(app.browser().get(&link).await.status, 410, "single use");
    assert_eq!(
        app.browser().post_form(&link, &[]).await.status,
        410,
        "single use"
    );
    assert_eq!(
        app.browser().get("/verify-email/not-a-token").await.status,
        410
    );
}

#[actix_web::test]
async fn a_link_dies_after_a_day_and_resending_is_limited() {
    let app = TestApp::spawn().await;
    let address = email("rex");
    let rex = sign_up_unconfirmed(&app, "Rex Co", "Rex", &address).await;
    let first = verification_path(&app, &address);

    // Right after the first mail, another is refused.
    rex.browser
        .post_form("/profile/email/resend", &[])
        .await
        .assert_redirect("/profile/email");
    let page = rex.browser.get("/profile/email").await.body;
    assert!(page.contains("Wait a minute"), "{page}");
    assert_eq!(mails_to(&app, &address).len(), 1);

    advance(&app, chrono::Duration::hours(25));
    assert_eq!(app.browser().get(&first).await.status, 410, "expired");
    rex.browser
        .post_form("/profile/email/resend", &[])
        .await
        .assert_redirect("/profile/email");
    assert_eq!(mails_to(&app, &address).len(), 2);
    let second = verification_path(&app, &address);
    assert_ne!(first, second);
    let r = confirm_email(&app.browser(), &second).await;
    assert!(
        r.body.contains("data-testid=\"email-verified\""),
        "{}",
        r.body
    );
}

#[actix_web::test]
async fn accepting_an_invitation_proves_the_address() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Invite Co", "Ines", &email("ines")).await;
    let invitee = email("ivo");
    let link = owner.browser.invite(&invitee, "member").await;
    let ivo = app.browser();
    let r = ivo
        .post_form(
            &link_path(&link),
            &[("name", "Ivo"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(user_by_email(&app, &invitee)
        .unwrap()
        .email_verified_at
        .is_some());
    assert!(!ivo
        .get("/dashboard")
        .await
        .body
        .contains("verify-email-banner"));
    assert!(mails_to(&app, &invitee)
        .iter()
        .all(|m| !m.contains("/verify-email/")));
}
