//! The round trip: the sign-in page offers the provider, the start sends the browser there with
//! the code flow and PKCE, and a newcomer comes back signed up, then signs in again as the
//! same user.

use reqwest::Url;

use crate::helpers::db::{company, events_of_kind, user_by_email};
use crate::helpers::html::testid_text;
use crate::helpers::{RequestHelper, TestApp, OIDC_CLIENT_ID};

use super::flow::{at_provider, callback, param, sign_in_as, start};
use super::{details, footprint, identities_of, identity, pending_oidc_requests};

#[actix_web::test]
async fn the_start_sends_the_browser_to_the_provider_with_pkce_state_and_nonce() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let browser = app.browser();

    // The sign-in page offers the provider.
    let r = browser.get("/login").await;
    assert_eq!(r.status, 200);
    let login_page = r.body;
    assert!(
        login_page.contains("href=\"/auth/oidc/okta/start\" data-testid=\"oidc-okta\""),
        "{login_page}"
    );
    assert_eq!(
        testid_text(&login_page, "oidc-okta").as_deref(),
        Some("Continue with Okta")
    );

    // Start: a redirect to the provider, code flow with PKCE S256, state, nonce and the exact
    // redirect URI; the browser gets its binding cookie.
    let r = browser.get("/auth/oidc/okta/start").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let binding = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("sso_binding="))
        .unwrap_or_else(|| panic!("the sso_binding cookie is set: {:?}", r.set_cookies()));
    assert!(binding.contains("HttpOnly"), "{binding}");
    let authorize = Url::parse(r.location()).expect("authorization URL");
    assert_eq!(
        authorize.as_str().split('?').next(),
        Some(format!("{}/auth", provider.issuer).as_str())
    );
    let redirect_uri = format!("{}/auth/oidc/okta/callback", app.address);
    assert_eq!(
        param(&authorize, "redirect_uri"),
        Some(redirect_uri.clone())
    );
    assert_eq!(param(&authorize, "response_type").as_deref(), Some("code"));
    assert_eq!(
        param(&authorize, "client_id").as_deref(),
        Some(OIDC_CLIENT_ID)
    );
    assert_eq!(
        param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let challenge = param(&authorize, "code_challenge").expect("code_challenge");
    assert_eq!(challenge.len(), 43, "a base64url SHA-256: {challenge}");
    let state = param(&authorize, "state").expect("state");
    let nonce = param(&authorize, "nonce").expect("nonce");
    assert!(state.len() >= 32 && nonce.len() >= 32 && state != nonce);
    let scope = param(&authorize, "scope").expect("scope");
    for s in ["openid", "email", "profile"] {
        assert!(scope.split(' ').any(|x| x == s), "scope {s}: {scope}");
    }
    assert_eq!(pending_oidc_requests(&app), 1);
}

#[actix_web::test]
async fn a_newcomer_signs_up_through_the_provider_and_signs_in_again_as_the_same_user() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let browser = app.browser();
    let before = footprint(&app);
    let authorize = start(&provider, &browser, "").await;
    let state = param(&authorize, "state").expect("state");

    // At the provider, then back with code, state and iss.
    let back = at_provider(&app, &provider, &authorize, "alice").await;
    assert_eq!(back.path(), "/auth/oidc/okta/callback");
    assert_eq!(param(&back, "state"), Some(state));
    assert!(param(&back, "code").is_some());
    assert_eq!(param(&back, "iss"), Some(provider.issuer.clone()));
    let r = callback(&browser, &back).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    let r = browser.get("/dashboard").await;
    assert_eq!(r.status, 200);
    let dashboard = r.body;
    assert_eq!(
        testid_text(&dashboard, "dashboard-title").as_deref(),
        Some("Welcome, alice")
    );
    assert_eq!(pending_oidc_requests(&app), 0, "the state is used up");
    // The provider's `email_verified` confirms the address: no banner asking for it.
    assert!(!dashboard.contains("verify-email-banner"), "{dashboard}");

    // A new workspace (nobody claims example.com), with alice as its owner, no password, and
    // the identity (issuer, subject) linked.
    let alice = user_by_email(&app, "alice@example.com").expect("alice was created");
    assert_eq!(alice.role.as_str(), "owner");
    assert_eq!(alice.name, "alice");
    assert!(alice.password_hash.is_none());
    assert!(
        alice.email_verified_at.is_some(),
        "email_verified counts as confirmed"
    );
    assert_eq!(footprint(&app).users, before.users + 1);
    assert_eq!(footprint(&app).companies, before.companies + 1);
    assert_eq!(
        company(&app, alice.company_id.as_str()).name,
        "alice's workspace"
    );
    let linked = identity(&app, &provider.issuer, "sub-alice").expect("identity row");
    assert_eq!(linked.user_id, alice.id);
    assert_eq!(linked.provider, "okta");
    assert_eq!(linked.email, "alice@example.com");
    assert_eq!(identities_of(&app, alice.id.as_str()).len(), 1);
    assert_eq!(
        details(&events_of_kind(&app, "sign_up")),
        vec!["via oidc:okta"]
    );
    let signed_in = events_of_kind(&app, "sign_in.succeeded");
    assert_eq!(signed_in.len(), 1);
    assert_eq!(
        signed_in.first().and_then(|e| e.actor_id.clone()),
        Some(alice.id.to_string())
    );

    // Signed out, then in again the same way (another browser): the same user.
    let r = browser.logout().await;
    assert_eq!(r.status, 303);
    assert!(!browser.is_signed_in().await);
    let again = app.browser();
    let r = sign_in_as(&app, &provider, &again, "alice").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    assert!(again.is_signed_in().await);
    let after = footprint(&app);
    assert_eq!(after.users, before.users + 1, "no second user");
    assert_eq!(after.companies, before.companies + 1, "no second company");
    assert_eq!(after.identities, 1);
    let signed_in = events_of_kind(&app, "sign_in.succeeded");
    assert_eq!(signed_in.len(), 2);
    assert!(signed_in
        .iter()
        .all(|e| e.actor_id.as_deref() == Some(alice.id.as_str())));
    assert!(identity(&app, &provider.issuer, "sub-alice")
        .expect("identity")
        .last_used_at
        .is_some());
    assert_eq!(events_of_kind(&app, "sign_up").len(), 1);
}
