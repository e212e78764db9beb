//! Listing users: oldest first, pages that cover everyone once, and limits checked.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::helpers::fixtures::{create_user, sign_up};
use crate::helpers::{email, Person, RequestHelper, TestApp, TokenUser};

/// "Many": its owner Olga Owner and four members; returns the owner, the company's API key
/// acting as the owner, and every user's id.
async fn many(app: &TestApp) -> (Person, TokenUser, BTreeSet<String>) {
    let owner = sign_up(app, "Many", "Olga Owner", &email("owner")).await;
    let key = owner.browser.create_api_key("Production", "30").await;
    let mut all = BTreeSet::from([owner.id.clone()]);
    for given in ["Anna", "Ben", "Cleo", "Dan"] {
        all.insert(create_user(app, &key, given, "member").await.0);
    }
    let api = app.token(&key).acting_as(&owner.id);
    (owner, api, all)
}

#[actix_web::test]
async fn users_are_listed_oldest_first_in_pages_that_cover_everyone_once() {
    let app = TestApp::spawn().await;
    let (owner, api, all) = many(&app).await;
    let api = &api;
    let list = move |q: &'static str| async move { api.get(&format!("/v4/user{q}")).await };
    let (owner_email, company, owner) = (owner.email, owner.company_id, owner.id);

    let r = list("").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["total"], 5);
    assert_eq!(r.json()["count"], 5);
    assert_eq!(r.json()["offset"], 0);
    let first = &r.json()["users"][0];
    assert_eq!(first["id"], json!(owner), "oldest first");
    assert_eq!(first["email"], json!(owner_email));
    assert_eq!(first["givenName"], "Olga");
    assert_eq!(first["familyName"], "Owner");
    assert_eq!(first["isAdmin"], true);
    assert_eq!(first["userType"], "workspace");
    assert_eq!(first["companyId"], json!(company));
    assert!(first.get("deletedAt").is_some_and(Value::is_null));

    let mut seen = BTreeSet::new();
    for (q, count, offset) in [
        ("?limit=2&offset=0", 2, 0),
        ("?limit=2&offset=2", 2, 2),
        ("?limit=2&offset=4", 1, 4),
    ] {
        let r = list(q).await;
        assert_eq!(r.status, 200, "{q}");
        assert_eq!(r.json()["total"], 5, "{q}");
        assert_eq!(r.json()["count"], count, "{q}");
        assert_eq!(r.json()["offset"], offset, "{q}");
        let users = r.json()["users"].as_array().expect("users");
        assert_eq!(users.len(), count, "{q}");
        for u in users {
            assert!(
                seen.insert(u["id"].as_str().expect("id").to_owned()),
                "{q}: no user twice"
            );
        }
    }
    assert_eq!(seen, all, "the pages cover every user once");

    let r = list("?limit=10&offset=50").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (r.json()["total"].clone(), r.json()["count"].clone()),
        (json!(5), json!(0))
    );
    assert_eq!(r.json()["users"], json!([]));

    let r = list("?limit=100").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["count"], 5);
}

#[actix_web::test]
async fn list_limits_are_checked() {
    let app = TestApp::spawn().await;
    let (_, api, _) = many(&app).await;
    let api = &api;
    let list = move |q: &'static str| async move { api.get(&format!("/v4/user{q}")).await };

    for (q, fields) in [
        ("?limit=0", vec!["limit"]),
        ("?limit=101", vec!["limit"]),
        ("?offset=-1", vec!["offset"]),
        ("?limit=0&offset=-1", vec!["limit", "offset"]),
    ] {
        let r = list(q).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.code(), "validation_failed", "{q}");
        assert_eq!(r.json()["message"], "Validation failed", "{q}");
        let errors = r.json()["errors"].as_array().expect("errors[]");
        let got: Vec<&str> = errors
            .iter()
            .map(|e| e["field"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(got, fields, "{q}");
        assert!(errors
            .iter()
            .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())));
    }
    let r = list("?limit=many").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "bad_request");
}
