//! Sign-up, sign-in, sign-out, sessions, CSRF and rate limits.

use diesel::prelude::*;
use meetergo_console::db::models::{AuditEvent, User};
use meetergo_console::db::schema::{sessions, users};
use meetergo_console::domain::{AuditKind, Email, Role, UserStatus};

use crate::helpers::{client, csrf_in, email, location, TestApp, PASSWORD};

#[actix_web::test]
async fn root_leads_anonymous_visitors_to_login() {
    let app = TestApp::spawn().await;
    let r = app.get("/").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login");
    let r = app.get("/dashboard").await;
    assert_eq!(location(&r), "/login");
    let (status, html) = app.get_html("/login").await;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/signup\""), "login links to signup");
}

#[actix_web::test]
async fn signup_creates_a_company_and_its_owner_and_signs_them_in() {
    let app = TestApp::spawn().await;
    let who = email("owner");
    let r = app.signup("Acme GmbH", "Ada Owner", &who).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/dashboard");
    let (status, html) = app.get_html("/dashboard").await;
    assert_eq!(status, 200);
    assert!(html.contains("Welcome, Ada Owner"));
    assert!(html.contains("data-testid=\"dashboard-role\">owner<"));
    assert!(
        html.contains("Welcome! Your account is ready."),
        "flash shown after signup"
    );
    let (_, again) = app.get_html("/dashboard").await;
    assert!(
        !again.contains("Welcome! Your account is ready."),
        "flash shown once"
    );

    let e = Email::parse("email", &who).unwrap();
    let mut conn = app.db.conn().unwrap();
    let user = User::find_by_email(&mut conn, &e)
        .unwrap()
        .expect("user stored");
    assert_eq!(user.role, Role::Owner);
    let hash = user.password_hash.expect("hash");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "argon2id with OWASP parameters"
    );
    assert!(!hash.contains(PASSWORD));
    let kinds: Vec<AuditKind> = AuditEvent::of_kind(&mut conn, AuditKind::SignedUp)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds.len(), 1);
}

