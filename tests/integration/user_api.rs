//! meetergo's user lifecycle in `/v4`: creating with a time zone and the default meeting type,
//! removing with a chosen receiver and per-kind switches, and deleting meeting types.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use diesel::prelude::*;
use meetergo_console::db::schema::{meeting_types, users};
use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{call, create_meeting_type, create_user, random_id, user_status, World};
use crate::helpers::{email, TestApp};

fn validation(field: &str, message: &str) -> Value {
    json!({"statusCode": 400, "message": "Validation failed", "error": "Bad Request",
           "code": "validation_failed", "errors": [{"field": field, "message": message}]})
}

fn meeting_type_row(app: &TestApp, id: &str) -> (String, Option<chrono::NaiveDateTime>) {
    let mut conn = app.db.conn().expect("db");
    meeting_types::table
        .filter(meeting_types::id.eq(id))
        .select((meeting_types::owner_id, meeting_types::deleted_at))
        .first(&mut *conn)
        .expect("meeting type row")
}

async fn meeting_type_ids(app: &TestApp, key: &str, user: &str) -> Vec<String> {
    let r = call(
        app,
        Method::GET,
        "/v4/meeting-type",
        Some(key),
        Some(user),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_owned())
        .collect()
}

#[actix_web::test]
async fn create_user_takes_timezone_and_provisions_the_default_meeting_type() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let address = email("berlin");
    let r = call(
        &app,
        Method::POST,
        "/v4/user",
        Some(&w.key),
        None,
        Some(
            &json!({"email": address, "givenName": "Bea", "familyName": "Berlin",
                      "timezone": "Europe/Berlin"}),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let user_id = r.body["userId"].as_str().expect("userId").to_owned();
    let mt_id = r.body["meetingTypeId"]
        .as_str()
        .expect("meetingTypeId")
        .to_owned();
    assert_eq!(
        r.body,
        json!({"userId": user_id, "availabilityId": null, "meetingTypeId": mt_id,
               "bookingUrl": null, "companyId": w.company_a, "email": address,
               "timezone": "Europe/Berlin"})
    );
    let tz: String = users::table
        .find(&user_id)
        .select(users::timezone)
        .first(&mut *app.db.conn().expect("db"))
        .expect("timezone");
    assert_eq!(tz, "Europe/Berlin");
    let r = call(
        &app,
        Method::GET,
        "/v4/meeting-type",
        Some(&w.key),
        Some(&user_id),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let list = r.body.as_array().expect("list");
    assert_eq!(list.len(), 1, "{}", r.body);
    assert_eq!(list[0]["id"], json!(mt_id));
    assert_eq!(list[0]["title"], "30 Minute Meeting");
    assert_eq!(list[0]["slug"], "30min");
    assert_eq!(list[0]["duration"], 30);
    assert_eq!(list[0]["userId"], json!(user_id));

    // Without a time zone: UTC.
    let r = call(
        &app,
        Method::POST,
        "/v4/user",
        Some(&w.key),
        None,
        Some(&json!({"email": email("nozone"), "givenName": "Nia"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["timezone"], "UTC");

    // An unknown zone is refused beside the field, and nobody is created.
    for bad in ["Mars/Olympus_Mons", "europe/berlin", "", "+02:00"] {
        let address = email("badzone");
        let r = call(
            &app,
            Method::POST,
            "/v4/user",
            Some(&w.key),
            None,
            Some(&json!({"email": address, "timezone": bad})),
        )
        .await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(
            r.body,
            validation(
                "timezone",
                "Use an IANA time zone name, like Europe/Berlin or UTC."
            ),
            "{bad}"
        );
        let n: i64 = users::table
            .filter(users::email.eq(&address))
            .count()
            .get_result(&mut *app.db.conn().expect("db"))
            .expect("count");
        assert_eq!(n, 0, "{bad}");
    }
}

#[actix_web::test]
async fn delete_user_hands_over_to_the_chosen_colleague() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (leaver, _) = create_user(&app, &w.key, "Leo", "member").await;
    let (receiver, _) = create_user(&app, &w.key, "Rita", "member").await;
    let theirs = meeting_type_ids(&app, &w.key, &leaver).await;
    assert_eq!(theirs.len(), 1);
    let extra = create_meeting_type(&app, &w.key, &leaver, "Leo's demo", "demo").await;

    let r = call(
        &app,
        Method::DELETE,
        &format!("/v4/user/{leaver}"),
        Some(&w.key),
        Some(&w.owner),
        Some(&json!({"targetUserId": receiver, "meetingTypes": true, "forms": false})),
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
    let r = call(
        &app,
        Method::DELETE,
        &format!("/v4/user/{other}"),
        Some(&w.key),
        Some(&w.owner),
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(meeting_type_ids(&app, &w.key, &w.owner)
        .await
        .contains(&mt[0]));
}

#[actix_web::test]
async fn delete_user_without_meeting_types_soft_deletes_them() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (leaver, _) = create_user(&app, &w.key, "Kim", "member").await;
    let mt = meeting_type_ids(&app, &w.key, &leaver).await;
    let r = call(
        &app,
        Method::DELETE,
        &format!("/v4/user/{leaver}"),
        Some(&w.key),
        Some(&w.owner),
        Some(&json!({"meetingTypes": false})),
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
async fn delete_user_refuses_bad_receivers_and_bodies() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (leaver, _) = create_user(&app, &w.key, "Lia", "member").await;
    let (gone, _) = create_user(&app, &w.key, "Gus", "member").await;
    let r = call(
        &app,
        Method::DELETE,
        &format!("/v4/user/{gone}"),
        Some(&w.key),
        Some(&w.owner),
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    let path = format!("/v4/user/{leaver}");
    for (target, message) in [
        (
            leaver.clone(),
            "The user who is removed cannot receive their own resources.",
        ),
        ("not-an-id".to_owned(), "Use the id of a user (a UUID)."),
    ] {
        let r = call(
            &app,
            Method::DELETE,
            &path,
            Some(&w.key),
            Some(&w.owner),
            Some(&json!({"targetUserId": target})),
        )
        .await;
        assert_eq!(r.status, 400, "{target}: {}", r.body);
        assert_eq!(r.body, validation("targetUserId", message), "{target}");
    }
    // Removed, in another company, unknown: not found.
    for target in [gone.clone(), w.b_owner.clone(), random_id()] {
        let r = call(
            &app,
            Method::DELETE,
            &path,
            Some(&w.key),
            Some(&w.owner),
            Some(&json!({"targetUserId": target})),
        )
        .await;
        assert_eq!(r.status, 404, "{target}: {}", r.body);
        assert_eq!(
            r.body,
            json!({"statusCode": 404, "error": "Not Found", "code": "not_found",
                   "message": "No active user of this company has the id in targetUserId."}),
            "{target}"
        );
    }
    // Fields it does not know, and a body that is not an object, are refused.
    for body in [
        json!({"targetUserId": w.admin, "meetingtypes": false}),
        json!([1]),
    ] {
        let r = call(
            &app,
            Method::DELETE,
            &path,
            Some(&w.key),
            Some(&w.owner),
            Some(&body),
        )
        .await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.code(), "bad_request", "{body}");
    }
    let r = reqwest::Client::new()
        .delete(app.url(&path))
        .header("authorization", format!("Bearer {}", w.key))
        .header("x-meetergo-api-user-id", &w.owner)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["code"], "bad_request");
    assert_eq!(user_status(&app, &leaver), "active", "nothing happened");

    // Not yourself, not the owner, not with a PAT.
    let r = call(
        &app,
        Method::DELETE,
        &format!("/v4/user/{}", w.admin),
        Some(&w.key),
        Some(&w.admin),
        None,
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["message"], "You cannot remove yourself.");
    let r = call(
        &app,
        Method::DELETE,
        &format!("/v4/user/{}", w.owner),
        Some(&w.key),
        Some(&w.admin),
        None,
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["message"], "The company owner cannot be removed.");
    let r = call(&app, Method::DELETE, &path, Some(&w.admin_pat), None, None).await;
    assert_eq!(r.status, 403);
    assert_eq!(user_status(&app, &w.admin), "active");
    assert_eq!(user_status(&app, &leaver), "active");
}

#[actix_web::test]
async fn delete_meeting_type_is_a_soft_delete() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let not_found = json!({"statusCode": 404, "message": "Meeting type not found",
                           "error": "Not Found", "code": "not_found"});

    // A member may not delete a colleague's.
    let path = format!("/v4/meeting-type/{}", w.admin_mt);
    let r = call(&app, Method::DELETE, &path, Some(&w.member_pat), None, None).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        json!({"statusCode": 403, "message": "Not authorized to delete this meeting type",
               "error": "Forbidden", "code": "forbidden"})
    );
    assert!(meeting_type_row(&app, &w.admin_mt).1.is_none());

    // Their own: 200 with an empty body, then gone from GET and the list, kept in the database.
    let path = format!("/v4/meeting-type/{}", w.member_mt);
    let r = reqwest::Client::new()
        .delete(app.url(&path))
        .header("authorization", format!("Bearer {}", w.member_pat))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("body"), "");
    assert!(meeting_type_row(&app, &w.member_mt).1.is_some());
    let r = call(&app, Method::GET, &path, Some(&w.member_pat), None, None).await;
    assert_eq!((r.status.as_u16(), &r.body), (404, &not_found));
    let r = call(
        &app,
        Method::PATCH,
        &path,
        Some(&w.member_pat),
        None,
        Some(&json!({"title": "Back"})),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = call(
        &app,
        Method::GET,
        "/v4/meeting-type",
        Some(&w.member_pat),
        None,
        None,
    )
    .await;
    assert!(!r.body.to_string().contains(&w.member_mt), "{}", r.body);
    // A second delete, an unknown id and a malformed one: 404.
    for p in [
        path.clone(),
        format!("/v4/meeting-type/{}", random_id()),
        "/v4/meeting-type/nope".into(),
    ] {
        let r = call(&app, Method::DELETE, &p, Some(&w.member_pat), None, None).await;
        assert_eq!((r.status.as_u16(), &r.body), (404, &not_found), "{p}");
    }

    // An admin may delete a colleague's; an API key acts for its company.
    let r = call(
        &app,
        Method::DELETE,
        &format!("/v4/meeting-type/{}", w.owner_mt),
        Some(&w.admin_pat),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(
        &app,
        Method::DELETE,
        &format!("/v4/meeting-type/{}", w.admin_mt),
        Some(&w.key),
        Some(&w.member),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Deleted by someone else: not found for the next one.
    let again = call(
        &app,
        Method::DELETE,
        &format!("/v4/meeting-type/{}", w.admin_mt),
        Some(&w.key),
        Some(&w.owner),
        None,
    )
    .await;
    assert_eq!(again.status, 404);
}

#[actix_web::test]
async fn unknown_methods_on_known_paths_are_405() {
    let app = TestApp::spawn().await;
    let r = call(&app, Method::PUT, "/v4/meeting-type", None, None, None).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "GET, POST");
    assert_eq!(r.code(), "method_not_allowed");
    let r = call(&app, Method::PUT, "/v4/nothing-here", None, None, None).await;
    assert_eq!(r.status, 404);
}

#[actix_web::test]
async fn a_meeting_type_deleted_many_times_at_once_is_deleted_once() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let path = format!("/v4/meeting-type/{}", w.member_mt);
    let attempts = (0..8).map(|i| {
        let bearer = if i % 2 == 0 {
            &w.member_pat
        } else {
            &w.admin_pat
        };
        call(&app, Method::DELETE, &path, Some(bearer), None, None)
    });
    let replies = futures_util::future::join_all(attempts).await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 404, 404, 404, 404, 404, 404, 404]);
    assert!(meeting_type_row(&app, &w.member_mt).1.is_some());
}
