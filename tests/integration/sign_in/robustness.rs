//! What every visitor can count on: security headers on every answer, health and readiness, an
//! error page for unknown pages, a 503 (not a crash) without a database, instances that start
//! together on one database, and the demo data command.

use crate::helpers::{email, fresh_database, RequestHelper, TempDir, TestApp};

#[actix_web::test]
async fn every_response_carries_security_headers() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    for path in ["/login", "/healthz", "/v4/user/me", "/nope"] {
        let r = browser.get(path).await;
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert!(r.header("referrer-policy").is_some(), "{path}");
    }
}

#[actix_web::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let anonymous = app.anonymous();
    assert_eq!(anonymous.get("/healthz").await.status, 200);
    assert_eq!(anonymous.get("/readyz").await.status, 200);
}

#[actix_web::test]
async fn unknown_pages_are_a_404_page_for_signed_in_users() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("Nf Co", "N", &email("nf")).await;
    let r = browser.get("/no-such-page").await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("data-testid=\"error-title\""));
}

#[actix_web::test]
async fn an_unreachable_database_is_a_503_not_a_crash() {
    use actix_web::ResponseError;
    use meetergo_console::db::{DatabaseUrl, Db};
    // Nothing listens on port 1: the pool cannot connect.
    let db = Db::connect(
        &DatabaseUrl::Postgres("postgres://postgres@127.0.0.1:1/none".into()),
        1,
    )
    .unwrap();
    let err = db
        .run(|conn| diesel::connection::SimpleConnection::batch_execute(conn, "SELECT 1"))
        .await
        .unwrap_err();
    assert_eq!(err.error_response().status(), 503);
    let api: meetergo_console::api::error::ApiError = err.into();
    assert_eq!(api.error_response().status(), 503);
}

#[actix_web::test]
async fn two_instances_starting_together_both_come_up_on_one_database() {
    use meetergo_console::config::Settings;
    use meetergo_console::startup::Application;
    let dir = TempDir::new();
    let url = fresh_database(&dir.0);
    let (a, b) = futures_util::join!(
        Application::build(Settings::for_tests(url.clone(), dir.0.clone())),
        Application::build(Settings::for_tests(url.clone(), dir.0.clone()))
    );
    let (a, b) = (a.expect("first instance"), b.expect("second instance"));
    assert_ne!(a.port(), b.port());
}

#[actix_web::test]
async fn the_demo_command_fills_a_fresh_database_once() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let report = meetergo_console::demo::seed(&app.db).unwrap();
    assert!(report.contains("owner@demo.meetergo.test"));
    let r = browser
        .login(
            "admin@demo.meetergo.test",
            meetergo_console::demo::DEMO_PASSWORD,
        )
        .await;
    assert_eq!(r.location(), "/dashboard");
    let html = browser.get("/dashboard").await.body;
    assert!(html.contains("Product demo"), "demo meeting types show");
    assert!(
        meetergo_console::demo::seed(&app.db).is_err(),
        "a second run refuses"
    );
}
