//! People as Okta and Entra ID manage them: create (whatever Require Invitation says), find by
//! userName, page through, read, replace, patch (both RFC forms and the IdPs' quirks), and a
//! taken email refused with `uniqueness`.

use reqwest::Method;
use serde_json::json;

use crate::helpers::db::{company_events, set_joining, user};
use crate::helpers::fixtures::sign_up;
use crate::helpers::{email, RequestHelper, TestApp};

use super::{assert_scim_error, create, idp, okta_user, patch, provisioned, send, USER_SCHEMA};

#[actix_web::test]
async fn create_makes_a_member_even_when_the_company_requires_invitations() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Invite Only").await;
    set_joining(&app, &p.owner.company_id, "", true);
    let address = email("isaac");
    let r = send(
        &idp(&app, &p.secret),
        Method::POST,
        "/scim/v2/Users",
        &okta_user(&address.to_uppercase(), "Isaac", "Brock"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.content_type().starts_with("application/scim+json"));
    let created = r.json();
    assert_eq!(created["schemas"], json!([USER_SCHEMA]));
    assert_eq!(created["userName"], address.as_str(), "stored lower-cased");
    assert_eq!(created["active"], true);
    assert_eq!(created["name"]["givenName"], "Isaac");
    assert_eq!(created["name"]["familyName"], "Brock");
    assert_eq!(created["displayName"], "Isaac Brock");
    assert!(created["externalId"].as_str().unwrap().starts_with("00u"));
    let id = created["id"].as_str().unwrap();
    let location = created["meta"]["location"].as_str().unwrap();
    assert!(
        location.ends_with(&format!("/scim/v2/Users/{id}")),
        "{location}"
    );
    assert_eq!(r.header("location"), Some(location));

    let stored = user(&app, id);
    assert_eq!(stored.company_id.as_str(), p.owner.company_id);
    assert_eq!(stored.role.as_str(), "member");
    assert_eq!(stored.name, "Isaac Brock");
    assert!(
        stored.email_verified_at.is_some(),
        "the IdP vouches for the address"
    );
    let events = company_events(&app, &p.owner.company_id, "user.created");
    assert!(
        events
            .iter()
            .any(|e| e.detail.as_deref() == Some("via SCIM")),
        "{events:?}"
    );
}

#[actix_web::test]
async fn an_email_with_an_account_anywhere_is_a_uniqueness_conflict() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Unique Co").await;
    let elsewhere = sign_up(&app, "Other Co", "Otto", &email("otto")).await;
    let as_idp = idp(&app, &p.secret);
    for taken in [elsewhere.email.as_str(), p.owner.email.as_str()] {
        let r = send(
            &as_idp,
            Method::POST,
            "/scim/v2/Users",
            &okta_user(taken, "X", "Y"),
        )
        .await;
        assert_scim_error(&r, 409, Some("uniqueness"));
    }
    // Changing someone's email to a taken one is the same conflict.
    let ada = create(&app, &p.secret, &email("ada"), "Ada").await;
    let r = send(
        &as_idp,
        Method::PATCH,
        &format!("/scim/v2/Users/{}", ada["id"].as_str().unwrap()),
        &patch(json!([{"op": "replace", "path": "userName", "value": elsewhere.email}])),
    )
    .await;
    assert_scim_error(&r, 409, Some("uniqueness"));
    let r = send(
        &as_idp,
        Method::POST,
        "/scim/v2/Users",
        &json!({"userName": "not-an-address"}),
    )
    .await;
    assert_scim_error(&r, 400, Some("invalidValue"));
    let r = as_idp
        .send(
            as_idp
                .request(Method::POST, "/scim/v2/Users")
                .header("content-type", "application/scim+json")
                .body("{nope"),
        )
        .await;
    assert_scim_error(&r, 400, Some("invalidSyntax"));
}

