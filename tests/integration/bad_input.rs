//! What each kind of bad input gets back, precisely: the sweep in `hostile.rs` only proves
//! that nothing answers 5xx; these prove the answers are the right ones and nothing is stored.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use diesel::prelude::*;
use meetergo_console::db::schema::{audit_events, invitations, users};
use reqwest::Method;

use crate::helpers::{email, TestApp};

async fn signed_up_owner() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let owner = email("owner");
    let r = app.signup("Input Co", "Olive Owner", &owner).await;
    assert_eq!(r.status(), 303, "signup");
    (app, owner)
}

fn pending_invitations(app: &TestApp, address: &str) -> i64 {
    invitations::table
        .filter(invitations::email.eq(address))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap()
}

/// POSTs a raw urlencoded body with this browser's CSRF token appended.
async fn post_raw_form(app: &TestApp, page: &str, path: &str, body: &str) -> reqwest::Response {
    let token = app.csrf_for(page).await;
    app.client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("{body}&csrf_token={token}"))
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn nul_and_control_characters_are_refused_at_the_door() {
    let (app, _) = signed_up_owner().await;
    // In a path: nothing has that name.
    assert_eq!(app.get("/sso/saml/%00/metadata").await.status(), 404);
    assert_eq!(
        app.get("/settings/members/%00/offboard").await.status(),
        404
    );
    let r = app.get("/v4/user/%00").await;
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "not_found", "the /v4 JSON body: {body}");
    // In a query or a form: a bad request.
    assert_eq!(app.get("/settings/members?q=%00").await.status(), 400);
    assert_eq!(app.get("/settings/audit?actor=%00").await.status(), 400);
    assert_eq!(app.get("/settings/members?q=%1B%5B2J").await.status(), 400);
    assert_eq!(
        app.get("/auth/oidc/x/callback?error=%00").await.status(),
        400
    );
    let r = post_raw_form(&app, "/dashboard", "/sso/start", "identifier=x%00").await;
    assert_eq!(r.status(), 400);
    // The CSRF-exempt SAML consumer is behind the same door.
    let r = app
        .client
        .post(app.url("/sso/saml/input-co/acs"))
        .form(&[("SAMLResponse", "PHg+\0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Multi-line fields keep their newlines and tabs: the door lets them through to the form,
    // whose own validation answers (here: SAML metadata that is not metadata).
    let r = post_raw_form(
        &app,
        "/settings/sso",
        "/settings/sso",
        "metadata_xml=%3CEntityDescriptor%3E%0D%0A%09%3C%2FEntityDescriptor%3E",
    )
    .await;
    assert_eq!(r.status(), 422, "newlines in a textarea reach the form");
}

#[actix_web::test]
async fn text_that_is_not_utf8_is_refused_not_replaced() {
    let (app, owner) = signed_up_owner().await;
    let r = post_raw_form(
        &app,
        "/integrations/api",
        "/integrations/api/tokens",
        "name=caf%FF%FE&expiry=30",
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = post_raw_form(
        &app,
        "/settings/company",
        "/settings/company",
        "name=Bad%C0%80Co",
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(app.get("/settings/members?q=%FF").await.status(), 400);
    let replaced: i64 = users::table
        .filter(users::email.eq(&owner))
        .filter(users::name.like("%\u{FFFD}%"))
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap();
    assert_eq!(replaced, 0);
}

#[actix_web::test]
async fn json_with_nul_in_a_string_is_a_400_json_answer() {
    let (app, _) = signed_up_owner().await;
    let pat = app.create_pat("json", "30").await;
    let r = app
        .client
        .post(app.url("/v4/meeting-type"))
        .bearer_auth(&pat)
        .header("content-type", "application/json")
        .body(r#"{"title":"Intro\u0000","slug":"intro","duration":30}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["statusCode"], 400, "{body}");
    assert_eq!(body["code"], "bad_request", "{body}");
    // A body too large to read is refused in the same JSON shape.
    let huge = format!(
        r#"{{"title":"{}","slug":"x","duration":30}}"#,
        "A".repeat(300_000)
    );
    let r = app
        .client
        .post(app.url("/v4/meeting-type"))
        .bearer_auth(&pat)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "bad_request", "{body}");
}

#[actix_web::test]
async fn member_search_is_capped_and_takes_wildcards_literally() {
    let (app, owner) = signed_up_owner().await;
    let long = "a".repeat(49_999);
    let (status, html) = app.get_html(&format!("/settings/members?q={long}")).await;
    assert_eq!(status, 200);
    assert!(
        !html.contains(&long),
        "the query is cut before it is echoed"
    );
    let local = owner.split('@').next().unwrap();
    let (_, html) = app.get_html(&format!("/settings/members?q={local}")).await;
    assert!(html.contains(&owner), "a plain search finds the owner");
    for wildcard in ["%25", "_", "%5C"] {
        let (status, html) = app
            .get_html(&format!("/settings/members?q={wildcard}"))
            .await;
        assert_eq!(status, 200);
        assert!(!html.contains(&owner), "{wildcard} matched everyone");
    }
    for filter in ["actor", "kind", "from", "to"] {
        let (status, _) = app
            .get_html(&format!("/settings/audit?{filter}={long}"))
            .await;
        assert_eq!(status, 200, "{filter}");
    }
}

#[actix_web::test]
async fn an_unreadable_user_header_is_a_malformed_user_id() {
    let (app, _) = signed_up_owner().await;
    let key = app.create_api_key("Header", "30").await;
    let pat = app.create_pat("Header", "30").await;
    let unreadable = reqwest::header::HeaderValue::from_bytes(b"\xc3\xa9t\xe9").unwrap();
    let call = |bearer: String, path: &'static str| {
        let unreadable = unreadable.clone();
        let url = app.url(path);
        async move {
            let r = reqwest::Client::new()
                .request(Method::GET, url)
                .bearer_auth(bearer)
                .header("x-meetergo-api-user-id", unreadable)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    // /v4/user/me acts as the owner when the header is absent; a malformed one is refused.
    let (status, body) = call(key.clone(), "/v4/user/me").await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (403, Some("user_not_in_company"))
    );
    let (status, body) = call(key, "/v4/meeting-type").await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (403, Some("user_not_in_company"))
    );
    let (status, body) = call(pat, "/v4/user/me").await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (403, Some("impersonation_forbidden"))
    );
}

#[actix_web::test]
async fn an_address_that_cannot_be_mailed_leaves_no_invitation() {
    let (app, _) = signed_up_owner().await;
    let quoted = "a\"xxxx@x.test";
    let r = app
        .post_form(
            "/settings/members",
            "/settings/members/invite",
            &[("email", quoted), ("role", "member")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("data-testid=\"error-email\""),
        "message beside the field"
    );
    let none: i64 = invitations::table
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap();
    assert_eq!(none, 0, "nothing saved for an invalid address");
}

#[actix_web::test]
async fn a_mail_server_failure_withdraws_the_invitation_and_hides_the_error() {
    // A mail server that refuses connections: a closed loopback port.
    let closed = crate::helpers::reserve_port();
    let app = TestApp::spawn_with(|s| {
        s.smtp_url = Some(secrecy::SecretString::from(format!(
            "smtp://127.0.0.1:{closed}"
        )));
    })
    .await;
    let owner = email("owner");
    assert_eq!(
        app.signup("Mail Co", "Olive Owner", &owner).await.status(),
        303
    );
    let invitee = email("invitee");
    for attempt in ["first", "again"] {
        let r = app
            .post_form(
                "/settings/members",
                "/settings/members/invite",
                &[("email", invitee.as_str()), ("role", "member")],
            )
            .await;
        assert_eq!(r.status(), 422, "{attempt}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("could not be mailed to this address"),
            "{attempt}: a friendly message"
        );
        assert!(
            !html.contains("This email has a pending invitation"),
            "{attempt}: no half invitation blocks a new try"
        );
        assert!(
            !html.contains(&closed.to_string()) && !html.to_lowercase().contains("smtp"),
            "{attempt}: no internals shown"
        );
        assert_eq!(
            pending_invitations(&app, &invitee),
            0,
            "{attempt}: nothing pending"
        );
    }
    let withdrawn: i64 = audit_events::table
        .filter(audit_events::kind.eq("invitation.revoked"))
        .filter(audit_events::target.eq(&invitee))
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap();
    assert_eq!(
        withdrawn, 2,
        "the audit log says why each invitation is gone"
    );
}
