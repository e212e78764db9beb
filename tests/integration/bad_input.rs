//! What each kind of bad input gets back, precisely: the sweep in `hostile/` only proves
//! that nothing answers 5xx; these prove the answers are the right ones and nothing is stored.

use diesel::prelude::*;
use meetergo_console::db::schema::{audit_events, invitations, users};
use reqwest::Method;

use crate::helpers::db::conn;
use crate::helpers::fixtures::{sign_up, sign_up_unconfirmed};
use crate::helpers::{email, reserve_port, Browser, Person, Reply, RequestHelper, TestApp};

/// "Input Co", its owner signed in.
async fn signed_up_owner() -> (TestApp, Person) {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Input Co", "Olive Owner", &email("owner")).await;
    (app, owner)
}

fn pending_invitations(app: &TestApp, address: &str) -> i64 {
    invitations::table
        .filter(invitations::email.eq(address))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .count()
        .get_result(&mut *conn(app))
        .unwrap()
}

/// POSTs a raw urlencoded body with this browser's CSRF token appended.
async fn post_raw_form(browser: &Browser, path: &str, body: &str) -> Reply {
    let token = browser.csrf_token().await;
    let request = browser
        .request(Method::POST, path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("{body}&csrf_token={token}"));
    browser.send(request).await
}

#[actix_web::test]
async fn nul_and_control_characters_are_refused_at_the_door() {
    let (_app, owner) = signed_up_owner().await;
    // In a path: nothing has that name.
    assert_eq!(
        owner.browser.get("/sso/saml/%00/metadata").await.status,
        404
    );
    assert_eq!(
        owner
            .browser
            .get("/settings/members/%00/offboard")
            .await
            .status,
        404
    );
    let r = owner.browser.get("/v4/user/%00").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found", "the /v4 JSON body: {}", r.body);
    // In a query or a form: a bad request.
    assert_eq!(
        owner.browser.get("/settings/members?q=%00").await.status,
        400
    );
    assert_eq!(
        owner.browser.get("/settings/audit?actor=%00").await.status,
        400
    );
    assert_eq!(
        owner
            .browser
            .get("/settings/members?q=%1B%5B2J")
            .await
            .status,
        400
    );
    assert_eq!(
        owner
            .browser
            .get("/auth/oidc/x/callback?error=%00")
            .await
            .status,
        400
    );
    let r = post_raw_form(&owner.browser, "/sso/start", "identifier=x%00").await;
    assert_eq!(r.status, 400);
    // The CSRF-exempt SAML consumer is behind the same door.
    let acs = owner
        .browser
        .request(Method::POST, "/sso/saml/input-co/acs")
        .form(&[("SAMLResponse", "PHg+\0")]);
    let r = owner.browser.send(acs).await;
    assert_eq!(r.status, 400);
    // Multi-line fields keep their newlines and tabs: the door lets them through to the form,
    // whose own validation answers (here: SAML metadata that is not metadata).
    let r = post_raw_form(
        &owner.browser,
        "/settings/sso",
        "metadata_xml=%3CEntityDescriptor%3E%0D%0A%09%3C%2FEntityDescriptor%3E",
    )
    .await;
    assert_eq!(r.status, 422, "newlines in a textarea reach the form");
}

#[actix_web::test]
async fn text_that_is_not_utf8_is_refused_not_replaced() {
    let (app, owner) = signed_up_owner().await;
    let r = post_raw_form(
        &owner.browser,
        "/integrations/api/tokens",
        "name=caf%FF%FE&expiry=30",
    )
    .await;
    assert_eq!(r.status, 400);
    let r = post_raw_form(&owner.browser, "/settings/company", "name=Bad%C0%80Co").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        owner.browser.get("/settings/members?q=%FF").await.status,
        400
    );
    let replaced: i64 = users::table
        .filter(users::email.eq(&owner.email))
        .filter(users::name.like("%\u{FFFD}%"))
        .count()
        .get_result(&mut *conn(&app))
        .unwrap();
    assert_eq!(replaced, 0);
}

#[actix_web::test]
async fn json_with_nul_in_a_string_is_a_400_json_answer() {
    let (app, owner) = signed_up_owner().await;
    let pat = owner.browser.create_pat("json", "30").await;
    let api = app.token(&pat);
    let send_json = |body: String| {
        api.send(
            api.request(Method::POST, "/v4/meeting-type")
                .header("content-type", "application/json")
                .body(body),
        )
    };
    let r = send_json(r#"{"title":"Intro\u0000","slug":"intro","duration":30}"#.to_owned()).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["statusCode"], 400, "{}", r.body);
    assert_eq!(r.code(), "bad_request", "{}", r.body);
    // A body too large to read is refused in the same JSON shape, as 413.
    let huge = format!(
        r#"{{"title":"{}","slug":"x","duration":30}}"#,
        "A".repeat(300_000)
    );
    let r = send_json(huge).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["statusCode"], 413, "{}", r.body);
    assert_eq!(r.code(), "payload_too_large", "{}", r.body);
}

