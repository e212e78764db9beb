//! `DELETE /v4/meeting-type/{id}` is a soft delete, for its owner, an admin or an API key;
//! and `/v4` answers 405 to a method it does not serve on a known path.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{random_id, RequestHelper, TestApp};

use super::{meeting_type_row, World};

#[actix_web::test]
async fn delete_meeting_type_is_a_soft_delete() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let not_found = json!({"statusCode": 404, "message": "Meeting type not found",
                           "error": "Not Found", "code": "not_found"});

    // A member may not delete a colleague's.
    let path = format!("/v4/meeting-type/{}", w.admin_mt);
    let r = app.token(&w.member_pat).delete(&path).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        *r.json(),
        json!({"statusCode": 403, "message": "Not authorized to delete this meeting type",
               "error": "Forbidden", "code": "forbidden"})
    );
    assert!(meeting_type_row(&app, &w.admin_mt).1.is_none());

    // Their own: 200 with an empty body, then gone from GET and the list, kept in the database.
    let path = format!("/v4/meeting-type/{}", w.member_mt);
    let r = app.token(&w.member_pat).delete(&path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "");
    assert!(meeting_type_row(&app, &w.member_mt).1.is_some());
    let r = app.token(&w.member_pat).get(&path).await;
    assert_eq!((r.status, r.json()), (404, &not_found));
    let r = app
        .token(&w.member_pat)
        .patch_json(&path, &json!({"title": "Back"}))
        .await;
    assert_eq!(r.status, 404);
    let r = app.token(&w.member_pat).get("/v4/meeting-type").await;
    assert!(!r.body.contains(&w.member_mt), "{}", r.body);
    // A second delete, an unknown id and a malformed one: 404.
    for p in [
        path.clone(),
        format!("/v4/meeting-type/{}", random_id()),
        "/v4/meeting-type/nope".into(),
    ] {
        let r = app.token(&w.member_pat).delete(&p).await;
        assert_eq!((r.status, r.json()), (404, &not_found), "{p}");
    }

    // An admin may delete a colleague's; an API key acts for its company.
    let r = app
        .token(&w.admin_pat)
        .delete(&format!("/v4/meeting-type/{}", w.owner_mt))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .token(&w.key)
        .acting_as(&w.member)
        .delete(&format!("/v4/meeting-type/{}", w.admin_mt))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Deleted by someone else: not found for the next one.
    let again = app
        .token(&w.key)
        .acting_as(&w.owner)
        .delete(&format!("/v4/meeting-type/{}", w.admin_mt))
        .await;
    assert_eq!(again.status, 404);
}

#[actix_web::test]
async fn unknown_methods_on_known_paths_are_405() {
    let app = TestApp::spawn().await;
    let r = app
        .anonymous()
        .call(Method::PUT, "/v4/meeting-type", None)
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "GET, POST");
    assert_eq!(r.code(), "method_not_allowed");
    let r = app
        .anonymous()
        .call(Method::PUT, "/v4/nothing-here", None)
        .await;
    assert_eq!(r.status, 404);
}

#[actix_web::test]
async fn a_meeting_type_deleted_many_times_at_once_is_deleted_once() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let path = format!("/v4/meeting-type/{}", w.member_mt);
    let callers: Vec<_> = (0..8)
        .map(|i| {
            let bearer = if i % 2 == 0 {
                &w.member_pat
            } else {
                &w.admin_pat
            };
            app.token(bearer)
        })
        .collect();
    let replies = futures_util::future::join_all(callers.iter().map(|c| c.delete(&path))).await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 404, 404, 404, 404, 404, 404, 404]);
    assert!(meeting_type_row(&app, &w.member_mt).1.is_some());
}
