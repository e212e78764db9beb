//! Invitations: mailed single-use links to a form with the email fixed; used, revoked, expired
//! and unknown links let nobody in; resending replaces the link; only hashes are stored.

use diesel::prelude::*;
use meetergo_console::db::schema::invitations;

use crate::helpers::db::{conn, count_users, events_about, invitation, user_by_email};
use crate::helpers::fixtures::mailed_invite_link;
use crate::helpers::fixtures::{mails_to, sign_up};
use crate::helpers::html::{link_path, token_of};
use crate::helpers::time::invitations_expire;
use crate::helpers::{email, Person, Reply, RequestHelper, TestApp, PASSWORD};

use super::COMPANY_A;

/// Company A, its owner signed in.
async fn company_a(app: &TestApp) -> Person {
    sign_up(app, COMPANY_A, "Olga Owner", &email("olga")).await
}

/// The owner invites a new address as `role`; returns (invitation id, email, link).
async fn invite(app: &TestApp, owner: &Person, name: &str, role: &str) -> (String, String, String) {
    let address = email(name);
    let link = owner.browser.invite(&address, role).await;
    let id = invitation(app, &address)
        .expect("invitation stored")
        .id
        .to_string();
    (id, address, link)
}

/// Accepts the invitation behind `link` in a new browser, as `name`.
async fn accept(app: &TestApp, link: &str, name: &str) -> Reply {
    app.browser()
        .post_form(&link_path(link), &[("name", name), ("password", PASSWORD)])
        .await
}

