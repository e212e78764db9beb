//! RFC 9207: an authorization response naming another issuer in `iss` is refused, not even a
//! trailing slash forgiven; the provider's own `iss`, or none, signs in.

use crate::helpers::db::user_by_email;
use crate::helpers::TestApp;

use super::flow::{at_provider, callback, param, start, with_param, without_param};
use super::{assert_refusal, before, ANOTHER_ISSUER, OTHER_ISSUER};

#[actix_web::test]
async fn an_authorization_response_naming_another_issuer_is_refused() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;

    // The answer's `iss` changed on the way: refused, audited with both issuers.
    let browser = app.browser();
    let authorize = start(&provider, &browser, "").await;
    let back = at_provider(&app, &provider, &authorize, "iris").await;
    assert_eq!(param(&back, "iss"), Some(provider.issuer.clone()));
    let tampered = with_param(&back, "iss", OTHER_ISSUER);
    let was = before(&app);
    let r = callback(&browser, &tampered).await;
    let reason = format!(
        "authorization response from issuer {OTHER_ISSUER}, expected {}",
        provider.issuer
    );
    assert_refusal(&app, &browser, was, &r, ANOTHER_ISSUER, &reason).await;
    // Not even a trailing slash is forgiven (RFC 9207: simple string comparison).
    let authorize = start(&provider, &browser, "").await;
    let back = at_provider(&app, &provider, &authorize, "iris").await;
    let slash = with_param(&back, "iss", &format!("{}/", provider.issuer));
    let was = before(&app);
    let r = callback(&browser, &slash).await;
    assert_refusal(&app, &browser, was, &r, ANOTHER_ISSUER, "expected").await;
    assert!(user_by_email(&app, "iris@example.com").is_none());

    // The provider's own `iss`: signed in.
    let authorize = start(&provider, &browser, "").await;
    let back = at_provider(&app, &provider, &authorize, "iris").await;
    assert_eq!(param(&back, "iss"), Some(provider.issuer.clone()));
    let r = callback(&browser, &back).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    assert!(browser.is_signed_in().await);
    assert!(user_by_email(&app, "iris@example.com").is_some());

    // No `iss` at all (a provider without RFC 9207): signed in as before.
    let other = app.browser();
    let authorize = start(&provider, &other, "").await;
    let back = at_provider(&app, &provider, &authorize, "iris").await;
    let r = callback(&other, &without_param(&back, "iss")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    assert!(other.is_signed_in().await);
}
