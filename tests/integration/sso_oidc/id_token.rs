//! What the app checks in the ID token: the nonce it sent, the issuer it was configured with
//! (also when the discovery document names another), and a verified email.

use diesel::prelude::*;
use meetergo_console::db::schema::sso_requests;

use crate::helpers::db::{conn, events_of_kind, user_by_email};
use crate::helpers::{RequestHelper, TestApp};

use super::flow::{at_provider, callback, param, sign_in_as, start, without_param};
use super::{
    assert_refusal, before, details, footprint, pending_oidc_requests, ANOTHER_ISSUER,
    NOT_VERIFIED, OTHER_ISSUER, UNCONFIRMED_EMAIL,
};

#[actix_web::test]
async fn an_id_token_with_another_nonce_is_refused() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let browser = app.browser();
    let authorize = start(&provider, &browser, "").await;
    // The pending request now expects another nonce than the one sent to the provider.
    let n = diesel::update(
        sso_requests::table
            .filter(sso_requests::kind.eq("oidc"))
            .filter(sso_requests::used_at.is_null()),
    )
    .set(sso_requests::nonce.eq(Some("b".repeat(48))))
    .execute(&mut *conn(&app))
    .expect("change the nonce");
    assert_eq!(n, 1);
    let back = at_provider(&app, &provider, &authorize, "nina").await;
    let was = before(&app);
    let r = callback(&browser, &back).await;
    assert_refusal(&app, &browser, was, &r, NOT_VERIFIED, "nonce").await;
    let failed = details(&events_of_kind(&app, "sign_in.failed"));
    assert!(
        failed.iter().any(|d| d.contains("ID token rejected")),
        "{failed:?}"
    );
    assert!(user_by_email(&app, "nina@example.com").is_none());
}

#[actix_web::test]
async fn an_id_token_from_another_issuer_is_refused() {
    // The app is configured with the provider's listening URL as the issuer and has read its
    // discovery document; the provider that answers then claims another issuer (same port,
    // same endpoints), so the ID token's `iss` is not the configured issuer.
    let (app, mut provider) = TestApp::spawn_with_oidc(&[]).await;
    let configured = provider.issuer.clone();
    let (browser, first) = (app.browser(), app.browser());
    let authorize = start(&provider, &browser, "").await;
    let authorize_first = start(&provider, &first, "").await;
    provider.restart(&["--issuer-claim", OTHER_ISSUER]);
    assert_eq!(provider.issuer, configured, "same listening URL");

    // Its authorization response names the other issuer (RFC 9207 `iss`): refused on that
    // alone, before the code is redeemed.
    let back = at_provider(&app, &provider, &authorize_first, "ivan").await;
    assert_eq!(param(&back, "iss").as_deref(), Some(OTHER_ISSUER));
    let was = before(&app);
    let r = callback(&first, &back).await;
    let reason =
        format!("authorization response from issuer {OTHER_ISSUER}, expected {configured}");
    assert_refusal(&app, &first, was, &r, ANOTHER_ISSUER, &reason).await;

    // Without that parameter (not every provider sends it), the ID token's `iss` is refused.
    let back = at_provider(&app, &provider, &authorize, "ivan").await;
    let back = without_param(&back, "iss");
    let was = before(&app);
    let r = callback(&browser, &back).await;
    assert_refusal(&app, &browser, was, &r, NOT_VERIFIED, "ID token rejected").await;
    let failed = details(&events_of_kind(&app, "sign_in.failed"));
    assert!(
        failed
            .iter()
            .any(|d| d.contains(OTHER_ISSUER) && d.contains(&configured)),
        "the reason names both issuers: {failed:?}"
    );
    assert!(user_by_email(&app, "ivan@example.com").is_none());
}

#[actix_web::test]
async fn an_unverified_email_is_refused() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let browser = app.browser();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &browser, "unverified-bob").await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        UNCONFIRMED_EMAIL,
        UNCONFIRMED_EMAIL,
    )
    .await;
    assert!(user_by_email(&app, "unverified-bob@example.com").is_none());
}

#[actix_web::test]
async fn a_provider_whose_discovery_document_names_another_issuer_is_not_used() {
    // The start does not send anyone there.
    let (app, _provider) = TestApp::spawn_with_oidc(&["--issuer-claim", OTHER_ISSUER]).await;
    let browser = app.browser();
    let was = footprint(&app);
    let r = browser.get("/auth/oidc/okta/start").await;
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(r.body.contains("could not be used right now"), "{}", r.body);
    assert!(r.location().is_empty());
    assert!(
        details(&events_of_kind(&app, "sign_in.failed"))
            .iter()
            .any(|d| d.starts_with("oidc:okta") && d.contains("discovery")),
        "the refusal is audited with its reason"
    );
    assert_eq!(pending_oidc_requests(&app), 0);
    assert!(!browser.is_signed_in().await);
    assert_eq!(footprint(&app), was);
}
