//! The OpenAPI document at `/v4/openapi.json` lists exactly the operations `/v4` serves, what
//! each can refuse, the security schemes and the constraints the validation applies.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{random_id, RequestHelper, TestApp};

/// Every operation /v4 serves.
const ROUTES: &[(&str, &str)] = &[
    ("/v4/user/me", "get"),
    ("/v4/user", "get"),
    ("/v4/user", "post"),
    ("/v4/user/{id}", "patch"),
    ("/v4/user/{id}", "delete"),
    ("/v4/meeting-type", "get"),
    ("/v4/meeting-type", "post"),
    ("/v4/meeting-type/{id}", "get"),
    ("/v4/meeting-type/{id}", "patch"),
    ("/v4/meeting-type/{id}", "delete"),
    ("/v4/appointment/paginated", "get"),
    ("/v4/user/{id}/export", "get"),
    ("/v4/webhooks", "get"),
    ("/v4/webhooks", "post"),
    ("/v4/webhooks/{id}", "patch"),
    ("/v4/webhooks/{id}", "delete"),
];

/// Operations that take no credential.
const UNAUTHENTICATED: &[(&str, &str)] = &[("/v4/credentials/revoke", "post")];

/// The document, fetched without a credential.
async fn document(app: &TestApp) -> Value {
    let r = app.anonymous().get("/v4/openapi.json").await;
    assert_eq!(r.status, 200, "served without a credential");
    serde_json::from_str(&r.body).expect("JSON")
}

#[actix_web::test]
async fn the_openapi_document_lists_every_route_its_refusals_and_security() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if [
                "get", "post", "put", "patch", "delete", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                documented.insert((path.clone(), method.clone()));
            }
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .chain(UNAUTHENTICATED)
        .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
        .collect();
    assert_eq!(documented, expected);
    // The leak report takes no credential and answers 202 whatever matched.
    let leak = &doc["paths"]["/v4/credentials/revoke"]["post"];
    assert!(leak["responses"].get("202").is_some(), "{leak}");
    for status in ["400", "413", "429"] {
        assert_eq!(
            leak["responses"][status]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "leak report declares {status}"
        );
    }

    let schemes = &doc["components"]["securitySchemes"];
    for name in ["personal_access_token", "platform_api_key"] {
        assert_eq!(schemes[name]["type"], "http", "{name}");
        assert_eq!(schemes[name]["scheme"], "bearer", "{name}");
    }
    let error_body = &doc["components"]["schemas"]["ErrorBody"];
    for field in ["statusCode", "message", "error", "code", "errors"] {
        assert!(
            error_body["properties"].get(field).is_some(),
            "ErrorBody.{field}"
        );
    }
    // Every operation declares what it can refuse, with the error body.
    for (path, method) in ROUTES {
        let responses = &doc["paths"][path][method]["responses"];
        for status in ["400", "401", "403", "429", "503"] {
            assert_eq!(
                responses[status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path} declares {status}"
            );
        }
    }
    for (path, method) in [
        ("/v4/user/{id}", "patch"),
        ("/v4/user/{id}", "delete"),
        ("/v4/meeting-type/{id}", "get"),
        ("/v4/meeting-type/{id}", "patch"),
        ("/v4/meeting-type/{id}", "delete"),
        ("/v4/appointment/paginated", "get"),
        ("/v4/user/{id}/export", "get"),
    ] {
        assert!(
            doc["paths"][path][method]["responses"].get("404").is_some(),
            "{method} {path} declares 404"
        );
    }
    // User lifecycle and the GDPR export are documented as API-key only.
    for (path, method) in [
        ("/v4/user", "post"),
        ("/v4/user/{id}", "delete"),
        ("/v4/user/{id}/export", "get"),
    ] {
        assert_eq!(
            doc["paths"][path][method]["security"],
            json!([{"platform_api_key": []}]),
            "{method} {path}"
        );
    }
}

#[actix_web::test]
async fn the_openapi_schemas_carry_the_validation_constraints() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    // The constraints the validation applies are in the schemas.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["MeetingTypeInput"]["required"], json!(["title"]));
    assert_eq!(
        schemas["MeetingTypeInput"]["properties"]["title"]["maxLength"],
        120
    );
    assert_eq!(
        schemas["MeetingTypeInput"]["properties"]["slug"]["pattern"],
        "^[a-z0-9]+(-[a-z0-9]+)*$"
    );
    assert_eq!(
        schemas["MeetingTypeChanges"]["properties"]["duration"]["maximum"],
        720
    );
    for name in [
        "CreateUserBody",
        "UpdateUserBody",
        "DeleteUserBody",
        "MeetingTypeInput",
    ] {
        assert_eq!(
            schemas[name]["additionalProperties"],
            json!(false),
            "{name}"
        );
    }
    let zones = schemas["CreateUserBody"]["properties"]["timezone"]["enum"]
        .as_array()
        .expect("time zones");
    assert!(zones.contains(&json!("Europe/Berlin")) && zones.len() > 300);
}

#[actix_web::test]
async fn every_documented_operation_is_served_and_nothing_else() {
    let app = TestApp::spawn().await;
    // Each documented operation is served (it asks for a credential) ...
    for (path, method) in ROUTES {
        let concrete = path.replace("{id}", &random_id());
        let m: Method = method.to_uppercase().parse().expect("method");
        let r = app.anonymous().call(m, &concrete, Some(&json!({}))).await;
        assert_eq!(r.status, 401, "{method} {path} is served");
        assert_eq!(r.code(), "missing_authorization", "{method} {path}");
    }
    // ... and nothing else is: another method on a known path is 405, an unknown path 404.
    for (path, method) in [
        ("/v4/user", Method::DELETE),
        ("/v4/meeting-type", Method::PUT),
        ("/v4/appointment/paginated", Method::POST),
    ] {
        let concrete = path.replace("{id}", &random_id());
        let r = app.anonymous().call(method.clone(), &concrete, None).await;
        assert_eq!(r.status, 405, "{method} {path} is not served");
        assert_eq!(r.code(), "method_not_allowed");
    }
    let r = app.anonymous().get("/v4/appointment").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found");
}
