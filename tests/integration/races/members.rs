//! Offboarding (page and `/v4`), role change and ownership transfer, each sent N times at once.

use diesel::prelude::*;
use meetergo_console::db::schema::audit_events;

use reqwest::Method;

use super::{assert_one_winner, at_once, events, post_at_once, race, role_and_status, Team, N};
use crate::helpers::db::conn;
use crate::helpers::{RequestHelper, TestApp, PASSWORD};

#[actix_web::test]
async fn offboarding_a_member_many_times_at_once_offboards_them_once() {
    let app = TestApp::spawn().await;
    let team = Team::new(&app).await;
    let leaver = team.add("Lea", "member").await;
    let outcomes = post_at_once(
        &app,
        &team.owner,
        &[("users", &leaver)],
        &format!("/settings/members/{leaver}/offboard"),
        &[("transfer_to", &team.owner_id)],
    )
    .await;
    assert_one_winner("offboarding", &outcomes, 303, &[409]);
    assert!(outcomes
        .iter()
        .any(|o| o.status == 303 && o.location() == "/settings/members"));
    assert!(outcomes
        .iter()
        .filter(|o| o.status == 409)
        .all(|o| o.body.contains("already been offboarded")));
    assert_eq!(events(&app, "member.offboarded"), 1);
    assert_eq!(role_and_status(&app, &leaver).1, "removed");
}

#[actix_web::test]
async fn deleting_a_user_through_the_api_many_times_at_once_removes_them_once() {
    let app = TestApp::spawn().await;
    let team = Team::new(&app).await;
    let leaver = team.add("Lou", "member").await;
    let api = app.token(&team.key).acting_as(&team.owner_id);
    let request = api.request(Method::DELETE, &format!("/v4/user/{leaver}"));
    let outcomes = at_once(&app, &api, &[("users", &leaver)], request).await;
    assert_one_winner("DELETE /v4/user", &outcomes, 204, &[409]);
    for o in outcomes.iter().filter(|o| o.status == 409) {
        assert_eq!(o.json()["statusCode"], 409, "{}", o.body);
        assert_eq!(o.code(), "conflict", "{}", o.body);
    }
    assert_eq!(events(&app, "member.offboarded"), 1);
    assert_eq!(role_and_status(&app, &leaver).1, "removed");
}

#[actix_web::test]
async fn one_role_change_sent_many_times_at_once_happens_once() {
    let app = TestApp::spawn().await;
    let team = Team::new(&app).await;
    let member = team.add("Mia", "member").await;
    let outcomes = post_at_once(
        &app,
        &team.owner,
        &[("users", &member)],
        &format!("/settings/members/{member}/role"),
        &[("role", "admin"), ("from", "member")],
    )
    .await;
    assert_one_winner("role change", &outcomes, 303, &[409]);
    assert_eq!(events(&app, "role.changed"), 1);
    assert_eq!(role_and_status(&app, &member).0, "admin");

    // The page sends the role it showed: a form from before the change is a conflict too.
    let again = post_at_once(
        &app,
        &team.owner,
        &[],
        &format!("/settings/members/{member}/role"),
        &[("role", "member"), ("from", "member")],
    )
    .await;
    assert!(again.iter().all(|o| o.status == 409), "{again:#?}");
    assert_eq!(role_and_status(&app, &member).0, "admin");
    assert_eq!(events(&app, "role.changed"), 1);
}

#[actix_web::test]
async fn one_ownership_transfer_sent_many_times_at_once_happens_once() {
    let app = TestApp::spawn().await;
    let team = Team::new(&app).await;
    let admin = team.add("Ada", "admin").await;
    let outcomes = post_at_once(
        &app,
        &team.owner,
        &[("users", &team.owner_id)],
        "/settings/company/transfer-ownership",
        &[("user_id", &admin), ("password", PASSWORD)],
    )
    .await;
    assert_one_winner("ownership transfer", &outcomes, 303, &[409]);
    assert_eq!(events(&app, "ownership.transferred"), 1);
    assert_eq!(role_and_status(&app, &admin).0, "owner");
    assert_eq!(role_and_status(&app, &team.owner_id).0, "admin");
}

/// When the events of this kind were written.
fn written_at(app: &TestApp, kind: &str) -> Vec<chrono::NaiveDateTime> {
    audit_events::table
        .filter(audit_events::kind.eq(kind))
        .select(audit_events::created_at)
        .load(&mut *conn(app))
        .expect("audit events")
}

#[actix_web::test]
async fn a_role_change_racing_an_offboarding_never_lands_after_it() {
    let app = TestApp::spawn().await;
    let team = Team::new(&app).await;
    let member = team.add("Mo", "member").await;
    let token = team.owner.csrf_token().await;
    let offboard = || {
        team.owner
            .request(
                Method::POST,
                &format!("/settings/members/{member}/offboard"),
            )
            .form(&[
                ("transfer_to", team.owner_id.as_str()),
                ("csrf_token", &token),
            ])
    };
    let promote = || {
        team.owner
            .request(Method::POST, &format!("/settings/members/{member}/role"))
            .form(&[
                ("role", "admin"),
                ("from", "member"),
                ("csrf_token", &token),
            ])
    };
    // The offboardings first, then the role changes: on PostgreSQL they queue for the
    // member's row in that order, so the role changes come after an offboarding.
    let waves = vec![
        (0..N / 2).map(|_| offboard()).collect(),
        (0..N / 2).map(|_| promote()).collect(),
    ];
    let outcomes = race(&app, &team.owner, &[("users", &member)], waves).await;
    assert!(
        outcomes.iter().all(|o| [303, 409].contains(&o.status)),
        "{outcomes:#?}"
    );
    let offboarded = written_at(&app, "member.offboarded");
    assert_eq!(offboarded.len(), 1);
    assert_eq!(role_and_status(&app, &member).1, "removed");
    // A role change may come first; none may change the member once they are offboarded.
    let changed = written_at(&app, "role.changed");
    assert!(changed.len() <= 1, "{changed:?}");
    assert!(
        changed
            .iter()
            .all(|at| offboarded.iter().all(|off| at < off)),
        "role changed {changed:?} after offboarding {offboarded:?}"
    );
}
