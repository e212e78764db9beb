//! What the shell around every page promises, over HTTP: error pages keep the navigation and
//! Log out when someone is signed in, the name in the top bar opens the profile, refused fields
//! are named by their inputs and summarised, and pasted SAML metadata that cannot be read is
//! explained without the parser's internals.

use crate::helpers::fixtures::{key_id_of, mailed_invite_link, sign_up, signed_in_user};
use crate::helpers::html::{link_path, testid_text};
use crate::helpers::{email, RequestHelper, TestApp};

fn has_testid(html: &str, id: &str) -> bool {
    html.contains(&format!("data-testid=\"{id}\""))
}

/// The opening tag of the element with this testid.
fn tag_of<'h>(html: &'h str, id: &str) -> &'h str {
    let marker = format!("data-testid=\"{id}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id} in:\n{html}"));
    let start = html[..at].rfind('<').expect("tag start");
    let end = at + html[at..].find('>').expect("tag end");
    &html[start..=end]
}

#[actix_web::test]
async fn error_pages_keep_the_navigation_and_log_out_when_signed_in() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Shell Co", "Sina Owner", &email("shell")).await;
    let key = owner.browser.create_api_key("Shell key", "30").await;
    let member = signed_in_user(&app, &key, "Moe", "member").await;

    let cases = [
        (
            &owner.browser,
            "/no-such-page".to_owned(),
            404,
            "Not found",
            "Sina Owner",
        ),
        (
            &owner.browser,
            format!("/integrations/api/tokens/{}", uuid::Uuid::new_v4()),
            404,
            "Not found",
            "Sina Owner",
        ),
        (
            &member.browser,
            "/settings/members".to_owned(),
            403,
            "Not allowed",
            "Moe",
        ),
        (
            &member.browser,
            format!("/admin/api-keys/{}", key_id_of(&key)),
            403,
            "Not allowed",
            "Moe",
        ),
    ];
    for (who, path, status, title, name) in cases {
        let r = who.get(&path).await;
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert_eq!(
            testid_text(&r.body, "error-title").as_deref(),
            Some(title),
            "{path}"
        );
        for id in ["nav-dashboard", "nav-integrations", "nav-profile", "logout"] {
            assert!(
                has_testid(&r.body, id),
                "{path}: the {id} stays on the error page"
            );
        }
        assert!(
            testid_text(&r.body, "current-user").is_some_and(|t| t.starts_with(name)),
            "{path}: names who is signed in"
        );
        assert!(
            r.body.contains("name=\"csrf_token\""),
            "{path}: Log out carries its token"
        );
    }
    // Log out from the error page works.
    let page = member.browser.get("/settings/members").await;
    assert!(has_testid(&page.body, "logout"));
    member.browser.logout().await.assert_status(303);
    assert!(!member.browser.is_signed_in().await);

    // Signed out, an error page has no navigation to offer.
    let r = app
        .anonymous()
        .get("/sso/saml/no-such-company/metadata")
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        testid_text(&r.body, "error-title").as_deref(),
        Some("Not found")
    );
    assert!(!has_testid(&r.body, "logout"), "nobody to log out");
    assert!(!has_testid(&r.body, "nav-dashboard"));
}

#[actix_web::test]
async fn the_name_in_the_top_bar_opens_the_profile() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Profile Link Co", "Pia Profile", &email("plink")).await;
    let page = owner.browser.get("/dashboard").await;
    let link = tag_of(&page.body, "nav-profile");
    assert!(link.starts_with("<a "), "a link: {link}");
    assert!(link.contains("href=\"/profile\""), "to the profile: {link}");
    assert_eq!(
        testid_text(&page.body, "current-user").as_deref(),
        Some("Pia Profile · Profile Link Co"),
        "the link is the person's name and company"
    );
    let inside = page
        .body
        .split("data-testid=\"nav-profile\"")
        .nth(1)
        .and_then(|rest| rest.split("</a>").next())
        .expect("the link's content");
    assert!(inside.contains("data-testid=\"current-user\""), "{inside}");
}

#[actix_web::test]
async fn refused_fields_are_named_by_their_inputs_and_summarised() {
    let app = TestApp::spawn().await;

    // Sign-up with a short password.
    let visitor = app.browser();
    let r = visitor
        .post_form(
            "/signup",
            &[
                ("company_name", "Short Pass Co"),
                ("name", "Sam"),
                ("email", &email("short")),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let input = tag_of(&r.body, "signup-password");
    assert!(input.contains("aria-invalid=\"true\""), "{input}");
    assert!(
        input.contains("aria-describedby=\"password-hint password-error\""),
        "{input}"
    );
    assert!(r.body.contains("id=\"password-error\""));
    let summary = tag_of(&r.body, "error-summary");
    assert!(summary.contains("role=\"alert\""), "{summary}");
    assert!(
        summary.contains("data-focus"),
        "focused after the post: {summary}"
    );
    assert!(
        r.body.contains("<a href=\"#password\">"),
        "links to the field"
    );

    // Accepting an invitation with a short password.
    let owner = sign_up(&app, "Field Errors Co", "Fee Owner", &email("fe")).await;
    let invitee = email("fe-invitee");
    owner.browser.invite(&invitee, "admin").await;
    let link = link_path(&mailed_invite_link(&app, &invitee));
    let r = app
        .browser()
        .post_form(&link, &[("name", "Ivo"), ("password", "short")])
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let input = tag_of(&r.body, "accept-password");
    assert!(input.contains("aria-invalid=\"true\""), "{input}");
    assert!(input.contains("password-error"), "{input}");
    assert!(has_testid(&r.body, "error-summary"));

    // Transferring ownership with a wrong password.
    let key = owner.browser.create_api_key("Heir key", "30").await;
    let heir = signed_in_user(&app, &key, "Hal", "admin").await;
    let r = owner
        .browser
        .post_form(
            "/settings/company/transfer-ownership",
            &[
                ("user_id", heir.id.as_str()),
                ("password", "not my password"),
            ],
        )
        .await;
    assert!(r.status >= 400, "refused: {}", r.status);
    let input = tag_of(&r.body, "transfer-password");
    assert!(input.contains("aria-invalid=\"true\""), "{input}");
    assert!(
        input.contains("aria-describedby=\"transfer-password-error\""),
        "{input}"
    );
    assert!(r.body.contains("id=\"transfer-password-error\""));
    assert!(has_testid(&r.body, "error-summary"));
}

#[actix_web::test]
async fn unreadable_saml_metadata_is_explained_without_parser_internals() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Metadata Co", "Mel Owner", &email("meta")).await;
    for pasted in [
        "<EntityDescriptor entityID=\"https://idp.example\"",
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"><oops></md:EntityDescriptor>",
        "not xml at all",
    ] {
        let r = owner
            .browser
            .post_form("/settings/sso", &[("metadata_xml", pasted)])
            .await;
        assert_eq!(r.status, 422, "{pasted}: {}", r.body);
        let error = testid_text(&r.body, "error-metadata_xml").expect("a field error");
        for internal in ["InvalidXml", "Syntax", "Unclosed", "Error(", "{", "::"] {
            assert!(!error.contains(internal), "{pasted}: no parser internals: {error}");
        }
        assert!(
            error.contains("could not be read") || error.contains("identity provider"),
            "{pasted}: says what to check: {error}"
        );
    }
}
