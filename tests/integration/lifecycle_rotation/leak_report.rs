//! `POST /v4/credentials/revoke`: anyone reports credentials found in public; working ones are
//! revoked and their people mailed; the answer is 202 with the count, whatever matched.

use serde_json::{json, Value};

use super::me_with;
use crate::helpers::db::events_of_kind;
use crate::helpers::fixtures::{create_user, sign_up, wait_for_mails};
use crate::helpers::{email, RequestHelper, TestApp};

const REPORT: &str = "/v4/credentials/revoke";

async fn report(app: &TestApp, credentials: Value) -> crate::helpers::Reply {
    app.anonymous()
        .post_json(REPORT, &json!({ "credentials": credentials }))
        .await
}

#[actix_web::test]
async fn reported_credentials_are_revoked_and_their_people_mailed() {
    let app = TestApp::spawn().await;
    let who = email("lea");
    let owner = sign_up(&app, "Leaky GmbH", "Lea Leak", &who).await;
    let pat = owner.browser.create_pat("ci", "30").await;
    let key = owner.browser.create_api_key("Production", "30").await;
    let kept = owner.browser.create_pat("kept", "30").await;
    let (_, admin_email) = create_user(&app, &key, "Adam", "admin").await;

    let r = report(&app, json!(["hello world", pat, key])).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(*r.json(), json!({"received": 3}));

    assert_eq!(
        me_with(&app, &pat).await,
        (401, "invalid_credential".into())
    );
    assert_eq!(
        me_with(&app, &key).await,
        (401, "invalid_credential".into())
    );
    assert_eq!(me_with(&app, &kept).await.0, 200, "an unreported one works");

    let events = events_of_kind(&app, "credential.reported_leaked");
    assert_eq!(events.len(), 2, "{events:?}");
    let owner_mails = wait_for_mails(&app, &who, 2).await;
    assert!(owner_mails
        .iter()
        .any(|m| m.contains("\u{201c}ci\u{201d}") || m.contains("ci")));
    assert!(owner_mails.iter().any(|m| m.contains("Production")));
    let admin_mails = wait_for_mails(&app, &admin_email, 1).await;
    assert!(admin_mails[0].contains("Production"));
    for m in owner_mails.iter().chain(&admin_mails) {
        assert!(
            !m.contains(&pat) && !m.contains(&key),
            "never a secret: {m}"
        );
    }

    // Reported again, or nothing of ours: the same answer, nothing more happens.
    let again = report(&app, json!([pat, key, "rgo-nothing"])).await;
    assert_eq!(
        (again.status, again.json().clone()),
        (202, json!({"received": 3}))
    );
    let none = report(&app, json!(["a", "b", "c"])).await;
    assert_eq!(
        (none.status, none.json().clone()),
        (202, json!({"received": 3}))
    );
    assert_eq!(events_of_kind(&app, "credential.reported_leaked").len(), 2);
}

#[actix_web::test]
async fn more_than_a_thousand_are_refused_and_nothing_is_revoked() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Many AG", "Max Many", &email("max")).await;
    let pat = owner.browser.create_pat("ci", "30").await;
    let mut many: Vec<String> = (0..1000).map(|i| format!("rgo-noise-{i}")).collect();
    many.push(pat.clone());
    let r = report(&app, json!(many)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.code(), "validation_failed");
    assert_eq!(r.json()["errors"][0]["field"], "credentials");
    assert_eq!(me_with(&app, &pat).await.0, 200, "nothing revoked");

    // A thousand is fine; a body far larger than that is 413.
    let r = report(&app, json!(many[..1000].to_vec())).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let huge = "x".repeat(600 * 1024);
    let r = report(&app, json!([huge])).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.code(), "payload_too_large");
    // Not a JSON object: 400, as every /v4 body.
    let r = app.anonymous().post_json(REPORT, &json!(["rgo-x"])).await;
    assert_eq!(r.status, 400);
}

#[actix_web::test]
async fn reports_are_limited_per_address() {
    let app = TestApp::spawn().await;
    for n in 1..=60 {
        let r = report(&app, json!(["noise"])).await;
        assert_eq!(r.status, 202, "report {n}: {}", r.body);
    }
    let r = report(&app, json!(["noise"])).await;
    assert_eq!(r.status, 429, "the 61st in the hour");
    assert_eq!(
        *r.json(),
        json!({"statusCode": 429, "message": "Too Many Requests", "error": "Too Many Requests", "code": "rate_limited"})
    );
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&retry), "Retry-After {retry}");
}
