//! Settings → SSO: the service provider's endpoints to paste into the IdP, IdP metadata checked
//! before SAML is turned on, the SP metadata published, and members kept out.

use diesel::prelude::*;
use meetergo_console::db::schema::saml_configs;
use meetergo_console::domain::Role;

use crate::helpers::db::{add_user, company, company_event_details, conn};
use crate::helpers::fixtures::sign_up;
use crate::helpers::html::testid_text;
use crate::helpers::{email, Browser, RequestHelper, TestApp, PASSWORD};

use super::idp::{sp, Idp, Sp, Tenant};
use super::sp::save_sso;

/// A company without SAML: its owner's browser, its id and its service provider endpoints.
async fn company_without_saml(app: &TestApp) -> (Browser, String, Sp) {
    let owner = sign_up(app, "Saml Settings GmbH", "Olga Owner", &email("owner")).await;
    let slug = company(app, &owner.company_id).slug;
    (owner.browser, owner.company_id, sp(app, &slug))
}

fn saml_configs_count(app: &TestApp, company_id: &str) -> i64 {
    saml_configs::table
        .filter(saml_configs::company_id.eq(company_id))
        .count()
        .get_result(&mut *conn(app))
        .expect("saml configs")
}

/// The page shows the endpoints to paste into the IdP.
fn assert_shows_endpoints(html: &str, sp: &Sp) {
    assert_eq!(
        testid_text(html, "sp-entity-id").as_deref(),
        Some(sp.entity_id.as_str())
    );
    assert_eq!(
        testid_text(html, "sp-acs-url").as_deref(),
        Some(sp.acs_url.as_str())
    );
    assert_eq!(
        testid_text(html, "sp-metadata-url").as_deref(),
        Some(sp.metadata_url.as_str())
    );
}

#[actix_web::test]
async fn metadata_that_cannot_verify_responses_is_refused_and_saml_stays_off() {
    let app = TestApp::spawn().await;
    let idp = Idp::start().await;
    let tenant = Tenant::new("settings", "idp");
    let (owner, company_id, sp) = company_without_saml(&app).await;

    // The page gives the endpoints to paste into the IdP, and SAML is off.
    let r = owner.get("/settings/sso").await;
    assert_eq!(r.status, 200);
    assert_shows_endpoints(&r.body, &sp);
    assert!(r.body.contains("SAML is <strong>off</strong>"));

    // Metadata without a signing certificate: refused, SAML stays off.
    let no_cert = idp.metadata(&tenant, false).await;
    assert!(!no_cert.contains("X509Certificate"));
    let r = save_sso(&owner, &no_cert, &["enforce_sso"]).await;
    assert_eq!(r.status, 422);
    let error = testid_text(&r.body, "error-metadata_xml").expect("a field error");
    assert!(
        error.contains("no signing certificate") && error.contains("SAML stays off"),
        "{error}"
    );
    assert!(r.body.contains("SAML is <strong>off</strong>"));
    assert_eq!(saml_configs_count(&app, &company_id), 0);
    assert!(!company(&app, &company_id).sso_enforced);

    // Garbage: refused.
    for garbage in [
        "hello, I am not XML",
        "<md:EntityDescriptor",
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"x\">]><x>&e;</x>",
        "<html><body>Okta</body></html>",
    ] {
        let r = save_sso(&owner, garbage, &[]).await;
        assert_eq!(r.status, 422, "{garbage}");
        assert!(
            testid_text(&r.body, "error-metadata_xml").is_some_and(|e| !e.is_empty()),
            "a message for {garbage}: {}",
            r.body
        );
        assert_eq!(saml_configs_count(&app, &company_id), 0, "{garbage}");
    }
    // Nothing pasted and nothing saved yet.
    let r = save_sso(&owner, "", &[]).await;
    assert_eq!(r.status, 422);
}

#[actix_web::test]
async fn valid_metadata_turns_saml_on_and_a_replacement_without_a_certificate_is_refused() {
    let app = TestApp::spawn().await;
    let idp = Idp::start().await;
    let tenant = Tenant::new("settings", "idp");
    let (owner, company_id, sp) = company_without_saml(&app).await;

    // Valid metadata: saved; the page says SAML is on and still shows the endpoints.
    let metadata = idp.metadata(&tenant, true).await;
    let r = save_sso(&owner, &metadata, &[]).await;
    r.assert_redirect("/settings/sso");
    let r = owner.get("/settings/sso").await;
    assert_eq!(r.status, 200);
    let html = &r.body;
    assert!(html.contains("SAML is <strong>on</strong>"), "{html}");
    assert!(html.contains(&tenant.entity_id));
    assert!(html.contains(&tenant.sso_url));
    assert_shows_endpoints(html, &sp);
    assert_eq!(saml_configs_count(&app, &company_id), 1);
    let changes = company_event_details(&app, &company_id, "sso.config_changed");
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(changes[0].contains(&tenant.entity_id), "{changes:?}");

    // Replacing it with metadata without a certificate is refused; the saved IdP stays.
    let no_cert = idp.metadata(&tenant, false).await;
    let r = save_sso(&owner, &no_cert, &[]).await;
    assert_eq!(r.status, 422);
    let html = owner.get("/settings/sso").await.body;
    assert!(html.contains("SAML is <strong>on</strong>"));
    let kept: String = saml_configs::table
        .filter(saml_configs::company_id.eq(&company_id))
        .select(saml_configs::metadata_xml)
        .first(&mut *conn(&app))
        .expect("config");
    assert!(kept.contains("X509Certificate"), "the saved metadata stays");
}

#[actix_web::test]
async fn the_sp_metadata_is_public_and_names_this_companys_acs() {
    let app = TestApp::spawn().await;
    let (_, _, sp) = company_without_saml(&app).await;
    let anonymous = app.anonymous();
    let r = anonymous
        .get(sp.metadata_url.trim_start_matches(&app.address))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.content_type().contains("xml"), "{}", r.content_type());
    let xml = &r.body;
    assert!(xml.contains("EntityDescriptor"), "{xml}");
    assert!(xml.contains(&format!("\"{}\"", sp.acs_url)), "ACS in {xml}");
    assert!(
        xml.contains(&format!("entityID=\"{}\"", sp.entity_id)),
        "entity id in {xml}"
    );
    let r = anonymous.get("/sso/saml/no-such-company/metadata").await;
    assert_eq!(r.status, 404);
}

#[actix_web::test]
async fn members_may_not_see_or_change_single_sign_on() {
    let app = TestApp::spawn().await;
    let idp = Idp::start().await;
    let tenant = Tenant::new("settings", "idp");
    let (owner, company_id, _) = company_without_saml(&app).await;
    let metadata = idp.metadata(&tenant, true).await;
    save_sso(&owner, &metadata, &[])
        .await
        .assert_redirect("/settings/sso");
    let no_cert = idp.metadata(&tenant, false).await;

    let member = email("member");
    add_user(&app, &company_id, "Mo Member", &member, Role::Member);
    let mc = app.browser();
    let r = mc.login(&member, PASSWORD).await;
    assert_eq!(r.status, 303);
    let status = mc.get("/settings/sso").await.status;
    assert_eq!(status, 403, "members get 403 on /settings/sso");
    let r = save_sso(&mc, &no_cert, &["enforce_sso"]).await;
    assert_eq!(r.status, 403);
    let r = mc.post_form("/settings/sso/remove", &[]).await;
    assert_eq!(r.status, 403);
    assert_eq!(saml_configs_count(&app, &company_id), 1);
    assert!(!company(&app, &company_id).sso_enforced);
}