async fn revoke(owner: &Person, id: &str) {
    let r = owner
        .browser
        .post_form(&format!("/settings/invitations/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
}

/// Opening and posting the link are both refused with `status` and the page says `says`;
/// nobody is created (`address`, when given, has no account) and the browser is not signed in.
async fn assert_link_refused(
    app: &TestApp,
    link_path: &str,
    address: Option<&str>,
    status: u16,
    says: &str,
) {
    let users_before = count_users(app);
    let visitor = app.browser();
    let r = visitor.get(link_path).await;
    assert_eq!(r.status, status, "opening: {}", r.body);
    assert!(r.body.contains(says), "{says:?}: {}", r.body);
    let r = visitor
        .post_form(link_path, &[("name", "Someone"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, status, "posting: {}", r.body);
    assert!(r.body.contains(says), "{says:?}: {}", r.body);
    assert!(!visitor.is_signed_in().await);
    if let Some(a) = address {
        assert!(user_by_email(app, a).is_none(), "{a} has no account");
    }
    assert_eq!(count_users(app), users_before);
}

#[actix_web::test]
async fn an_invitation_is_mailed_with_a_link_to_a_form_with_the_email_fixed() {
    let app = TestApp::spawn().await;
    let owner = company_a(&app).await;
    let (_, invitee, link) = invite(&app, &owner, "ines", "admin").await;

    // The page showed the link, and the mail folder holds it too.
    let mails = mails_to(&app, &invitee);
    assert_eq!(mails.len(), 1, "one mail to {invitee}");
    assert!(
        mails[0].contains(&link),
        "the mail carries the link:\n{}",
        mails[0]
    );
    assert!(mails[0].contains(&format!("To: {invitee}")), "{}", mails[0]);
    assert!(mails[0].contains(COMPANY_A));

    // The link opens a form with the email fixed.
    let form = app.browser().get(&link_path(&link)).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains(&format!(
        "value=\"{invitee}\" readonly data-testid=\"accept-email\""
    )));
    assert!(
        !form.body.contains("name=\"email\""),
        "no editable email field"
    );
    assert!(form.body.contains(&format!("Join {COMPANY_A}")));
    assert!(form.body.contains("<strong>admin</strong>"));
}

#[actix_web::test]
async fn accepting_joins_with_the_invited_role_and_signs_in_whatever_email_is_posted() {
    let app = TestApp::spawn().await;
    let owner = company_a(&app).await;
    let (_, invitee, link) = invite(&app, &owner, "ines", "admin").await;

    let guest = app.browser();
    let smuggled = email("smuggled");
    let r = guest
        .post_form(
            &link_path(&link),
            &[
                ("name", "Ines Invited"),
                ("password", PASSWORD),
                ("email", smuggled.as_str()),
            ],
        )
        .await;
    r.assert_redirect("/dashboard");
    assert!(user_by_email(&app, &smuggled).is_none());
    let joined = user_by_email(&app, &invitee).expect("the invited account");
    assert_eq!(joined.company_id.as_str(), owner.company_id);
    assert_eq!(joined.role.as_str(), "admin");
    assert_eq!(joined.name, "Ines Invited");
    let dashboard = guest.get("/dashboard").await;
    assert_eq!(dashboard.status, 200, "signed in");
    assert!(dashboard
        .body
        .contains("data-testid=\"dashboard-role\">admin<"));
    assert!(dashboard.body.contains(&format!("Welcome to {COMPANY_A}!")));
    assert_eq!(
        events_about(&app, &owner.company_id, "invitation.accepted", &invitee),
        1
    );
    assert!(invitation(&app, &invitee)
        .expect("invitation")
        .accepted_at
        .is_some());
}

#[actix_web::test]
async fn a_used_revoked_expired_or_unknown_link_lets_nobody_in() {
    let app = TestApp::spawn().await;
    let owner = company_a(&app).await;

    // A second use: 410 "already been used", for opening and for posting.
    let (_, used_email, used_link) = invite(&app, &owner, "ines", "admin").await;
    accept(&app, &used_link, "Ines").await.assert_status(303);
    assert_link_refused(&app, &link_path(&used_link), None, 410, "already been used").await;
    assert!(user_by_email(&app, &used_email).is_some(), "the first use");

    // Revoked: 410.
    let (id, revoked_email, revoked_link) = invite(&app, &owner, "rita", "member").await;
    revoke(&owner, &id).await;
    assert_link_refused(
        &app,
        &link_path(&revoked_link),
        Some(&revoked_email),
        410,
        "withdrawn",
    )
    .await;

    // Expired: 410.
    let (_, expired_email, expired_link) = invite(&app, &owner, "ezra", "member").await;
    invitations_expire(&app);
    assert_link_refused(
        &app,
        &link_path(&expired_link),
        Some(&expired_email),
        410,
        "expired",
    )
    .await;

    // Unknown: 404.
    let unknown = "/invite/NoSuchTokenAtAll0123456789abcdef";
    let visitor = app.browser();
    let r = visitor.get(unknown).await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("not valid"), "{}", r.body);
    let r = visitor
        .post_form(unknown, &[("name", "Nobody"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, 404);
}

#[actix_web::test]
async fn resending_mails_a_new_link_and_the_old_one_stops_working() {
    let app = TestApp::spawn().await;
    let owner = company_a(&app).await;
    let (id, resent_email, old_link) = invite(&app, &owner, "rene", "member").await;
    let r = owner
        .browser
        .post_form(&format!("/settings/invitations/{id}/resend"), &[])
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("The previous link no longer works."));
    let new_link = mailed_invite_link(&app, &resent_email);
    assert_ne!(new_link, old_link);
    let mails = mails_to(&app, &resent_email);
    assert_eq!(mails.len(), 2, "a second mail");
    assert!(mails[1].contains(&new_link));
    assert!(!mails[1].contains(&old_link));

    let visitor = app.browser();
    assert_eq!(visitor.get(&link_path(&old_link)).await.status, 404);
    let r = accept(&app, &old_link, "René").await;
    assert_eq!(r.status, 404);
    assert!(user_by_email(&app, &resent_email).is_none());
    assert_eq!(visitor.get(&link_path(&new_link)).await.status, 200);
    let r = accept(&app, &new_link, "René").await;
    assert_eq!(r.status, 303);
    assert_eq!(
        user_by_email(&app, &resent_email)
            .expect("joined")
            .role
            .as_str(),
        "member"
    );
}

#[actix_web::test]
async fn invitation_links_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let owner = company_a(&app).await;
    let mut tokens_seen = Vec::new();
    // One accepted, one revoked, one sent again, and then those pending expire.
    let (_, _, accepted) = invite(&app, &owner, "ines", "admin").await;
    accept(&app, &accepted, "Ines").await.assert_status(303);
    let (revoked_id, _, revoked) = invite(&app, &owner, "rita", "member").await;
    revoke(&owner, &revoked_id).await;
    let (_, _, expired) = invite(&app, &owner, "ezra", "member").await;
    let (resent_id, resent_address, resent) = invite(&app, &owner, "rene", "member").await;
    let r = owner
        .browser
        .post_form(&format!("/settings/invitations/{resent_id}/resend"), &[])
        .await;
    r.assert_status(200);
    let new_link = mailed_invite_link(&app, &resent_address);
    invitations_expire(&app);
    for link in [&accepted, &revoked, &expired, &resent, &new_link] {
        tokens_seen.push(token_of(link));
    }

    // The database holds hashes only: no link secret appears anywhere in the table.
    let mut c = conn(&app);
    type Row = (String, String, String, String, String, String);
    let rows: Vec<Row> = invitations::table
        .select((
            invitations::id,
            invitations::company_id,
            invitations::email,
            invitations::role,
            invitations::token_hash,
            invitations::invited_by,
        ))
        .load(&mut *c)
        .expect("invitations");
    assert_eq!(rows.len(), 4);
    for token in &tokens_seen {
        assert_eq!(token.len(), 32, "a full token: {token}");
        for row in &rows {
            let text = format!("{row:?}");
            assert!(
                !text.contains(token.as_str()),
                "token {token} stored: {text}"
            );
        }
    }
}
