//! Forged, expired and misaddressed responses are refused; SHA-1 only once the company opts in.

use std::rc::Rc;

use meetergo_console::domain::Role;

use crate::helpers::db::add_user;
use crate::helpers::html::testid_text;
use crate::helpers::{email, TestApp};

use super::idp::{Idp, Tenant};
use super::sp::{save_sso, setup, Setup};

/// "Forge SAML SE" with SAML set up and a member; returns the setup and the member's email.
async fn forge(app: &TestApp) -> (Setup, String) {
    let idp = Rc::new(Idp::start().await);
    let s = setup(app, idp, Tenant::new("forge", "idp"), "Forge SAML SE").await;
    let member = email("member");
    add_user(app, &s.company_id, "Mo Member", &member, Role::Member);
    (s, member)
}

#[actix_web::test]
async fn forged_expired_and_misaddressed_responses_are_refused() {
    let app = TestApp::spawn().await;
    let (s, member) = forge(&app).await;
    let wrong_key = s.idp.key_file("wrong.key");
    let wrong_crt = s.idp.key_file("wrong.crt");
    let elsewhere = "https://elsewhere.example/sso/saml/x";
    let other_acs = format!("{elsewhere}/acs");
    let other_sp = format!("{elsewhere}/metadata");
    let other_issuer = format!("{}-evil", s.tenant.entity_id);

    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("unsigned", vec!["--variant", "unsigned"], "must be signed"),
        (
            "signed with the wrong key",
            vec!["--key", &wrong_key, "--cert", &wrong_crt],
            "must be signed",
        ),
        (
            "tampered after signing",
            vec!["--variant", "tampered"],
            "must be signed",
        ),
        (
            "SHA-1 signature and digest",
            vec!["--digest", "sha1", "--sig-alg", "rsa-sha1"],
            "SHA-1",
        ),
        ("SHA-1 digest", vec!["--digest", "sha1"], "SHA-1"),
        ("SHA-1 signature", vec!["--sig-alg", "rsa-sha1"], "SHA-1"),
        (
            "expired",
            vec!["--not-on-or-after-offset", "-600"],
            "expired",
        ),
        (
            "wrong audience",
            vec!["--audience", &other_sp],
            "AudienceRequirement",
        ),
        (
            "wrong destination",
            vec!["--destination", &other_acs],
            "Destination",
        ),
        (
            "wrong destination, response signed",
            vec!["--destination", &other_acs, "--sign", "both"],
            "Destination",
        ),
        (
            "wrong recipient",
            vec!["--recipient", &other_acs],
            "Recipient does not match",
        ),
        (
            "another issuer",
            vec!["--idp-entity-id", &other_issuer],
            "Issuer does not match",
        ),
        (
            "IdP reports failure",
            vec!["--status", "urn:oasis:names:tc:SAML:2.0:status:Responder"],
            "did not report success",
        ),
    ];
    // What the refusal page tells the person to have their administrator check.
    let admin_should_check = |what: &str| match what {
        "signed with the wrong key" | "unsigned" | "tampered after signing" => "certificate",
        "expired" => "clock",
        "wrong audience" => "Entity ID",
        "wrong destination" | "wrong recipient" => "ACS URL",
        "another issuer" => "entity ID",
        w if w.starts_with("SHA-1") => "SHA-256",
        _ => "",
    };
    for (what, extra, reason) in &cases {
        let c = app.browser();
        let resp = s.solicited(&app, &c, &member, extra).await;
        let page = s.refuse(&app, &c, &resp, reason, what).await;
        let hint = testid_text(&page.body, "sso-admin-hint").unwrap_or_default();
        assert!(
            hint.contains(admin_should_check(what)),
            "{what}: the page says what to check: {hint:?}"
        );
    }
    // Not base64, not a Response at all.
    let c = app.browser();
    s.start(&app, &c, &s.sp.slug).await;
    let page = s
        .refuse(&app, &c, "%%%not base64", "base64", "garbage")
        .await;
    let hint = testid_text(&page.body, "sso-admin-hint").unwrap_or_default();
    assert!(
        hint.contains("not a valid SAML response"),
        "garbage: {hint:?}"
    );
    let c = app.browser();
    s.refuse(&app, &c, "", "", "empty").await;

    // A response that just expired is still refused (the default skew is only 60 s)…
    let c = app.browser();
    let resp = s
        .solicited(&app, &c, &member, &["--not-on-or-after-offset", "-200"])
        .await;
    s.refuse(&app, &c, &resp, "expired", "expired 200 s ago")
        .await;

    // And a plain valid response still works.
    let c = app.browser();
    let resp = s.solicited(&app, &c, &member, &[]).await;
    s.accept(&app, &c, &resp, &member, "valid").await;
}

#[actix_web::test]
async fn sha1_is_accepted_only_once_the_company_opts_in() {
    let app = TestApp::spawn().await;
    let (s, member) = forge(&app).await;
    let wrong_key = s.idp.key_file("wrong.key");
    let wrong_crt = s.idp.key_file("wrong.crt");

    // Refused by default.
    let c = app.browser();
    let resp = s
        .solicited(
            &app,
            &c,
            &member,
            &["--digest", "sha1", "--sig-alg", "rsa-sha1"],
        )
        .await;
    s.refuse(&app, &c, &resp, "SHA-1", "SHA-1 signature and digest")
        .await;

    // SHA-1 is accepted once the company opts in; everything else stays refused.
    let r = save_sso(&s.owner_browser, "", &["allow_sha1"]).await;
    assert_eq!(r.status, 303);
    let c = app.browser();
    let resp = s
        .solicited(
            &app,
            &c,
            &member,
            &["--digest", "sha1", "--sig-alg", "rsa-sha1"],
        )
        .await;
    s.accept(&app, &c, &resp, &member, "SHA-1 allowed").await;
    let c = app.browser();
    let resp = s
        .solicited(
            &app,
            &c,
            &member,
            &[
                "--digest",
                "sha1",
                "--sig-alg",
                "rsa-sha1",
                "--key",
                &wrong_key,
                "--cert",
                &wrong_crt,
            ],
        )
        .await;
    s.refuse(
        &app,
        &c,
        &resp,
        "must be signed",
        "SHA-1 allowed, wrong key",
    )
    .await;
    let c = app.browser();
    let resp = s
        .solicited(
            &app,
            &c,
            &member,
            &[
                "--digest",
                "sha1",
                "--sig-alg",
                "rsa-sha1",
                "--variant",
                "unsigned",
            ],
        )
        .await;
    s.refuse(&app, &c, &resp, "must be signed", "SHA-1 allowed, unsigned")
        .await;
}
