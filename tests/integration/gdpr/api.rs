//! `GET /v4/user/{id}/export`: Platform API keys only, their own company only; and ids that
//! are not ids, on every export route.

use crate::helpers::db::events_of_kind;
use crate::helpers::fixtures::{create_user, key_id_of, sign_up};
use crate::helpers::{email, random_id, RequestHelper, TestApp};

use super::{audit_kinds, document};

#[actix_web::test]
async fn an_api_key_exports_a_user_of_its_company_and_a_pat_never_does() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Api Export Co", "Olga Owner", &email("api-export")).await;
    let key = owner.browser.create_api_key("Integration", "30").await;
    let (member, member_email) = create_user(&app, &key, "Mia", "member").await;
    let as_owner = app.token(&key).acting_as(&owner.id);

    let r = as_owner.get(&format!("/v4/user/{member}/export")).await;
    let doc = document(&r);
    assert_eq!(doc["profile"]["id"], member.as_str());
    assert_eq!(doc["profile"]["email"], member_email.as_str());
    assert_eq!(doc["company"]["id"], owner.company_id.as_str());
    assert!(audit_kinds(&doc).iter().any(|k| k == "user.created"));
    // Audited with the key and the user it acted as.
    let exported = events_of_kind(&app, "user.exported");
    assert_eq!(exported.len(), 1);
    assert_eq!(
        exported[0].credential_id.as_deref(),
        Some(key_id_of(&key).as_str())
    );
    assert_eq!(exported[0].actor_id.as_deref(), Some(owner.id.as_str()));
    assert!(exported[0].target.as_deref().unwrap().contains(&member));

    // The key needs the acting user, like the other user endpoints.
    let r = app
        .token(&key)
        .get(&format!("/v4/user/{member}/export"))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "missing_user_header"),
        "{}",
        r.body
    );

    // A personal access token cannot trigger GDPR exports: not its owner's, not anyone's,
    // and not an id that names nobody (the answer does not tell which ids exist).
    let pat = owner.browser.create_pat("script", "30").await;
    for id in [owner.id.clone(), member.clone(), random_id()] {
        let r = app.token(&pat).get(&format!("/v4/user/{id}/export")).await;
        assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .contains("cannot trigger GDPR exports"),
            "{}",
            r.body
        );
    }

    // Another company's user is not found, like every other /v4/user/{id}.
    let stranger = sign_up(&app, "Other Co", "Sven Stranger", &email("api-stranger")).await;
    let r = as_owner
        .get(&format!("/v4/user/{}/export", stranger.id))
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    let r = as_owner
        .get(&format!("/v4/user/{}/export", random_id()))
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    // Another method on the path: 405 with Allow.
    let r = as_owner.delete(&format!("/v4/user/{member}/export")).await;
    assert_eq!(r.status, 405, "{}", r.body);
    assert_eq!(r.header("allow"), Some("GET"));

    assert_eq!(events_of_kind(&app, "user.exported").len(), 1);
}

#[actix_web::test]
async fn ids_that_are_not_ids_are_not_found_on_every_export_route() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Hostile Ids Co", "Olga Owner", &email("hostile-ids")).await;
    let key = owner.browser.create_api_key("Ids", "30").await;
    let as_owner = app.token(&key).acting_as(&owner.id);
    let long = "a".repeat(5000);
    let ids = [
        "abc",
        "%00",
        "%FF%FE",
        "..%2F..%2Fetc%2Fpasswd",
        "1'%20OR%20'1'%3D'1",
        "%E2%80%AE",
        "00000000-0000-0000-0000-000000000000",
        "-1",
        long.as_str(),
    ];
    for id in ids {
        let r = as_owner.get(&format!("/v4/user/{id}/export")).await;
        assert!(
            matches!(r.status, 400 | 404 | 414 | 431),
            "/v4/user/{id}/export: {} {}",
            r.status,
            r.body
        );
        let r = owner
            .browser
            .get(&format!("/settings/members/{id}/export"))
            .await;
        assert!(
            matches!(r.status, 400 | 404 | 414 | 431),
            "/settings/members/{id}/export: {}",
            r.status
        );
    }
    assert_eq!(events_of_kind(&app, "user.exported").len(), 0);
    let r = owner.browser.get("/profile/export?x=%00").await;
    assert!(r.status < 500, "{}", r.status);
}
