//! Sessions: signing out kills the session cookie for good, wrong passwords and unknown emails
//! look the same, a deactivated user is thrown out, and sign-in attempts are rate limited.

use meetergo_console::domain::UserStatus;
use reqwest::Method;

use crate::helpers::db::{count_sessions, events_of_kind, set_status, user_id};
use crate::helpers::{csrf_in, email, RequestHelper, TestApp, PASSWORD};

#[actix_web::test]
async fn logout_then_login_again_and_the_old_cookie_is_dead() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let who = email("lo");
    browser.signup("Logout Co", "Lou", &who).await;
    let r = browser.get("/dashboard").await;
    assert_eq!(r.status, 200);
    assert_eq!(count_sessions(&app), 1, "one server-side session");

    // Log in from a second, cookie-less client that records the Set-Cookie header.
    let raw = app.anonymous();
    let login_page = raw.get("/login").await;
    let csrf_cookie = login_page
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = csrf_in(&login_page.body).unwrap();
    let login = raw
        .request(Method::POST, "/login")
        .header("cookie", &csrf_cookie)
        .form(&[
            ("email", who.as_str()),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ]);
    let r = raw.send(login).await;
    assert_eq!(r.status, 303);
    let session = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("session="))
        .expect("session cookie set at login")
        .to_owned();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let session = session.split(';').next().unwrap().to_owned();
    let cookies = format!("{session}; {csrf_cookie}");
    let with_cookies = |method, path| raw.request(method, path).header("cookie", &cookies);
    let r = raw.send(with_cookies(Method::GET, "/dashboard")).await;
    assert_eq!(r.status, 200, "replayed cookie works while signed in");

    // Log out with that session, then replay the old cookie: it must be dead.
    let token = csrf_in(&r.body).unwrap();
    let logout = with_cookies(Method::POST, "/logout").form(&[("csrf_token", token.as_str())]);
    raw.send(logout).await.assert_redirect("/login");
    let r = raw.send(with_cookies(Method::GET, "/dashboard")).await;
    assert_eq!(r.status, 303, "old session cookie no longer works");
    assert_eq!(r.location(), "/login");

    // And a normal login works again.
    let r = browser.logout().await;
    assert_eq!(r.location(), "/login");
    let r = browser.login(&who, PASSWORD).await;
    assert_eq!(r.location(), "/dashboard");
}

#[actix_web::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let who = email("pw");
    browser.signup("Pw Co", "Pat", &who).await;
    browser.logout().await;
    // Where signing out leads, with its one-time "signed out" notice.
    browser.get("/login").await;
    let wrong = browser.login(&who, "not the right password").await;
    assert_eq!(wrong.status, 401);
    let unknown = browser
        .login(&email("nobody"), "not the right password")
        .await;
    assert_eq!(unknown.status, 401);
    assert!(wrong.body.contains("Invalid email or password"));
    assert!(unknown.body.contains("Invalid email or password"));
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("csrf_token") && !l.contains("login-email"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&wrong.body),
        strip(&unknown.body),
        "pages differ only in the echoed email"
    );
    assert_eq!(events_of_kind(&app, "sign_in.failed").len(), 2);
}

#[actix_web::test]
async fn a_deactivated_user_is_thrown_out_on_the_next_request() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let who = email("deact");
    browser.signup("Deact Co", "D", &who).await;
    assert_eq!(browser.get("/dashboard").await.status, 200);
    set_status(&app, &user_id(&app, &who), UserStatus::Deactivated);
    browser.get("/dashboard").await.assert_redirect("/login");
    let r = browser.login(&who, PASSWORD).await;
    assert_eq!(r.status, 401, "a deactivated account cannot sign in");
}

#[actix_web::test]
async fn login_attempts_are_rate_limited_and_audited() {
    let app = TestApp::spawn_with(|s| s.login_rate_limit_per_minute = 3).await;
    let browser = app.browser();
    let who = email("rl");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(browser.login(&who, "wrong password here").await.status);
    }
    assert_eq!(&statuses[..3], &[401, 401, 401]);
    assert_eq!(statuses[3], 429);
    let r = browser.login(&who, "wrong password here").await;
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    assert!(r.body.contains("Too many attempts"));
    assert!(!events_of_kind(&app, "rate_limit.hit").is_empty());
}
