//! "Forgot password?": the same answer for every address, a mailed single-use link that works
//! for 30 minutes, and a new password that signs every session of the person out.

use crate::helpers::db::{company_events, events_of_kind, session_count};
use crate::helpers::fixtures::{mails_to, reset_path_in, sign_up, wait_for_mails};
use crate::helpers::{email, RequestHelper, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "a brand new passphrase for tests";

/// The owner of a fresh company asks for a link from a new browser; returns the link's path.
async fn ask_for_link(app: &TestApp, address: &str) -> String {
    let r = app
        .browser()
        .post_form("/password/forgot", &[("email", address)])
        .await;
    r.assert_status(200);
    let mails = wait_for_mails(app, address, 1).await;
    reset_path_in(mails.last().expect("a mail"))
}

#[actix_web::test]
async fn the_answer_is_the_same_whether_or_not_the_account_exists() {
    let app = TestApp::spawn().await;
    let owner = email("known");
    sign_up(&app, "Known Co", "Kim", &owner).await;
    let login = app.browser().get("/login").await;
    assert!(
        login.body.contains("href=\"/password/forgot\""),
        "{}",
        login.body
    );

    let known = app
        .browser()
        .post_form("/password/forgot", &[("email", &owner)])
        .await;
    let stranger = email("nobody");
    let unknown = app
        .browser()
        .post_form("/password/forgot", &[("email", &stranger)])
        .await;
    assert_eq!((known.status, unknown.status), (200, 200));
    // The pages differ only in their CSRF token.
    let without_token = |body: &str| {
        body.lines()
            .filter(|l| !l.contains("csrf_token"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_token(&known.body), without_token(&unknown.body));
    assert!(known.body.contains("data-testid=\"forgot-sent\""));
    wait_for_mails(&app, &owner, 1).await;
    assert!(mails_to(&app, &stranger).is_empty());
}

#[actix_web::test]
async fn a_reset_ends_every_session_is_audited_and_the_link_dies_with_use() {
    let app = TestApp::spawn().await;
    let address = email("forgetful");
    let person = sign_up(&app, "Forget Co", "Fay", &address).await;
    let second = app.browser();
    second.sign_in(&address).await;
    assert_eq!(session_count(&app, &person.id), 2);

    let path = ask_for_link(&app, &address).await;
    let visitor = app.browser();
    let form = visitor.get(&path).await;
    form.assert_status(200);
    assert!(form.body.contains("data-testid=\"reset-form\""));
    // The password policy applies.
    let r = visitor.post_form(&path, &[("password", "short")]).await;
    r.assert_status(422);
    assert!(
        r.body.contains("data-testid=\"error-password\""),
        "{}",
        r.body
    );

    visitor
        .post_form(&path, &[("password", NEW_PASSWORD)])
        .await
        .assert_redirect("/login");
    assert_eq!(session_count(&app, &person.id), 0, "every session ended");
    assert!(!person.browser.is_signed_in().await);
    assert!(!second.is_signed_in().await);
    let events = company_events(&app, &person.company_id, "password.reset");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].actor_id.as_deref(), Some(person.id.as_str()));

    // The old password no longer works, the new one does.
    assert_eq!(app.browser().login(&address, PASSWORD).await.status, 401);
    let r = app.browser().login(&address, NEW_PASSWORD).await;
    r.assert_redirect("/dashboard");

    // The link works once.
    let again = app.browser();
    let r = again.get(&path).await;
    r.assert_status(410);
    assert!(r.body.contains("data-testid=\"reset-problem\""));
    let r = again
        .post_form(&path, &[("password", "yet another passphrase")])
        .await;
    r.assert_status(410);
    app.browser()
        .login(&address, NEW_PASSWORD)
        .await
        .assert_redirect("/dashboard");
}

#[actix_web::test]
async fn a_link_expires_after_30_minutes_and_a_newer_one_replaces_it() {
    let app = TestApp::spawn().await;
    let address = email("late");
    sign_up(&app, "Late Co", "Lee", &address).await;

    let first = ask_for_link(&app, &address).await;
    let r = app
        .browser()
        .post_form("/password/forgot", &[("email", &address)])
        .await;
    r.assert_status(200);
    let mails = wait_for_mails(&app, &address, 2).await;
    let second = reset_path_in(mails.last().expect("second mail"));
    assert_ne!(first, second);
    app.browser().get(&first).await.assert_status(410);
    app.browser().get(&second).await.assert_status(200);

    assert!(app.clock.advance(chrono::Duration::minutes(31)));
    app.browser().get(&second).await.assert_status(410);
    let r = app
        .browser()
        .post_form(&second, &[("password", NEW_PASSWORD)])
        .await;
    r.assert_status(410);
    app.browser()
        .login(&address, PASSWORD)
        .await
        .assert_redirect("/dashboard");
    assert!(events_of_kind(&app, "password.reset").is_empty());
}

#[actix_web::test]
async fn unknown_links_are_refused() {
    let app = TestApp::spawn().await;
    let r = app.browser().get("/password/reset/notARealToken123").await;
    r.assert_status(410);
}

#[actix_web::test]
async fn asking_for_links_is_rate_limited_per_ip_and_per_account() {
    let app = TestApp::spawn_with(|s| s.login_rate_limit_per_minute = 3).await;
    let address = email("limited");
    sign_up(&app, "Limit Co", "Lim", &address).await;
    let browser = app.browser();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = browser
            .post_form("/password/forgot", &[("email", &address)])
            .await;
        statuses.push(r.status);
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    // Another address from elsewhere is still served; this account is not.
    let elsewhere =
        crate::helpers::Browser::from_address(&app.address, "127.0.0.2".parse().expect("ip"));
    let other = email("other");
    let r = elsewhere
        .post_form("/password/forgot", &[("email", &other)])
        .await;
    r.assert_status(200);
    let r = elsewhere
        .post_form("/password/forgot", &[("email", &address)])
        .await;
    r.assert_status(429);
}
