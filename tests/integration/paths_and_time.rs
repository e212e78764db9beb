//! Typed path ids and the app's clock: an id that does not parse names nothing (404, on pages
//! and in the API), and expiry follows the clock the app is given, with no row edited.

use crate::helpers::fixtures::sign_up;
use crate::helpers::{email, RequestHelper, TestApp};

#[actix_web::test]
async fn an_id_that_is_no_id_is_not_found_on_pages_and_in_the_api() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Paths Co", "Pia", &email("pia")).await;
    for action in [
        "/settings/members/not-a-uuid/role",
        "/settings/members/12345/sign-out",
        "/settings/invitations/x/revoke",
        "/integrations/api/tokens/%20/revoke",
        "/admin/api-keys/nope/deactivate",
        "/profile/identities/nope/unlink",
    ] {
        let r = owner.browser.post_form(action, &[("role", "admin")]).await;
        r.assert_status(404);
        assert!(
            r.body.contains("Not found"),
            "{action}: the error page, not a bare body"
        );
    }
    owner
        .browser
        .get("/settings/members/not-a-uuid/offboard")
        .await
        .assert_status(404);

    let pat = owner.browser.create_pat("paths", "30").await;
    let caller = app.token(&pat);
    for path in ["/v4/meeting-type/not-a-uuid", "/v4/meeting-type/1"] {
        let r = caller.get(path).await;
        r.assert_status(404);
        assert_eq!(r.json()["statusCode"], 404, "{path}: the JSON error body");
    }
    let r = caller
        .patch_json("/v4/user/abc", &serde_json::json!({"givenName": "X"}))
        .await;
    r.assert_status(404);
    assert_eq!(r.json()["statusCode"], 404);
}

#[actix_web::test]
async fn a_token_stops_working_when_the_clock_passes_its_expiry() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Clock Co", "Cleo", &email("cleo")).await;
    let pat = owner.browser.create_pat("a week", "7").await;
    let caller = app.token(&pat);
    caller.get("/v4/user/me").await.assert_status(200);

    assert!(app.clock.advance(chrono::Duration::days(6)));
    caller.get("/v4/user/me").await.assert_status(200);
    let page = owner.browser.get("/integrations/api").await;
    assert!(page.body.contains("active"), "listed as active on day 6");

    assert!(app.clock.advance(chrono::Duration::days(2)));
    let r = caller.get("/v4/user/me").await;
    r.assert_status(401);
    assert_eq!(r.code(), "credential_expired");
    let page = owner.browser.get("/integrations/api").await;
    assert!(page.body.contains("expired"), "listed as expired on day 8");
}
