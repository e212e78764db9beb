//! Platform API Keys deactivated, activated and revoked, and a PAT revoked, N times at once.

use diesel::prelude::*;
use meetergo_console::db::schema::{personal_access_tokens as pats, platform_api_keys as keys};

use super::{assert_one_winner, events, post_at_once, Team};
use crate::helpers::db::conn;
use crate::helpers::TestApp;

#[actix_web::test]
async fn each_api_key_change_sent_many_times_at_once_happens_once() {
    let app = TestApp::spawn().await;
    let team = Team::new(&app).await;
    team.owner.create_api_key("Race key", "30").await;
    let id: String = keys::table
        .filter(keys::name.eq("Race key"))
        .select(keys::id)
        .first(&mut *conn(&app))
        .expect("key stored");
    for (change, kind) in [
        ("deactivate", "api_key.deactivated"),
        ("activate", "api_key.activated"),
        ("revoke", "api_key.revoked"),
    ] {
        let outcomes = post_at_once(
            &app,
            &team.owner,
            &[("platform_api_keys", &id)],
            &format!("/admin/api-keys/{id}/{change}"),
            &[],
        )
        .await;
        assert_one_winner(change, &outcomes, 303, &[409]);
        assert_eq!(events(&app, kind), 1, "{kind}");
    }
    let (deactivated, revoked): (Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>) =
        keys::table
            .filter(keys::id.eq(&id))
            .select((keys::deactivated_at, keys::revoked_at))
            .first(&mut *conn(&app))
            .expect("key");
    assert!(deactivated.is_none() && revoked.is_some());
}

#[actix_web::test]
async fn a_token_revoked_many_times_at_once_is_revoked_once() {
    let app = TestApp::spawn().await;
    let team = Team::new(&app).await;
    team.owner.create_pat("Race token", "30").await;
    let id: String = pats::table
        .filter(pats::name.eq("Race token"))
        .select(pats::id)
        .first(&mut *conn(&app))
        .expect("token stored");
    let outcomes = post_at_once(
        &app,
        &team.owner,
        &[("personal_access_tokens", &id)],
        &format!("/integrations/api/tokens/{id}/revoke"),
        &[],
    )
    .await;
    assert_one_winner("revoking a token", &outcomes, 303, &[409]);
    assert_eq!(events(&app, "pat.revoked"), 1);
}