#[actix_web::test]
async fn logout_then_login_again_and_the_old_cookie_is_dead() {
    let app = TestApp::spawn().await;
    let who = email("lo");
    app.signup("Logout Co", "Lou", &who).await;
    // Keep a copy of the session cookie as it was while signed in.
    let session_cookie = {
        let r = app.get("/dashboard").await;
        assert_eq!(r.status(), 200);
        let mut conn = app.db.conn().unwrap();
        let n: i64 = sessions::table.count().get_result(&mut *conn).unwrap();
        assert_eq!(n, 1, "one server-side session");
        app.client.get(app.url("/dashboard")).build().unwrap();
        // reqwest does not expose its jar; read the cookie from a fresh login response instead.
        String::new()
    };
    let _ = session_cookie;

    // Log in from a second, cookie-less client that records the Set-Cookie header.
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login_page = raw.get(app.url("/login")).send().await.unwrap();
    let csrf_cookie = login_page
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = csrf_in(&login_page.text().await.unwrap()).unwrap();
    let r = raw
        .post(app.url("/login"))
        .header("cookie", &csrf_cookie)
        .form(&[
            ("email", who.as_str()),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("session="))
        .expect("session cookie set at login")
        .to_owned();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let session = session.split(';').next().unwrap().to_owned();
    let cookies = format!("{session}; {csrf_cookie}");
    let r = raw
        .get(app.url("/dashboard"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "replayed cookie works while signed in");

    // Log out with that session, then replay the old cookie: it must be dead.
    let html = r.text().await.unwrap();
    let token = csrf_in(&html).unwrap();
    let r = raw
        .post(app.url("/logout"))
        .header("cookie", &cookies)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login");
    let r = raw
        .get(app.url("/dashboard"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "old session cookie no longer works");
    assert_eq!(location(&r), "/login");

    // And a normal login works again.
    let r = app.logout().await;
    assert_eq!(location(&r), "/login");
    let r = app.login(&who, PASSWORD).await;
    assert_eq!(location(&r), "/dashboard");
}

#[actix_web::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let who = email("pw");
    app.signup("Pw Co", "Pat", &who).await;
    app.logout().await;
    let wrong = app.login(&who, "not the right password").await;
    assert_eq!(wrong.status(), 401);
    let wrong = wrong.text().await.unwrap();
    let unknown = app.login(&email("nobody"), "not the right password").await;
    assert_eq!(unknown.status(), 401);
    let unknown = unknown.text().await.unwrap();
    assert!(wrong.contains("Invalid email or password"));
    assert!(unknown.contains("Invalid email or password"));
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("csrf_token") && !l.contains("login-email"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&wrong),
        strip(&unknown),
        "pages differ only in the echoed email"
    );
    let mut conn = app.db.conn().unwrap();
    assert_eq!(
        AuditEvent::of_kind(&mut conn, AuditKind::SignInFailed)
            .unwrap()
            .len(),
        2
    );
}

#[actix_web::test]
async fn weak_and_common_passwords_are_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    let who = email("weak");
    for (password, reason) in [
        ("short", "at least 8 characters"),
        ("password1", "most commonly used"),
        ("iloveyou", "most commonly used"),
    ] {
        let r = app
            .post_form(
                "/signup",
                "/signup",
                &[
                    ("company_name", "Weak Co"),
                    ("name", "W"),
                    ("email", &who),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(r.status(), 422, "{password}");
        let html = r.text().await.unwrap();
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
    let mut conn = app.db.conn().unwrap();
    let n: i64 = users::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(n, 0, "nothing created");
}

#[actix_web::test]
async fn signup_with_a_taken_email_is_refused_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let who = email("dup");
    app.signup("First Co", "First", &who).await;
    let other = app.another_browser();
    let r = other
        .as_app()
        .post_form(
            "/signup",
            "/signup",
            &[
                ("company_name", "Second Co"),
                ("name", "Second"),
                ("email", &who.to_uppercase()),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("already exists"));
    let mut conn = app.db.conn().unwrap();
    let companies: i64 = meetergo_console::db::schema::companies::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(companies, 1, "the half-made company was rolled back");
}

#[actix_web::test]
async fn posts_without_or_with_a_foreign_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let who = email("csrf");
    // No token at all.
    let r = app
        .client
        .post(app.url("/signup"))
        .form(&[
            ("company_name", "C"),
            ("name", "N"),
            ("email", who.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Another browser's token.
    let other = client();
    let foreign = csrf_in(
        &other
            .get(app.url("/signup"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    app.get("/signup").await; // our own cookie exists
    let r = app
        .client
        .post(app.url("/signup"))
        .form(&[
            ("company_name", "C"),
            ("name", "N"),
            ("email", who.as_str()),
            ("password", PASSWORD),
            ("csrf_token", foreign.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let mut conn = app.db.conn().unwrap();
    let n: i64 = users::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(n, 0, "refused POSTs changed nothing");
    let s: i64 = sessions::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(s, 0, "anonymous visitors create no server-side session");

    // Signed in: a state change without the token is refused too.
    app.signup("Csrf Co", "C", &who).await;
    let r = app
        .client
        .post(app.url("/integrations/api/tokens"))
        .form(&[("name", "x"), ("expiry", "30")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app.client.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.get("/dashboard").await.status(), 200, "still signed in");
}

#[actix_web::test]
async fn a_deactivated_user_is_thrown_out_on_the_next_request() {
    let app = TestApp::spawn().await;
    let who = email("deact");
    app.signup("Deact Co", "D", &who).await;
    assert_eq!(app.get("/dashboard").await.status(), 200);
    {
        let mut conn = app.db.conn().unwrap();
        let user = User::find_by_email(&mut conn, &Email::parse("email", &who).unwrap())
            .unwrap()
            .unwrap();
        User::set_status(&mut conn, &user.id, UserStatus::Deactivated).unwrap();
    }
    let r = app.get("/dashboard").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login");
    let r = app.login(&who, PASSWORD).await;
    assert_eq!(r.status(), 401, "a deactivated account cannot sign in");
}

#[actix_web::test]
async fn login_attempts_are_rate_limited_and_audited() {
    let app = TestApp::spawn_with(|s| s.login_rate_limit_per_minute = 3).await;
    let who = email("rl");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            app.login(&who, "wrong password here")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(&statuses[..3], &[401, 401, 401]);
    assert_eq!(statuses[3], 429);
    let r = app.login(&who, "wrong password here").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    assert!(r.text().await.unwrap().contains("Too many attempts"));
    let mut conn = app.db.conn().unwrap();
    assert!(!AuditEvent::of_kind(&mut conn, AuditKind::RateLimited)
        .unwrap()
        .is_empty());
}

#[actix_web::test]
async fn every_response_carries_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/login", "/healthz", "/v4/user/me", "/nope"] {
        let r = app.get(path).await;
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(
            h.get("x-content-type-options").unwrap(),
            "nosniff",
            "{path}"
        );
        assert!(h.get("referrer-policy").is_some(), "{path}");
    }
}

#[actix_web::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[actix_web::test]
async fn unknown_pages_are_a_404_page_for_signed_in_users() {
    let app = TestApp::spawn().await;
    app.signup("Nf Co", "N", &email("nf")).await;
    let (status, html) = app.get_html("/no-such-page").await;
    assert_eq!(status, 404);
    assert!(html.contains("data-testid=\"error-title\""));
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
    let dir = crate::helpers::tempfile_dir::TempDir::new();
    let url = crate::helpers::fresh_database(&dir.0);
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
    let report = meetergo_console::demo::seed(&app.db).unwrap();
    assert!(report.contains("owner@demo.meetergo.test"));
    let r = app
        .login(
            "admin@demo.meetergo.test",
            meetergo_console::demo::DEMO_PASSWORD,
        )
        .await;
    assert_eq!(location(&r), "/dashboard");
    let (_, html) = app.get_html("/dashboard").await;
    assert!(html.contains("Product demo"), "demo meeting types show");
    assert!(
        meetergo_console::demo::seed(&app.db).is_err(),
        "a second run refuses"
    );
}

#[actix_web::test]
async fn a_company_that_enforces_sso_is_joined_only_through_its_identity_provider() {
    use meetergo_console::db::schema::{companies, invitations};
    let app = TestApp::spawn().await;
    let domain = format!(
        "x{}.example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let owner = format!("owner@{domain}");
    app.signup("Enforcing Co", "Olga", &owner).await;
    {
        let mut conn = app.db.conn().unwrap();
        diesel::update(companies::table)
            .set((
                companies::allowed_domains.eq(&domain),
                companies::sso_enforced.eq(true),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    // An invitation made while SSO is enforced cannot be accepted with a password.
    let r = app
        .post_form(
            "/settings/members",
            "/settings/members/invite",
            &[("email", &format!("invitee@{domain}")), ("role", "member")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let link = r.text().await.unwrap();
    let link = link
        .split("data-testid=\"invite-link\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    let path = link.trim_start_matches(&app.address).to_owned();

    let newcomer = app.another_browser();
    let newcomer = newcomer.as_app();
    let r = newcomer
        .post_form(
            "/signup",
            "/signup",
            &[
                ("company_name", "X"),
                ("name", "N"),
                ("email", &format!("new@{domain}")),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text().await.unwrap().contains("Sign in with SSO"),
        "signup by domain is refused with the SSO message"
    );
    let r = newcomer
        .post_form(&path, &path, &[("name", "Invitee"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Sign in with SSO"));

    let mut conn = app.db.conn().unwrap();
    let n: i64 = users::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(n, 1, "nobody joined");
    let pending: i64 = invitations::table
        .filter(invitations::accepted_at.is_null())
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(
        pending, 1,
        "the invitation stays usable for SSO just-in-time sign-up"
    );
}

#[actix_web::test]
async fn only_the_owner_changes_single_sign_on() {
    use meetergo_console::auth::password::hash_now;
    use meetergo_console::domain::{Label, Role};
    use meetergo_console::services::joining::{add_member, NewAccount};
    let app = TestApp::spawn().await;
    let owner = email("sso-owner");
    app.signup("Sso Co", "Olga", &owner).await;
    let admin = email("sso-admin");
    {
        let mut conn = app.db.conn().unwrap();
        let o = User::find_by_email(&mut conn, &Email::parse("email", &owner).unwrap())
            .unwrap()
            .unwrap();
        let account = NewAccount {
            name: Label::parse("name", "name", "Adam", 100).unwrap(),
            email: Email::parse("email", &admin).unwrap(),
            password_hash: Some(hash_now(PASSWORD).unwrap()),
        };
        add_member(&mut conn, &o.company_id, account, Role::Admin).unwrap();
    }
    let other = app.another_browser();
    let view = other.as_app();
    assert_eq!(view.login(&admin, PASSWORD).await.status(), 303);
    let (status, html) = view.get_html("/settings/sso").await;
    assert_eq!(status, 200, "admins see the SP endpoints");
    assert!(html.contains("data-testid=\"sso-owner-only\""));
    assert!(!html.contains("data-testid=\"sso-settings-form\""));
    let r = view
        .post_form(
            "/settings/sso",
            "/settings/sso",
            &[("metadata_xml", "<x/>"), ("enforce_sso", "on")],
        )
        .await;
    assert_eq!(r.status(), 403, "an admin cannot set the identity provider");
    let r = view
        .post_form("/settings/sso", "/settings/sso/remove", &[])
        .await;
    assert_eq!(r.status(), 403);
    let (_, html) = app.get_html("/settings/sso").await;
    assert!(
        html.contains("data-testid=\"sso-settings-form\""),
        "the owner can"
    );
}

#[actix_web::test]
async fn public_mail_domains_cannot_be_claimed_and_huge_page_numbers_are_harmless() {
    let app = TestApp::spawn().await;
    let who = format!(
        "eve-{}@gmail.com",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    app.signup("Grabby Co", "Eve", &who).await;
    let r = app
        .post_form(
            "/settings/company",
            "/settings/company",
            &[("name", "Grabby Co"), ("allowed_domains", "gmail.com")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("public email provider"));
    let mut conn = app.db.conn().unwrap();
    let domains: String = meetergo_console::db::schema::companies::table
        .select(meetergo_console::db::schema::companies::allowed_domains)
        .first(&mut *conn)
        .unwrap();
    assert_eq!(domains, "", "nothing claimed");
    drop(conn);
    for path in [
        "/settings/members?page=9223372036854775807",
        "/settings/audit?page=9223372036854775807",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
}
