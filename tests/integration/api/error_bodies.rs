//! Exact error bodies: each refusal of `/v4` answers in one JSON shape with a stable code.

use meetergo_console::auth::tokens;
use reqwest::Method;
use serde_json::json;

use crate::helpers::fixtures::sign_up;
use crate::helpers::time::a_week_passes;
use crate::helpers::{email, RequestHelper, TestApp};

#[actix_web::test]
async fn error_bodies_are_exact() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Bodies", "Bo Dies", &email("owner")).await;
    let key = owner.browser.create_api_key("Production", "30").await;
    let expired = owner.browser.create_pat("expired", "7").await;
    a_week_passes(&app);
    let owner = owner.id;

    let r = app.anonymous().get("/v4/user/me").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        *r.json(),
        json!({"statusCode": 401, "message": "Missing authorization header", "error": "Unauthorized", "code": "missing_authorization"})
    );
    assert!(r.content_type().starts_with("application/json"));

    let invalid = json!({"statusCode": 401, "message": "Invalid API key", "error": "Unauthorized", "code": "invalid_credential"});
    let mut bad_checksum = tokens::reveal(&tokens::issue_pat()).to_owned();
    bad_checksum.pop();
    bad_checksum.push('!');
    for header in [
        "Bearer nonsense".to_owned(),
        "Bearer".to_owned(),
        "Basic b3duZXI6cGFzcw==".to_owned(),
        format!("Bearer {bad_checksum}"),
        format!("Bearer {}", tokens::reveal(&tokens::issue_pat())),
        format!("Token {key}"),
    ] {
        let anonymous = app.anonymous();
        let request = anonymous.request(Method::GET, "/v4/user/me");
        let r = anonymous
            .send(request.header("authorization", &header))
            .await;
        assert_eq!(r.status, 401, "{header}");
        assert_eq!(*r.json(), invalid, "{header}");
    }

    let r = app.token(&expired).get("/v4/user/me").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        *r.json(),
        json!({"statusCode": 401, "message": "API key has expired", "error": "Unauthorized", "code": "credential_expired"})
    );

    let r = app.token(&key).get("/v4/meeting-type").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        *r.json(),
        json!({
            "statusCode": 400,
            "message": "Missing required header 'x-meetergo-api-user-id' for API key authentication",
            "error": "Bad Request",
            "code": "missing_user_header"
        })
    );
    // An empty header is no header.
    let r = app.token(&key).acting_as("").get("/v4/meeting-type").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "missing_user_header");

    // Unknown routes under /v4 answer in the same shape.
    let r = app
        .token(&key)
        .acting_as(&owner)
        .get("/v4/nothing-here")
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        *r.json(),
        json!({"statusCode": 404, "message": "Not found", "error": "Not Found", "code": "not_found"})
    );
}
