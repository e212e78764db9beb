//! Unlinking sign-in providers at once: one identity is unlinked once, and a user without a
//! password keeps at least one way to sign in.

use diesel::prelude::*;
use meetergo_console::db::models::now;
use meetergo_console::db::schema::{identities, users};

use reqwest::Method;

use super::{assert_one_winner, events, post_at_once, race, Team, N};
use crate::helpers::db::conn;
use crate::helpers::{RequestHelper, TestApp};

/// Links an identity of `provider` to the user directly in the database; returns its id.
fn link(app: &TestApp, user_id: &str, provider: &str) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(identities::table)
        .values((
            identities::id.eq(&id),
            identities::user_id.eq(user_id),
            identities::provider.eq(provider),
            identities::issuer.eq(format!("http://127.0.0.1:9/{provider}")),
            identities::subject.eq(&id),
            identities::email.eq("olga@example.com"),
            identities::created_at.eq(now()),
        ))
        .execute(&mut *conn(app))
        .expect("link identity");
    id
}

fn identities_of(app: &TestApp, user_id: &str) -> i64 {
    identities::table
        .filter(identities::user_id.eq(user_id))
        .count()
        .get_result(&mut *conn(app))
        .expect("count identities")
}

#[actix_web::test]
async fn one_identity_unlinked_many_times_at_once_is_unlinked_once() {
    let app = TestApp::spawn().await;
    let team = Team::new(&app).await;
    let identity = link(&app, &team.owner_id, "okta");
    // Unlinks wait for the user's row: the test holds it until all of them are there.
    let outcomes = post_at_once(
        &app,
        &team.owner,
        &[("users", &team.owner_id)],
        &format!("/profile/identities/{identity}/unlink"),
        &[],
    )
    .await;
    // Those that wait for the winner then find no such identity any more (404); one that
    // read it before the winner committed finds nothing to delete (409).
    assert_one_winner("unlinking", &outcomes, 303, &[404, 409]);
    assert_eq!(events(&app, "identity.unlinked"), 1);
    assert_eq!(identities_of(&app, &team.owner_id), 0);
}

#[actix_web::test]
async fn unlinking_two_providers_at_once_leaves_a_way_to_sign_in() {
    let app = TestApp::spawn().await;
    let team = Team::new(&app).await;
    let (first, second) = (
        link(&app, &team.owner_id, "okta"),
        link(&app, &team.owner_id, "entra"),
    );
    // The owner signs in only through those providers now.
    diesel::update(users::table.filter(users::id.eq(&team.owner_id)))
        .set(users::password_hash.eq(None::<String>))
        .execute(&mut *conn(&app))
        .expect("drop the password");
    let token = team.owner.csrf_token().await;
    let requests = (0..N)
        .map(|i| {
            let identity = if i % 2 == 0 { &first } else { &second };
            team.owner
                .request(
                    Method::POST,
                    &format!("/profile/identities/{identity}/unlink"),
                )
                .form(&[("csrf_token", &token)])
        })
        .collect();
    let outcomes = race(
        &app,
        &team.owner,
        &[("users", &team.owner_id)],
        vec![requests],
    )
    .await;
    // One unlink wins; the other provider's unlinks are refused (a 303 back to the profile
    // with the refusal as a flash), the same provider's find it gone (404 or 409).
    assert!(
        outcomes.iter().all(|o| [303, 404, 409].contains(&o.status)),
        "{outcomes:#?}"
    );
    assert_eq!(events(&app, "identity.unlinked"), 1, "{outcomes:#?}");
    assert_eq!(identities_of(&app, &team.owner_id), 1, "one way in is left");
}
