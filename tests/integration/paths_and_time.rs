//! Typed path ids and the app's clock: an id that does not parse names nothing (404, on pages
//! and in the API), and expiry follows the clock the app is given, with no row edited.

use reqwest::Method;

use crate::helpers::{email, TestApp};

#[actix_web::test]
async fn an_id_that_is_no_id_is_not_found_on_pages_and_in_the_api() {
    let app = TestApp::spawn().await;
    app.signup("Paths Co", "Pia", &email("pia")).await;
    for (page, action) in [
        ("/settings/members", "/settings/members/not-a-uuid/role"),
        ("/settings/members", "/settings/members/12345/sign-out"),
        ("/settings/members", "/settings/invitations/x/revoke"),
        ("/integrations/api", "/integrations/api/tokens/%20/revoke"),
        ("/admin/api-keys", "/admin/api-keys/nope/deactivate"),
        ("/profile", "/profile/identities/nope/unlink"),
    ] {
        let r = app.post_form(page, action, &[("role", "admin")]).await;
        assert_eq!(r.status(), 404, "{action}");
        let body = r.text().await.expect("body");
        assert!(
            body.contains("Not found"),
            "{action}: the error page, not a bare body"
        );
    }
    let (status, _) = app.get_html("/settings/members/not-a-uuid/offboard").await;
    assert_eq!(status, 404);

    let pat = app.create_pat("paths", "30").await;
    for path in ["/v4/meeting-type/not-a-uuid", "/v4/meeting-type/1"] {
        let (status, body) = app.api(Method::GET, path, Some(&pat), None).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(
            body["statusCode"], 404,
            "{path}: the JSON error body {body}"
        );
    }
    let (status, body) = app
        .api(Method::PATCH, "/v4/user/abc", Some(&pat), None)
        .await;
    assert_eq!(
        (status.as_u16(), body["statusCode"].as_u64()),
        (404, Some(404))
    );
}

#[actix_web::test]
async fn a_token_stops_working_when_the_clock_passes_its_expiry() {
    let app = TestApp::spawn().await;
    app.signup("Clock Co", "Cleo", &email("cleo")).await;
    let pat = app.create_pat("a week", "7").await;
    let (status, _) = app.api(Method::GET, "/v4/user/me", Some(&pat), None).await;
    assert_eq!(status, 200);

    assert!(app.clock.advance(chrono::Duration::days(6)));
    let (status, _) = app.api(Method::GET, "/v4/user/me", Some(&pat), None).await;
    assert_eq!(status, 200, "still valid on day 6");
    let (_, page) = app.get_html("/integrations/api").await;
    assert!(page.contains("active"), "listed as active on day 6");

    assert!(app.clock.advance(chrono::Duration::days(2)));
    let (status, body) = app.api(Method::GET, "/v4/user/me", Some(&pat), None).await;
    assert_eq!(status, 401, "expired on day 8: {body}");
    assert_eq!(body["code"], "credential_expired", "{body}");
    let (_, page) = app.get_html("/integrations/api").await;
    assert!(page.contains("expired"), "listed as expired on day 8");
}
