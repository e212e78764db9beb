//! `DELETE /v4/user/{id}`: the leaver's work goes to the chosen colleague (or the owner), per-kind
//! switches, and the receivers, bodies and callers it refuses.

use reqwest::Method;
use serde_json::json;

use crate::helpers::fixtures::{create_meeting_type, create_user};
use crate::helpers::{random_id, RequestHelper, TestApp};

use super::{meeting_type_ids, meeting_type_row, user_status, validation, World};

#[actix_web::test]
async fn delete_user_hands_over_to_the_chosen_colleague() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let as_owner = app.token(&w.key).acting_as(&w.owner);
    let (leaver, _) = create_user(&app, &w.key, "Leo", "member").await;
    let (receiver, _) = create_user(&app, &w.key, "Rita", "member").await;
    let theirs = meeting_type_ids(&app, &w.key, &leaver).await;
    assert_eq!(theirs.len(), 1);
    let extra =
        create_meeting_type(&app.token(&w.key).acting_as(&leaver), "Leo's demo", "demo").await;

    let r = as_owner
        .delete_json(
            &format!("/v4/user/{leaver}"),
            &json!({"targetUserId": receiver, "meetingTypes": true, "forms": false}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(user_status(&app, &leaver), "removed");
    let now_theirs = meeting_type_ids(&app, &w.key, &receiver).await;
    assert!(
        now_theirs.contains(&theirs[0]) && now_theirs.contains(&extra),
        "{now_theirs:?}"
    );
    // The receiver's own 30min stays; the leaver's one was renamed beside it.
    assert_eq!(now_theirs.len(), 3);
    let owners = meeting_type_ids(&app, &w.key, &w.owner).await;
    assert!(!owners.contains(&extra), "nothing went to the owner");

    // Without a body everything still goes to the owner.
    let (other, _) = create_user(&app, &w.key, "Olli", "member").await;
    let mt = meeting_type_ids(&app, &w.key, &other).await;
    let r = as_owner.delete(&format!("/v4/user/{other}")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(meeting_type_ids(&app, &w.key, &w.owner)
        .await
        .contains(&mt[0]));
}

#[actix_web::test]
async fn delete_user_without_meeting_types_soft_deletes_them() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let as_owner = app.token(&w.key).acting_as(&w.owner);
    let (leaver, _) = create_user(&app, &w.key, "Kim", "member").await;
    let mt = meeting_type_ids(&app, &w.key, &leaver).await;
    let r = as_owner
        .delete_json(
            &format!("/v4/user/{leaver}"),
            &json!({"meetingTypes": false}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let (owner_id, deleted_at) = meeting_type_row(&app, &mt[0]);
    assert_eq!(owner_id, leaver, "it stays with the removed user");
    assert!(deleted_at.is_some(), "and is soft-deleted");
    assert!(!meeting_type_ids(&app, &w.key, &w.owner)
        .await
        .contains(&mt[0]));
}

#[actix_web::test]
async fn delete_user_refuses_receivers_that_are_not_active_colleagues() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (leaver, _) = create_user(&app, &w.key, "Lia", "member").await;
    let path = format!("/v4/user/{leaver}");
    let as_owner = app.token(&w.key).acting_as(&w.owner);
    let (gone, _) = create_user(&app, &w.key, "Gus", "member").await;
    let r = as_owner.delete(&format!("/v4/user/{gone}")).await;
    assert_eq!(r.status, 204);
    for (target, message) in [
        (
            leaver.clone(),
            "The user who is removed cannot receive their own resources.",
        ),
        ("not-an-id".to_owned(), "Use the id of a user (a UUID)."),
    ] {
        let r = as_owner
            .delete_json(&path, &json!({"targetUserId": target}))
            .await;
        assert_eq!(r.status, 400, "{target}: {}", r.body);
        assert_eq!(*r.json(), validation("targetUserId", message), "{target}");
    }
    // Removed, in another company, unknown: not found.
    for target in [gone.clone(), w.b_owner.clone(), random_id()] {
        let r = as_owner
            .delete_json(&path, &json!({"targetUserId": target}))
            .await;
        assert_eq!(r.status, 404, "{target}: {}", r.body);
        assert_eq!(
            *r.json(),
            json!({"statusCode": 404, "error": "Not Found", "code": "not_found",
                   "message": "No active user of this company has the id in targetUserId."}),
            "{target}"
        );
    }
    assert_eq!(user_status(&app, &leaver), "active", "nothing happened");
}

#[actix_web::test]
async fn delete_user_refuses_bodies_it_does_not_understand() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (leaver, _) = create_user(&app, &w.key, "Lia", "member").await;
    let path = format!("/v4/user/{leaver}");
    let as_owner = app.token(&w.key).acting_as(&w.owner);
    // Fields it does not know, and a body that is not an object, are refused.
    for body in [
        json!({"targetUserId": w.admin, "meetingtypes": false}),
        json!([1]),
    ] {
        let r = as_owner.delete_json(&path, &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.code(), "bad_request", "{body}");
    }
    let not_json = as_owner
        .request(Method::DELETE, &path)
        .header("content-type", "application/json")
        .body("{not json");
    let r = as_owner.send(not_json).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "bad_request");
    assert_eq!(user_status(&app, &leaver), "active", "nothing happened");
}

#[actix_web::test]
async fn delete_user_refuses_oneself_the_owner_and_personal_tokens() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (leaver, _) = create_user(&app, &w.key, "Lia", "member").await;
    let path = format!("/v4/user/{leaver}");
    // Not yourself, not the owner, not with a PAT.
    let r = app
        .token(&w.key)
        .acting_as(&w.admin)
        .delete(&format!("/v4/user/{}", w.admin))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["message"], "You cannot remove yourself.");
    let r = app
        .token(&w.key)
        .acting_as(&w.admin)
        .delete(&format!("/v4/user/{}", w.owner))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["message"], "The company owner cannot be removed.");
    let r = app.token(&w.admin_pat).delete(&path).await;
    assert_eq!(r.status, 403);
    assert_eq!(user_status(&app, &w.admin), "active");
    assert_eq!(user_status(&app, &leaver), "active");
}
