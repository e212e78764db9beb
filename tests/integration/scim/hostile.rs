//! What an IdP should never send, and what an attacker would: always a SCIM 4xx, never a 5xx.

use reqwest::Method;

use crate::helpers::{RequestHelper, TestApp};

use super::{create, idp, provisioned};

#[actix_web::test]
async fn malformed_requests_get_scim_4xx_answers() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Hostile Co").await;
    let as_idp = idp(&app, &p.secret);
    let ada = create(&app, &p.secret, &crate::helpers::email("ada"), "Ada").await;
    let user = format!("/scim/v2/Users/{}", ada["id"].as_str().unwrap());
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let long_name = format!(
        r#"{{"userName": "a@b.example", "name": {{"givenName": "{}"}}}}"#,
        "x".repeat(50_000)
    );
    let bodies: Vec<String> = vec![
        String::new(),
        "null".into(),
        "[]".into(),
        "\"text\"".into(),
        deep,
        long_name,
        "x".repeat(100_000),
        r#"{"userName": "a@b.example", "name": {"givenName": "\u0000"}}"#.into(),
        r#"{"userName": "a@b.example", "name": {"givenName": "\u202e evil"}}"#.into(),
        r#"{"userName": "a@b.example", "externalId": {"nested": true}}"#.into(),
        r#"{"userName": "a@b.example", "emails": "nope"}"#.into(),
        r#"{"Operations": [{"op": "replace", "path": "emails[type eq \"work\"", "value": "x"}]}"#
            .into(),
        r#"{"Operations": [{"op": "replace", "path": "name", "value": [1, 2]}]}"#.into(),
        r#"{"Operations": [{"op": "replace", "value": {"active": null}}]}"#.into(),
        r#"{"Operations": "all of them"}"#.into(),
        r#"{"schemas": 5, "Operations": []}"#.into(),
    ];
    for body in &bodies {
        for (method, path) in [
            (Method::POST, "/scim/v2/Users"),
            (Method::PUT, user.as_str()),
            (Method::PATCH, user.as_str()),
        ] {
            let r = as_idp
                .send(
                    as_idp
                        .request(method.clone(), path)
                        .header("content-type", "application/scim+json")
                        .body(body.clone()),
                )
                .await;
            assert!(
                (400..500).contains(&r.status),
                "{method} {path} with {:.60}: {} {}",
                body,
                r.status,
                r.body
            );
        }
    }
    for query in [
        "filter=userName%20eq",
        "filter=%22%22",
        "filter=userName%20eq%20%22a%22%20or%201%3D1",
        "startIndex=99999999999999999999",
        "count=-1&startIndex=-1",
        "startIndex=9223372036854775807",
    ] {
        let r = as_idp.get(&format!("/scim/v2/Users?{query}")).await;
        assert!(r.status < 500, "{query}: {} {}", r.status, r.body);
    }
    let r = as_idp.get(&format!("{user}/../../Users")).await;
    assert!(r.status < 500, "{}", r.status);
    assert_eq!(
        as_idp.get(&user).await.json()["active"],
        true,
        "nothing of that deprovisioned anyone"
    );
}