#[actix_web::test]
async fn list_filters_by_user_name_in_any_case_and_pages() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "List Co").await;
    let as_idp = idp(&app, &p.secret);
    let mut made = Vec::new();
    for who in ["a", "b", "c"] {
        made.push(create(&app, &p.secret, &email(who), who).await);
    }
    let wanted = made[1]["userName"].as_str().unwrap();
    let filter = format!("userName eq \"{}\"", wanted.to_uppercase());
    let r = as_idp
        .send(
            as_idp
                .request(Method::GET, "/scim/v2/Users")
                .query(&[("filter", filter.as_str())]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.json();
    assert_eq!(
        list["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(list["totalResults"], 1);
    assert_eq!(list["Resources"][0]["id"], made[1]["id"]);
    let r = as_idp
        .send(
            as_idp
                .request(Method::GET, "/scim/Users")
                .query(&[("filter", "userName eq \"nobody@example.com\"")]),
        )
        .await;
    assert_eq!(
        (
            r.json()["totalResults"].as_i64(),
            r.json()["Resources"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    let external = made[2]["externalId"].as_str().unwrap();
    let r = as_idp
        .send(
            as_idp
                .request(Method::GET, "/scim/v2/Users")
                .query(&[("filter", format!("externalId eq \"{external}\""))]),
        )
        .await;
    assert_eq!(r.json()["Resources"][0]["id"], made[2]["id"]);
    let r = as_idp
        .send(
            as_idp
                .request(Method::GET, "/scim/v2/Users")
                .query(&[("filter", "title co \"x\"")]),
        )
        .await;
    assert_scim_error(&r, 400, Some("invalidFilter"));

    // Owner + three, oldest first: the second page of two is b and c... of the people made.
    let r = as_idp.get("/scim/v2/Users?startIndex=3&count=2").await;
    let page = r.json();
    assert_eq!(page["totalResults"], 4);
    assert_eq!(page["startIndex"], 3);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(page["Resources"][0]["id"], made[1]["id"]);
    assert_eq!(page["Resources"][1]["id"], made[2]["id"]);
    let r = as_idp.get("/scim/v2/Users?count=0").await;
    assert_eq!(
        (
            r.json()["totalResults"].as_i64(),
            r.json()["itemsPerPage"].as_i64()
        ),
        (Some(4), Some(0))
    );
    let r = as_idp
        .get(&format!(
            "/scim/v2/Users/{}",
            made[0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["userName"], made[0]["userName"]);
}

#[actix_web::test]
async fn put_replaces_name_and_email_as_entra_sends_them() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Put Co").await;
    let ada = create(&app, &p.secret, &email("ada"), "Ada").await;
    let id = ada["id"].as_str().unwrap();
    let new_address = email("ada.king");
    // Entra ID's shape: booleans as strings, the enterprise extension, roles.
    let body = json!({
        "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": id,
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": new_address,
        "active": "True",
        "emails": [{"primary": true, "type": "work", "value": new_address}],
        "name": {"formatted": "Ada King", "familyName": "King", "givenName": "Ada"},
        "roles": []
    });
    let r = send(
        &idp(&app, &p.secret),
        Method::PUT,
        &format!("/scim/v2/Users/{id}"),
        &body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["userName"], new_address.as_str());
    assert_eq!(r.json()["name"]["familyName"], "King");
    assert_eq!(
        r.json()["externalId"],
        "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
    );
    let stored = user(&app, id);
    assert_eq!(
        (stored.name.as_str(), stored.email.as_str()),
        ("Ada King", new_address.as_str())
    );
    assert_eq!(stored.status.as_str(), "active");
    let events = company_events(&app, &p.owner.company_id, "user.updated");
    assert!(
        events
            .iter()
            .any(|e| e.detail.as_deref() == Some("via SCIM: name, email, externalId")),
        "{events:?}"
    );
}

#[actix_web::test]
async fn patch_takes_both_rfc_forms_and_the_idps_quirks() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Patch Co").await;
    let ada = create(&app, &p.secret, &email("ada"), "Ada").await;
    let path = format!("/scim/v2/Users/{}", ada["id"].as_str().unwrap());
    let as_idp = idp(&app, &p.secret);
    let id = ada["id"].as_str().unwrap();

    // Okta: a path-less replace with a value object.
    let r = send(&as_idp, Method::PATCH, &path, &patch(json!([{"op": "replace", "value": {"name": {"givenName": "Grace", "familyName": "Hopper"}}}]))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(user(&app, id).name, "Grace Hopper");
    assert_eq!(r.json()["name"]["givenName"], "Grace");

    // Entra ID: "Replace", paths, the work email by filter.
    let moved = email("grace");
    let r = send(
        &as_idp,
        Method::PATCH,
        &path,
        &patch(json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": moved},
            {"op": "Replace", "path": "name.familyName", "value": "Brewster Hopper"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Navy"}
        ])),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let stored = user(&app, id);
    assert_eq!(
        (stored.name.as_str(), stored.email.as_str()),
        ("Grace Brewster Hopper", moved.as_str())
    );

    // A path with a plain value, and a removal.
    let r = send(
        &as_idp,
        Method::PATCH,
        &path,
        &patch(json!([
            {"op": "replace", "path": "displayName", "value": "Amazing Grace"},
            {"op": "remove", "path": "externalId"}
        ])),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(user(&app, id).name, "Amazing Grace");
    assert!(r.json().get("externalId").is_none(), "{}", r.body);

    for (bad, kind) in [
        (
            patch(json!([{"op": "replace", "path": "favouriteColour", "value": "red"}])),
            "invalidPath",
        ),
        (
            patch(json!([{"op": "jump", "path": "active", "value": true}])),
            "invalidSyntax",
        ),
        (
            patch(json!([{"op": "replace", "path": "active", "value": "perhaps"}])),
            "invalidValue",
        ),
        (json!({"schemas": [super::PATCH_SCHEMA]}), "invalidSyntax"),
    ] {
        assert_scim_error(
            &send(&as_idp, Method::PATCH, &path, &bad).await,
            400,
            Some(kind),
        );
    }
    assert_eq!(
        user(&app, id).status.as_str(),
        "active",
        "nothing of that changed anything"
    );
}

#[actix_web::test]
async fn creations_of_one_email_at_once_make_one_person_and_conflicts() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Race Co").await;
    let as_idp = idp(&app, &p.secret);
    let body = okta_user(&email("twin"), "Twin", "Example");
    let answers = futures_util::future::join_all(
        (0..6).map(|_| send(&as_idp, Method::POST, "/scim/v2/Users", &body)),
    )
    .await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409], "{statuses:?}");
    for r in answers.iter().filter(|r| r.status == 409) {
        assert_scim_error(r, 409, Some("uniqueness"));
    }
}
