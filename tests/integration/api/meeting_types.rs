//! Meeting types through `/v4`: created and read back, slugs unique per user, invisible to
//! other users, and PATCH changing only what it names.

use std::collections::BTreeSet;

use serde_json::json;

use crate::helpers::fixtures::{create_user, sign_up};
use crate::helpers::{email, RequestHelper, TestApp, TokenUser};

/// "Slots": the owner's PAT, the company's API key acting as the owner and as a member.
struct Slots {
    owner: String,
    pat: TokenUser,
    key_as_owner: TokenUser,
    key_as_member: TokenUser,
}

async fn slots(app: &TestApp) -> Slots {
    let owner = sign_up(app, "Slots", "Olga Owner", &email("owner")).await;
    let pat = owner.browser.create_pat("cli", "30").await;
    let key = owner.browser.create_api_key("Production", "30").await;
    let (member, _) = create_user(app, &key, "Mia", "member").await;
    Slots {
        pat: app.token(&pat),
        key_as_owner: app.token(&key).acting_as(&owner.id),
        key_as_member: app.token(&key).acting_as(&member),
        owner: owner.id,
    }
}

/// Creates the owner's "Intro Call" (`/intro`); returns its id.
async fn intro(s: &Slots) -> String {
    let r = s
        .pat
        .post_json(
            "/v4/meeting-type",
            &json!({"title": "Intro Call", "slug": "intro", "duration": 30}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().expect("id").to_owned()
}

#[actix_web::test]
async fn a_meeting_type_is_created_and_read_back() {
    let app = TestApp::spawn().await;
    let s = slots(&app).await;
    let r = s
        .pat
        .post_json(
            "/v4/meeting-type",
            &json!({"title": "Intro Call", "slug": "intro", "duration": 30}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(r.json()["title"], "Intro Call");
    assert_eq!(r.json()["slug"], "intro");
    assert_eq!(r.json()["duration"], 30);
    assert_eq!(r.json()["userId"], json!(s.owner));
    assert!(r.json()["createdAt"].as_str().is_some());

    let r = s.pat.get(&format!("/v4/meeting-type/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["slug"], "intro");

    // Without a slug it is made from the title.
    let r = s
        .pat
        .post_json("/v4/meeting-type", &json!({"title": "Deep Dive"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["slug"], "deep-dive");
    assert_eq!(r.json()["duration"], 30, "default duration");

    let r = s
        .pat
        .post_json(
            "/v4/meeting-type",
            &json!({"title": "Too short", "duration": 3}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_failed");
    assert_eq!(r.json()["errors"][0]["field"], "duration");
}

#[actix_web::test]
async fn slugs_are_unique_per_user() {
    let app = TestApp::spawn().await;
    let s = slots(&app).await;
    let id = intro(&s).await;

    // The same slug again, by the same user, whatever the credential: 409.
    for caller in [&s.pat, &s.key_as_owner] {
        let r = caller
            .post_json(
                "/v4/meeting-type",
                &json!({"title": "Intro again", "slug": "intro"}),
            )
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.code(), "conflict");
        assert_eq!(r.json()["statusCode"], 409);
    }
    // Slugs are per user: the member may use it.
    let r = s
        .key_as_member
        .post_json(
            "/v4/meeting-type",
            &json!({"title": "Intro", "slug": "intro"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Renaming onto a slug the owner already uses is a conflict too.
    let r = s
        .pat
        .post_json("/v4/meeting-type", &json!({"title": "Deep Dive"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = s
        .pat
        .patch_json(
            &format!("/v4/meeting-type/{id}"),
            &json!({"slug": "deep-dive"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "conflict");
}

#[actix_web::test]
async fn another_users_meeting_type_does_not_exist_for_you() {
    let app = TestApp::spawn().await;
    let s = slots(&app).await;
    let id = intro(&s).await;
    let r = s
        .key_as_member
        .post_json(
            "/v4/meeting-type",
            &json!({"title": "Intro", "slug": "intro"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let member_mt = r.json()["id"].as_str().expect("id").to_owned();

    // By any credential.
    for (caller, mt) in [
        (&s.pat, member_mt.as_str()),
        (&s.key_as_member, id.as_str()),
        (&s.pat, "not-a-uuid"),
    ] {
        let path = format!("/v4/meeting-type/{mt}");
        let r = caller.get(&path).await;
        assert_eq!(r.status, 404, "GET {path}");
        assert_eq!(r.code(), "not_found");
        let r = caller
            .patch_json(&path, &json!({"title": "Mine now"}))
            .await;
        assert_eq!(r.status, 404, "PATCH {path}");
        assert_eq!(r.code(), "not_found");
    }
    let r = s
        .key_as_member
        .get(&format!("/v4/meeting-type/{member_mt}"))
        .await;
    assert_eq!(r.json()["title"], "Intro", "the member's stays untouched");

    let r = s.pat.get("/v4/meeting-type").await;
    assert_eq!(r.status, 200);
    let ids: BTreeSet<&str> = r
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ids, BTreeSet::from([id.as_str()]), "only the owner's");
}

#[actix_web::test]
async fn patch_changes_only_what_it_names() {
    let app = TestApp::spawn().await;
    let s = slots(&app).await;
    let id = intro(&s).await;
    let path = format!("/v4/meeting-type/{id}");
    let r = s
        .pat
        .patch_json(
            &path,
            &json!({"title": "Intro Call (long)", "duration": 45}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["title"], "Intro Call (long)");
    assert_eq!(r.json()["duration"], 45);
    assert_eq!(r.json()["slug"], "intro");
    assert_eq!(r.json()["id"], json!(id));
    let r = s.key_as_owner.get(&path).await;
    assert_eq!(r.json()["duration"], 45, "the change is stored");
}
