//! Two-factor sign-in: enrolment confirmed by a code computed with `oathtool` (an independent
//! RFC 6238 implementation), the second sign-in step, replay, recovery codes, disabling.

use std::process::Command;

use chrono::NaiveDateTime;

use crate::helpers::db::events_of_kind;
use crate::helpers::fixtures::sign_up;
use crate::helpers::html::testid_text;
use crate::helpers::{csrf_in, email, Browser, RequestHelper, TestApp, PASSWORD};

/// The code for `secret` at `at`, from oathtool.
pub fn oathtool(secret: &str, at: NaiveDateTime) -> String {
    let out = Command::new("oathtool")
        .args(["--totp", "-b", "--now"])
        .arg(format!("{} UTC", at.format("%Y-%m-%d %H:%M:%S")))
        .arg(secret)
        .output()
        .expect("oathtool is installed (scripts/test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// POSTs a form on a page that is not /login or /dashboard, with that page's CSRF token.
pub async fn post_from(
    b: &Browser,
    page: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> crate::helpers::Reply {
    let html = b.get(page).await.body;
    let token = csrf_in(&html).expect("the page has a form");
    let mut all = fields.to_vec();
    all.push(("csrf_token", &token));
    b.send(b.request(reqwest::Method::POST, path).form(&all))
        .await
}

/// Enrols the signed-in browser; returns the secret and the recovery codes.
pub async fn enrol(app: &TestApp, b: &Browser) -> (String, Vec<String>) {
    let (secret, codes, _) = enrol_with_code(app, b).await;
    (secret, codes)
}

/// The same, also returning the code the enrolment was confirmed with.
pub async fn enrol_with_code(app: &TestApp, b: &Browser) -> (String, Vec<String>, String) {
    let page = b.get("/profile/two-factor").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("data:image/svg+xml;base64,"),
        "a server-rendered SVG QR code"
    );
    let secret = testid_text(&page.body, "totp-secret").expect("the secret in text");
    let code = oathtool(&secret, app.clock.now());
    let r = post_from(
        b,
        "/profile/two-factor",
        "/profile/two-factor/confirm",
        &[("code", &code)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let codes: Vec<String> = r
        .body
        .split("data-testid=\"recovery-code\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes shown once");
    (secret, codes, code)
}

#[actix_web::test]
async fn enrol_then_sign_in_with_a_code_and_a_used_code_is_refused() {
    let app = TestApp::spawn().await;
    let who = email("tf");
    let owner = sign_up(&app, "TOTP Co", "Tess", &who).await;
    let (secret, codes, used) = enrol_with_code(&app, &owner.browser).await;

    // Wrong first: the enrolment page no longer shows the secret.
    let page = owner.browser.get("/profile/two-factor").await;
    assert!(
        testid_text(&page.body, "totp-secret").is_none(),
        "never rendered again"
    );
    assert!(!page.body.contains(&secret));
    assert_eq!(events_of_kind(&app, "two_factor.enabled").len(), 1);

    // Password sign-in now stops half way: no page is granted before the code.
    let b = app.browser();
    let r = b.login(&who, PASSWORD).await;
    r.assert_redirect("/login/two-factor");
    b.get("/dashboard").await.assert_redirect("/login");
    b.get("/profile").await.assert_redirect("/login");
    let step = b.get("/login/two-factor").await;
    assert!(step.body.contains("name=\"code\""));

    // The code used for enrolment is spent: replaying it in its window is refused. (The very
    // code sent then: one computed now could belong to the next 30-second step.)
    let r = b.post_form("/login/two-factor", &[("code", &used)]).await;
    assert_eq!(r.status, 422, "replayed code refused: {}", r.body);
    assert!(!b.is_signed_in().await);

    // The next step's code works, once.
    app.clock.advance(chrono::Duration::seconds(30));
    let fresh = oathtool(&secret, app.clock.now());
    b.post_form("/login/two-factor", &[("code", &fresh)])
        .await
        .assert_redirect("/dashboard");
    assert!(b.is_signed_in().await);
    let other = app.browser();
    other
        .login(&who, PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
    let r = other
        .post_form("/login/two-factor", &[("code", &fresh)])
        .await;
    assert_eq!(r.status, 422, "the same code again, from elsewhere");

    // A recovery code works once, in any format.
    let code = codes[0].to_uppercase().replace('-', " ");
    other
        .post_form("/login/two-factor", &[("code", &code)])
        .await
        .assert_redirect("/dashboard");
    // Spent: nine left (a spent code matches no unused row, so it cannot sign in again).
    let page = owner.browser.get("/profile/two-factor").await;
    assert_eq!(
        testid_text(&page.body, "recovery-codes-left").as_deref(),
        Some("9")
    );
    assert_eq!(
        events_of_kind(&app, "two_factor.recovery_code_used").len(),
        1
    );
    assert!(events_of_kind(&app, "two_factor.failed").len() >= 2);
    assert!(!events_of_kind(&app, "two_factor.succeeded").is_empty());
}

#[actix_web::test]
async fn a_wrong_first_code_does_not_enrol_and_the_second_step_has_its_own_limit() {
    let app = TestApp::spawn().await;
    let who = email("tl");
    let owner = sign_up(&app, "Limit Co", "Lim", &who).await;
    let r = post_from(
        &owner.browser,
        "/profile/two-factor",
        "/profile/two-factor/confirm",
        &[("code", "123456")],
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("data-testid=\"error-code\""));
    owner.browser.logout().await;
    owner.browser.sign_in(&who).await;

    let (_secret, _) = enrol(&app, &owner.browser).await;
    let b = app.browser();
    b.login(&who, PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            b.post_form("/login/two-factor", &[("code", "000000")])
                .await
                .status,
        );
    }
    assert!(
        statuses.contains(&429),
        "codes are rate-limited: {statuses:?}"
    );
}

#[actix_web::test]
async fn disabling_needs_the_password_and_a_code() {
    let app = TestApp::spawn().await;
    let who = email("td");
    let owner = sign_up(&app, "Off Co", "Otto", &who).await;
    let (secret, _) = enrol(&app, &owner.browser).await;
    app.clock.advance(chrono::Duration::seconds(30));
    let code = oathtool(&secret, app.clock.now());
    let disable = |password: &'static str, code: String| {
        let b = owner.browser.clone();
        async move {
            post_from(
                &b,
                "/profile/two-factor",
                "/profile/two-factor/disable",
                &[("password", password), ("code", &code)],
            )
            .await
        }
    };
    assert_eq!(disable("wrong-password-1", code.clone()).await.status, 422);
    assert_eq!(disable(PASSWORD, "111111".into()).await.status, 422);
    let r = disable(PASSWORD, code).await;
    r.assert_redirect("/profile/two-factor");
    assert_eq!(events_of_kind(&app, "two_factor.disabled").len(), 1);
    let b = app.browser();
    b.sign_in(&who).await;
}