#[actix_web::test]
async fn member_search_is_capped_and_takes_wildcards_literally() {
    let (_app, owner) = signed_up_owner().await;
    let long = "a".repeat(49_999);
    let r = owner
        .browser
        .get(&format!("/settings/members?q={long}"))
        .await;
    assert_eq!(r.status, 200);
    let html = r.body;
    assert!(
        !html.contains(&long),
        "the query is cut before it is echoed"
    );
    let local = owner.email.split('@').next().unwrap();
    let html = owner
        .browser
        .get(&format!("/settings/members?q={local}"))
        .await
        .body;
    assert!(
        html.contains(&owner.email),
        "a plain search finds the owner"
    );
    for wildcard in ["%25", "_", "%5C"] {
        let r = owner
            .browser
            .get(&format!("/settings/members?q={wildcard}"))
            .await;
        assert_eq!(r.status, 200);
        assert!(
            !r.body.contains(&owner.email),
            "{wildcard} matched everyone"
        );
    }
    for filter in ["actor", "kind", "from", "to"] {
        let r = owner
            .browser
            .get(&format!("/settings/audit?{filter}={long}"))
            .await;
        assert_eq!(r.status, 200, "{filter}");
    }
}

#[actix_web::test]
async fn an_unreadable_user_header_is_a_malformed_user_id() {
    let (app, owner) = signed_up_owner().await;
    let key = owner.browser.create_api_key("Header", "30").await;
    let pat = owner.browser.create_pat("Header", "30").await;
    let unreadable = reqwest::header::HeaderValue::from_bytes(b"\xc3\xa9t\xe9").unwrap();
    let call = |bearer: String, path: &'static str| {
        let unreadable = unreadable.clone();
        let caller = app.token(&bearer);
        async move {
            let request = caller
                .request(Method::GET, path)
                .header("x-meetergo-api-user-id", unreadable);
            let r = caller.send(request).await;
            (r.status, r.json().clone())
        }
    };
    // /v4/user/me acts as the owner when the header is absent; a malformed one is refused.
    let (status, body) = call(key.clone(), "/v4/user/me").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("user_not_in_company"))
    );
    let (status, body) = call(key, "/v4/meeting-type").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("user_not_in_company"))
    );
    let (status, body) = call(pat, "/v4/user/me").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("impersonation_forbidden"))
    );
}

#[actix_web::test]
async fn an_address_that_cannot_be_mailed_leaves_no_invitation() {
    let (app, owner) = signed_up_owner().await;
    let quoted = "a\"xxxx@x.test";
    let r = owner
        .browser
        .post_form(
            "/settings/members/invite",
            &[("email", quoted), ("role", "member")],
        )
        .await;
    assert_eq!(r.status, 422);
    let html = r.body;
    assert!(
        html.contains("data-testid=\"error-email\""),
        "message beside the field"
    );
    let none: i64 = invitations::table
        .count()
        .get_result(&mut *conn(&app))
        .unwrap();
    assert_eq!(none, 0, "nothing saved for an invalid address");
}

#[actix_web::test]
async fn a_mail_server_failure_withdraws_the_invitation_and_hides_the_error() {
    // A mail server that refuses connections: a closed loopback port.
    let closed = reserve_port();
    let app = TestApp::spawn_with(|s| {
        s.smtp_url = Some(secrecy::SecretString::from(format!(
            "smtp://127.0.0.1:{closed}"
        )));
    })
    .await;
    // No mail goes out here, so not even the confirmation link.
    let owner = sign_up_unconfirmed(&app, "Mail Co", "Olive Owner", &email("owner")).await;
    let invitee = email("invitee");
    for attempt in ["first", "again"] {
        let r = owner
            .browser
            .post_form(
                "/settings/members/invite",
                &[("email", invitee.as_str()), ("role", "member")],
            )
            .await;
        assert_eq!(r.status, 422, "{attempt}");
        let html = r.body;
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
        .get_result(&mut *conn(&app))
        .unwrap();
    assert_eq!(
        withdrawn, 2,
        "the audit log says why each invitation is gone"
    );
}
