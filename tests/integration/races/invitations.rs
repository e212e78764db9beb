//! An invitation accepted, sent again or revoked N times at once.

use diesel::prelude::*;
use meetergo_console::db::schema::users;

use super::{assert_one_winner, events, post_at_once, Team};
use crate::helpers::db::{conn, invitation};
use crate::helpers::fixtures::mailed_invite_link;
use crate::helpers::html::link_path;
use crate::helpers::{email, RequestHelper, TestApp, PASSWORD};

/// The owner invites a new address through the members page; returns (address, invitation
/// id, link path).
async fn invite(team: &Team<'_>) -> (String, String, String) {
    let address = email("ivy");
    let path = link_path(&team.owner.invite(&address, "member").await);
    let id = invitation(team.app, &address)
        .expect("invitation stored")
        .id
        .to_string();
    (address, id, path)
}

#[actix_web::test]
async fn an_invitation_accepted_many_times_at_once_makes_one_account() {
    let app = TestApp::spawn().await;
    let team = Team::new(&app).await;
    let (address, id, path) = invite(&team).await;
    // The invited person's browser, clicking "Join" again and again.
    let browser = app.browser();
    let outcomes = post_at_once(
        &app,
        &browser,
        &[("invitations", &id)],
        &path,
        &[("name", "Ivy Invited"), ("password", PASSWORD)],
    )
    .await;
    // The losers see the link's problem page: already used (410) or the account exists (409).
    assert_one_winner("accepting an invitation", &outcomes, 303, &[409, 410]);
    let accounts: i64 = users::table
        .filter(users::email.eq(&address))
        .count()
        .get_result(&mut *conn(&app))
        .expect("count users");
    assert_eq!(accounts, 1);
    assert_eq!(events(&app, "invitation.accepted"), 1);
}

#[actix_web::test]
async fn an_invitation_sent_again_many_times_at_once_is_sent_once() {
    let app = TestApp::spawn().await;
    let team = Team::new(&app).await;
    let (address, id, old_path) = invite(&team).await;
    // The resend form names the link it replaces.
    let html = team.owner.get("/settings/members").await.body;
    let marker = "name=\"replaces\" value=\"";
    let replaces = html
        .find(marker)
        .and_then(|at| html.get(at + marker.len()..))
        .and_then(|rest| rest.get(..rest.find('"')?))
        .expect("the resend form names the link it replaces")
        .to_owned();
    let outcomes = post_at_once(
        &app,
        &team.owner,
        &[("invitations", &id)],
        &format!("/settings/invitations/{id}/resend"),
        &[("replaces", &replaces)],
    )
    .await;
    assert_one_winner("sending an invitation again", &outcomes, 200, &[409]);
    assert_eq!(events(&app, "invitation.resent"), 1);
    // The winner's new link works; the one it replaced does not.
    let winner = outcomes
        .iter()
        .find(|o| o.status == 200)
        .expect("one winner");
    assert!(winner.body.contains("Invitation sent again"));
    let new_path = link_path(&mailed_invite_link(&app, &address));
    let anonymous = app.browser();
    assert_eq!(anonymous.get(&new_path).await.status, 200);
    assert_eq!(anonymous.get(&old_path).await.status, 404);
}

#[actix_web::test]
async fn an_invitation_revoked_many_times_at_once_is_revoked_once() {
    let app = TestApp::spawn().await;
    let team = Team::new(&app).await;
    let (_, id, _) = invite(&team).await;
    let outcomes = post_at_once(
        &app,
        &team.owner,
        &[("invitations", &id)],
        &format!("/settings/invitations/{id}/revoke"),
        &[],
    )
    .await;
    assert_one_winner("revoking an invitation", &outcomes, 303, &[409]);
    assert_eq!(events(&app, "invitation.revoked"), 1);
}
