//! Settings → Provisioning: who may use it, the secret shown once and kept as an HMAC, its last
//! use, regeneration and revocation, SCIM off, the successor, the audit trail.

use meetergo_console::auth::keys::Keys;

use crate::helpers::db::company_events;
use crate::helpers::fixtures::{create_user, signed_in_user};
use crate::helpers::html::{testid_text, testid_words};
use crate::helpers::{RequestHelper, TestApp};

use super::{assert_scim_error, generate_secret, idp, provisioned, stored_config};

#[actix_web::test]
async fn the_secret_is_shown_once_and_stored_as_an_hmac() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Hmac Co").await;
    let (enabled, hash, prefix, successor) = stored_config(&app, &p.owner.company_id);
    assert!(enabled, "generating the secret turns SCIM on");
    let keys = Keys::derive(app.settings.secret_key_bytes());
    assert_eq!(
        hash.as_deref(),
        Some(keys.credential_hash(&p.secret).as_str())
    );
    let prefix = prefix.expect("a display prefix");
    assert!(p.secret.starts_with(prefix.trim_end_matches('…')));
    assert!(prefix.len() < p.secret.len());
    assert_eq!(successor, None, "the owner by default");

    let page = p.owner.browser.get("/settings/provisioning").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(&p.secret), "never shown again");
    assert_eq!(testid_text(&page.body, "new-token"), None);
    assert_eq!(
        testid_text(&page.body, "company-id").as_deref(),
        Some(p.owner.company_id.as_str())
    );
    assert_eq!(
        testid_words(&page.body, "scim-last-used").as_deref(),
        Some("never")
    );
    assert!(page.body.contains("name=\"scim_successor\""));
    assert!(page.body.contains("/scim/v2"));

    let r = idp(&app, &p.secret).get("/scim/v2/Users").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let page = p.owner.browser.get("/settings/provisioning").await;
    assert_ne!(
        testid_words(&page.body, "scim-last-used").as_deref(),
        Some("never")
    );

    let events = company_events(&app, &p.owner.company_id, "scim.secret_generated");
    assert_eq!(events.len(), 1);
    assert!(!format!("{events:?}").contains(&p.secret));
}

#[actix_web::test]
async fn regenerating_stops_the_old_secret_and_revoking_stops_the_new_one() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Rotate Co").await;
    let second = generate_secret(&p.owner).await;
    assert_ne!(second, p.secret);
    assert_scim_error(&idp(&app, &p.secret).get("/scim/v2/Users").await, 401, None);
    assert_eq!(idp(&app, &second).get("/scim/v2/Users").await.status, 200);

    let r = p
        .owner
        .browser
        .post_form("/settings/provisioning/secret/revoke", &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_scim_error(&idp(&app, &second).get("/scim/v2/Users").await, 401, None);
    let (_, hash, prefix, _) = stored_config(&app, &p.owner.company_id);
    assert_eq!((hash, prefix), (None, None));
    assert_eq!(
        company_events(&app, &p.owner.company_id, "scim.secret_revoked").len(),
        1
    );
    let page = p.owner.browser.get("/settings/provisioning").await;
    assert!(page.body.contains("data-testid=\"scim-no-secret\""));
}

#[actix_web::test]
async fn turning_scim_off_refuses_the_secret_and_the_successor_is_saved() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Switch Co").await;
    let key = p.owner.browser.create_api_key("Production", "30").await;
    let (successor, _) = create_user(&app, &key, "Sam", "member").await;

    let r = p
        .owner
        .browser
        .post_form("/settings/provisioning", &[("scim_successor", &successor)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let (enabled, _, _, chosen) = stored_config(&app, &p.owner.company_id);
    assert!(!enabled, "the box was not ticked");
    assert_eq!(chosen.as_deref(), Some(successor.as_str()));
    let r = idp(&app, &p.secret).get("/scim/v2/Users").await;
    assert_scim_error(&r, 401, None);
    assert!(r.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("turned off"));

    let r = p
        .owner
        .browser
        .post_form(
            "/settings/provisioning",
            &[("enabled", "on"), ("scim_successor", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(stored_config(&app, &p.owner.company_id).3, None);
    assert_eq!(idp(&app, &p.secret).get("/scim/v2/Users").await.status, 200);

    // Someone of another company, or no id at all, is refused beside the field.
    let stranger = super::provisioned(&app, "Else Co").await.owner.id;
    for bad in [stranger.as_str(), "not-an-id"] {
        let r = p
            .owner
            .browser
            .post_form(
                "/settings/provisioning",
                &[("enabled", "on"), ("scim_successor", bad)],
            )
            .await;
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        assert!(r.body.contains("data-testid=\"error-scim_successor\""));
    }
    assert_eq!(
        company_events(&app, &p.owner.company_id, "scim.settings_changed").len(),
        2
    );
}

#[actix_web::test]
async fn only_owners_and_admins_manage_provisioning() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Roles Co").await;
    let key = p.owner.browser.create_api_key("Production", "30").await;
    let admin = signed_in_user(&app, &key, "Ada", "admin").await;
    let member = signed_in_user(&app, &key, "Mia", "member").await;
    assert_eq!(
        admin.browser.get("/settings/provisioning").await.status,
        200
    );
    assert_eq!(
        member.browser.get("/settings/provisioning").await.status,
        403
    );
    for path in [
        "/settings/provisioning",
        "/settings/provisioning/secret",
        "/settings/provisioning/secret/revoke",
    ] {
        let r = member.browser.post_form(path, &[("enabled", "on")]).await;
        assert_eq!(r.status, 403, "{path}");
    }
    assert_eq!(idp(&app, &p.secret).get("/scim/v2/Users").await.status, 200);
    // Without the CSRF token the form is refused before anything changes.
    let r = admin
        .browser
        .send(
            admin
                .browser
                .request(
                    reqwest::Method::POST,
                    "/settings/provisioning/secret/revoke",
                )
                .form(&[("x", "y")]),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(idp(&app, &p.secret).get("/scim/v2/Users").await.status, 200);
}
