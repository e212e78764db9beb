//! The API's rate limit is per credential: one busy credential does not slow the others.

use serde_json::json;

use crate::helpers::fixtures::sign_up;
use crate::helpers::{email, RequestHelper, TestApp};

#[actix_web::test]
async fn rate_limit_per_credential() {
    let app = TestApp::spawn_with(|s| {
        s.api_rate_limit_per_minute = 5;
        s.api_rate_limit_burst = 5;
    })
    .await;
    let owner = sign_up(&app, "Busy", "Bu Sy", &email("busy")).await;
    let pat = owner.browser.create_pat("hot", "30").await;
    let other = owner.browser.create_pat("cold", "30").await;
    let key = owner.browser.create_api_key("Production", "30").await;

    for n in 1..=5 {
        let r = app.token(&pat).get("/v4/user/me").await;
        assert_eq!(r.status, 200, "call {n} passes");
    }
    let r = app.token(&pat).get("/v4/user/me").await;
    assert_eq!(r.status, 429, "the 6th is refused");
    assert_eq!(
        *r.json(),
        json!({"statusCode": 429, "message": "Too Many Requests", "error": "Too Many Requests", "code": "rate_limited"})
    );
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After header")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");

    // Other credentials of the same company, from the same address, are unaffected.
    for n in 1..=5 {
        let r = app.token(&other).get("/v4/user/me").await;
        assert_eq!(r.status, 200, "second PAT call {n}");
    }
    let r = app.token(&key).get("/v4/user/me").await;
    assert_eq!(r.status, 200, "API key unaffected");
    // And the limited one stays limited.
    let r = app.token(&pat).get("/v4/user/me").await;
    assert_eq!(r.status, 429);
}
