//! A member's own items: how they sign in, two-factor, their tokens; none of the company's.

use meetergo_console::domain::Role;

use super::{checks, dashboard, item, state};
use crate::account::two_factor::enrol;
use crate::helpers::db::{add_user, pat_id};
use crate::helpers::fixtures::sign_up;
use crate::helpers::{email, RequestHelper, TestApp};

const PERSONAL_ITEMS: [&str; 5] = [
    "sign-in",
    "two-factor",
    "own-expiring",
    "own-unused",
    "own-no-expiry",
];

#[actix_web::test]
async fn a_member_sees_only_their_own_items_and_none_of_the_company() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Own KG", "Olga Owner", &email("olga")).await;
    let max_email = email("max");
    add_user(
        &app,
        &owner.company_id,
        "Max Member",
        &max_email,
        Role::Member,
    );
    let member = app.browser();
    member.sign_in(&max_email).await;

    let html = dashboard(&member).await;
    let ids: Vec<String> = checks(&html).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, PERSONAL_ITEMS);
    assert!(!html.contains("data-testid=\"checklist-company\""));
    assert!(
        !html.contains("check-fix-form"),
        "no company switch for a member"
    );
    assert!(item(&html, "sign-in").contains("with your password"));
    assert!(html.contains("<strong>4 of 5</strong> done"), "{html}");

    // The owner's list holds the company's items and the owner's own.
    let ids: Vec<String> = checks(&dashboard(&owner.browser).await)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids.len(), 9 + PERSONAL_ITEMS.len());
    assert_eq!(&ids[9..], PERSONAL_ITEMS);
}

#[actix_web::test]
async fn two_factor_is_done_once_enrolled() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Code KG", "Olga Owner", &email("olga")).await;
    let html = dashboard(&owner.browser).await;
    assert_eq!(state(&html, "two-factor"), "attention");
    assert!(item(&html, "two-factor").contains("href=\"/profile/two-factor\""));
    enrol(&app, &owner.browser).await;
    assert_eq!(state(&dashboard(&owner.browser).await, "two-factor"), "ok");
}

#[actix_web::test]
async fn tokens_about_to_expire_or_without_expiry_need_attention_until_dealt_with() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Tok KG", "Olga Owner", &email("olga")).await;
    let b = &owner.browser;
    let html = dashboard(b).await;
    for id in ["own-expiring", "own-unused", "own-no-expiry"] {
        assert_eq!(state(&html, id), "ok", "{id}");
    }

    b.create_pat("Weekly", "7").await;
    b.create_pat("Forever", "none").await;
    let weekly = pat_id(&app, &owner.id, "Weekly");
    let forever = pat_id(&app, &owner.id, "Forever");
    let html = dashboard(b).await;
    assert_eq!(state(&html, "own-expiring"), "attention");
    assert!(item(&html, "own-expiring").contains(&format!(
        "href=\"/integrations/api/tokens/{weekly}/regenerate\""
    )));
    assert_eq!(state(&html, "own-no-expiry"), "attention");
    assert!(item(&html, "own-no-expiry").contains("Forever"));
    assert!(item(&html, "own-no-expiry").contains(&format!(
        "href=\"/integrations/api/tokens/{forever}/regenerate\""
    )));
    // The expiring list below stays, with its exact date on hover.
    assert!(html.contains("id=\"expiring-credentials\""));
    assert!(html.contains("<time datetime="));

    for id in [&weekly, &forever] {
        b.post_form(&format!("/integrations/api/tokens/{id}/revoke"), &[])
            .await
            .assert_status(303);
    }
    let html = dashboard(b).await;
    assert_eq!(state(&html, "own-expiring"), "ok");
    assert_eq!(state(&html, "own-no-expiry"), "ok");
}
