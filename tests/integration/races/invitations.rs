//! An invitation accepted, sent again or revoked N times at once.

use diesel::prelude::*;
use meetergo_console::db::schema::{invitations, users};

use super::{assert_one_winner, events, post_at_once, Team};
use crate::helpers::{client, email, TestApp, PASSWORD};

/// Invites a new address through the members page; returns (address, invitation id, link path).
async fn invite(app: &TestApp) -> (String, String, String) {
    let address = email("ivy");
    let r = app
        .post_form(
            "/settings/members",
            "/settings/members/invite",
            &[("email", &address), ("role", "member")],
        )
        .await;
    assert_eq!(r.status(), 200, "inviting {address}");
    let html = r.text().await.expect("body");
    let marker = "data-testid=\"invite-link\">";
    let link = html
        .find(marker)
        .and_then(|at| html.get(at + marker.len()..))
        .and_then(|rest| rest.get(..rest.find('<')?))
        .expect("the invitation link is shown");
    let path = link
        .find("/invite/")
        .and_then(|at| link.get(at..))
        .expect("an /invite/ link")
        .to_owned();
    let id: String = invitations::table
        .filter(invitations::email.eq(&address))
        .select(invitations::id)
        .first(&mut *app.db.conn().expect("db connection"))
        .expect("invitation stored");
    (address, id, path)
}

#[actix_web::test]
async fn an_invitation_accepted_many_times_at_once_makes_one_account() {
    let app = TestApp::spawn().await;
    Team::new(&app).await;
    let (address, id, path) = invite(&app).await;
    // The invited person's browser, clicking "Join" again and again.
    let browser = client();
    let outcomes = post_at_once(
        &app,
        &browser,
        &[("invitations", &id)],
        &path,
        &path,
        &[("name", "Ivy Invited"), ("password", PASSWORD)],
    )
    .await;
    // The losers see the link's problem page: already used (410) or the account exists (409).
    assert_one_winner("accepting an invitation", &outcomes, 303, &[409, 410]);
    let accounts: i64 = users::table
        .filter(users::email.eq(&address))
        .count()
        .get_result(&mut *app.db.conn().expect("db connection"))
        .expect("count users");
    assert_eq!(accounts, 1);
    assert_eq!(events(&app, "invitation.accepted"), 1);
}

#[actix_web::test]
async fn an_invitation_sent_again_many_times_at_once_is_sent_once() {
    let app = TestApp::spawn().await;
    Team::new(&app).await;
    let (_, id, old_path) = invite(&app).await;
    // The resend form names the link it replaces.
    let (_, html) = app.get_html("/settings/members").await;
    let marker = "name=\"replaces\" value=\"";
    let replaces = html
        .find(marker)
        .and_then(|at| html.get(at + marker.len()..))
        .and_then(|rest| rest.get(..rest.find('"')?))
        .expect("the resend form names the link it replaces")
        .to_owned();
    let outcomes = post_at_once(
        &app,
        &app.client,
        &[("invitations", &id)],
        "/settings/members",
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
    let marker = "data-testid=\"invite-link\">";
    let link = winner
        .body
        .find(marker)
        .and_then(|at| winner.body.get(at + marker.len()..))
        .and_then(|rest| rest.get(..rest.find('<')?))
        .expect("the new link is shown");
    let new_path = link
        .get(link.find("/invite/").expect("link")..)
        .expect("path");
    let anonymous = client();
    let status = |p: String| {
        let c = anonymous.clone();
        let url = app.url(&p);
        async move { c.get(url).send().await.expect("GET").status().as_u16() }
    };
    assert_eq!(status(new_path.to_owned()).await, 200);
    assert_eq!(status(old_path).await, 404);
}

#[actix_web::test]
async fn an_invitation_revoked_many_times_at_once_is_revoked_once() {
    let app = TestApp::spawn().await;
    Team::new(&app).await;
    let (_, id, _) = invite(&app).await;
    let outcomes = post_at_once(
        &app,
        &app.client,
        &[("invitations", &id)],
        "/settings/members",
        &format!("/settings/invitations/{id}/revoke"),
        &[],
    )
    .await;
    assert_one_winner("revoking an invitation", &outcomes, 303, &[409]);
    assert_eq!(events(&app, "invitation.revoked"), 1);
}
