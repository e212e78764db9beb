//! Inviting tells an admin nothing about other companies: an address with an account elsewhere
//! is invited like an unknown one, and its owner learns on the link that they must leave their
//! workspace first. Inviting is rate-limited per company.

use crate::helpers::db::{count_users, invitation};
use crate::helpers::fixtures::{mails_to_besides_confirmation, sign_up};
use crate::helpers::html::link_path;
use crate::helpers::{email, RequestHelper, TestApp, PASSWORD};

#[actix_web::test]
async fn an_address_with_an_account_elsewhere_is_invited_like_an_unknown_one() {
    let app = TestApp::spawn().await;
    let inviter = sign_up(&app, "Inviting Co", "Ivy", &email("ivy")).await;
    let elsewhere = email("taken");
    sign_up(&app, "Other Co", "Tara", &elsewhere).await;
    let unknown = email("fresh");

    let taken = inviter
        .browser
        .post_form(
            "/settings/members/invite",
            &[("email", &elsewhere), ("role", "member")],
        )
        .await;
    let fresh = inviter
        .browser
        .post_form(
            "/settings/members/invite",
            &[("email", &unknown), ("role", "member")],
        )
        .await;
    assert_eq!((taken.status, fresh.status), (200, 200), "{}", taken.body);
    assert!(taken
        .body
        .contains(&format!("Invitation sent to {elsewhere}.")));
    assert!(invitation(&app, &elsewhere).is_some());
    assert_eq!(mails_to_besides_confirmation(&app, &elsewhere).len(), 1);

    // The invitee is told, on the link, to leave their other workspace first.
    let link = crate::helpers::fixtures::mailed_invite_link(&app, &elsewhere);
    let users = count_users(&app);
    let visitor = app.browser();
    let r = visitor.get(&link_path(&link)).await;
    r.assert_status(409);
    assert!(
        r.body.contains("leave your other workspace first"),
        "{}",
        r.body
    );
    let r = visitor
        .post_form(
            &link_path(&link),
            &[("name", "Tara"), ("password", PASSWORD)],
        )
        .await;
    r.assert_status(409);
    assert_eq!(count_users(&app), users);

    // A member of the inviting company is refused: the admin sees them in the list anyway.
    let r = inviter
        .browser
        .post_form(
            "/settings/members/invite",
            &[("email", &inviter.email), ("role", "member")],
        )
        .await;
    r.assert_status(422);
    assert!(
        r.body.contains("already a member of your company"),
        "{}",
        r.body
    );
}

#[actix_web::test]
async fn inviting_is_rate_limited_per_company() {
    let app = TestApp::spawn_with(|s| s.invite_rate_limit_per_hour = 2).await;
    let a = sign_up(&app, "Busy Co", "Bea", &email("bea")).await;
    let b = sign_up(&app, "Calm Co", "Cal", &email("cal")).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let address = email("many");
        let r = a
            .browser
            .post_form(
                "/settings/members/invite",
                &[("email", &address), ("role", "member")],
            )
            .await;
        statuses.push(r.status);
    }
    assert_eq!(statuses, [200, 200, 429]);
    b.browser.invite(&email("one"), "member").await;
}
