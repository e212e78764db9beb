//! Signing up: a company and its owner, signed in at once; weak passwords and taken emails
//! refused with the reason and nothing created.

use crate::helpers::db::{count_companies, count_users, events_of_kind, user_by_email};
use crate::helpers::{email, RequestHelper, TestApp, PASSWORD};

#[actix_web::test]
async fn root_leads_anonymous_visitors_to_login() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.get("/").await.assert_redirect("/login");
    let r = browser.get("/dashboard").await;
    assert_eq!(r.location(), "/login");
    let r = browser.get("/login").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("href=\"/signup\""), "login links to signup");
}

#[actix_web::test]
async fn signup_creates_a_company_and_its_owner_and_signs_them_in() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let who = email("owner");
    let r = browser.signup("Acme GmbH", "Ada Owner", &who).await;
    r.assert_redirect("/dashboard");
    let r = browser.get("/dashboard").await;
    assert_eq!(r.status, 200);
    let html = &r.body;
    assert!(html.contains("Welcome, Ada Owner"));
    assert!(html.contains("data-testid=\"dashboard-role\">owner<"));
    assert!(
        html.contains("Welcome! Your account is ready."),
        "flash shown after signup"
    );
    let again = browser.get("/dashboard").await.body;
    assert!(
        !again.contains("Welcome! Your account is ready."),
        "flash shown once"
    );

    let user = user_by_email(&app, &who).expect("user stored");
    assert_eq!(user.role.as_str(), "owner");
    let hash = user.password_hash.expect("hash");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "argon2id with OWASP parameters"
    );
    assert!(!hash.contains(PASSWORD));
    assert_eq!(events_of_kind(&app, "sign_up").len(), 1);
}

#[actix_web::test]
async fn weak_and_common_passwords_are_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let who = email("weak");
    for (password, reason) in [
        ("short", "at least 8 characters"),
        ("password1", "most commonly used"),
        ("iloveyou", "most commonly used"),
    ] {
        let r = browser
            .post_form(
                "/signup",
                &[
                    ("company_name", "Weak Co"),
                    ("name", "W"),
                    ("email", &who),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(r.status, 422, "{password}");
        let html = &r.body;
        assert!(
            html.contains("data-testid=\"error-password\""),
            "error beside the field"
        );
        assert!(html.contains(reason), "{password}: {reason}");
        assert!(
            html.contains(&format!("value=\"{who}\"")),
            "what was typed is kept"
        );
    }
    assert_eq!(count_users(&app), 0, "nothing created");
}

#[actix_web::test]
async fn signup_with_a_taken_email_is_refused_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let who = email("dup");
    app.browser().signup("First Co", "First", &who).await;
    let r = app
        .browser()
        .post_form(
            "/signup",
            &[
                ("company_name", "Second Co"),
                ("name", "Second"),
                ("email", &who.to_uppercase()),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("already exists"));
    assert_eq!(
        count_companies(&app),
        1,
        "the half-made company was rolled back"
    );
}
