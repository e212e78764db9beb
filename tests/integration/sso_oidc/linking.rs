//! Linking an existing account to the provider: never silently by email, only from the
//! signed-in profile; unlinking, except the only way to sign in.

use meetergo_console::db::models::User;

use crate::helpers::db::{events_of_kind, user_by_email};
use crate::helpers::html::testid_text;
use crate::helpers::{email, Browser, OidcProvider, RequestHelper, TestApp, PASSWORD};

use super::flow::{round_trip, sign_in_as};
use super::{assert_refusal, before, footprint, identities_of, identity};

/// The id of the identity row's unlink form on the profile page.
fn unlink_path(profile: &str) -> Option<String> {
    let marker = "action=\"/profile/identities/";
    let start = profile.find(marker)? + "action=\"".len();
    let rest = profile.get(start..)?;
    Some(rest.get(..rest.find('"')?)?.to_owned())
}

/// Paula, who signed up with a password (and signed out again).
async fn paula(app: &TestApp) -> (String, User) {
    let who = email("paula");
    let browser = app.browser();
    let r = browser.signup("Paula Co", "Paula", &who).await;
    assert_eq!(r.status, 303);
    let paula = user_by_email(app, &who).expect("paula");
    let r = browser.logout().await;
    assert_eq!(r.status, 303);
    (who, paula)
}

/// What the refusal says when the provider vouches for an email that has an account.
fn already_exists(who: &str) -> String {
    format!(
        "An account with {who} already exists. Sign in with your usual method, then link this provider from your profile."
    )
}

/// Paula signs in with her password and links the provider from her profile.
async fn link_from_profile(app: &TestApp, provider: &OidcProvider, who: &str) -> Browser {
    let browser = app.browser();
    let r = browser.login(who, PASSWORD).await;
    assert_eq!(r.status, 303);
    let r = round_trip(app, provider, &browser, "?purpose=link", who).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/profile");
    browser
}

#[actix_web::test]
async fn an_account_with_the_same_email_is_not_linked_silently() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let (who, paula) = paula(&app).await;
    // The provider vouches for the same (verified) email: not linked silently.
    let stranger = app.browser();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &stranger, &who).await;
    let message = already_exists(&who);
    assert_refusal(&app, &stranger, was, &r, &message, "already exists").await;
    assert!(identities_of(&app, paula.id.as_str()).is_empty());

    // Linking needs a signed-in user.
    let r = stranger.get("/auth/oidc/okta/start?purpose=link").await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"), "{}", r.location());
}

#[actix_web::test]
async fn linked_from_the_profile_the_provider_signs_into_the_same_account() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let (who, paula) = paula(&app).await;
    // Signed in with the password, from the profile.
    let browser = app.browser();
    let r = browser.login(&who, PASSWORD).await;
    assert_eq!(r.status, 303);
    let profile = browser.get("/profile").await.body;
    assert!(
        profile.contains("data-testid=\"identities-empty\""),
        "{profile}"
    );
    assert!(
        profile.contains("href=\"/auth/oidc/okta/start?purpose=link\" data-testid=\"link-okta\""),
        "{profile}"
    );
    let r = round_trip(&app, &provider, &browser, "?purpose=link", &who).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/profile");
    let profile = browser.get("/profile").await.body;
    assert_eq!(
        testid_text(&profile, "flash").as_deref(),
        Some("okta is linked. You can sign in with it now.")
    );
    assert!(
        profile.contains("data-testid=\"identity-row\" data-provider=\"okta\""),
        "{profile}"
    );
    assert!(!profile.contains("data-testid=\"link-okta\""), "{profile}");
    let linked = identities_of(&app, paula.id.as_str());
    assert_eq!(linked.len(), 1);
    let subject = format!("sub-{who}");
    assert_eq!(
        identity(&app, &provider.issuer, &subject).map(|i| i.user_id),
        Some(paula.id.clone())
    );
    assert_eq!(events_of_kind(&app, "identity.linked").len(), 1);
    let r = browser.logout().await;
    assert_eq!(r.status, 303);

    // Now the provider signs into that same account.
    let users_before = footprint(&app).users;
    let elsewhere = app.browser();
    let r = sign_in_as(&app, &provider, &elsewhere, &who).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    let dashboard = elsewhere.get("/dashboard").await.body;
    assert_eq!(
        testid_text(&dashboard, "dashboard-title").as_deref(),
        Some("Welcome, Paula")
    );
    assert_eq!(footprint(&app).users, users_before);
    let last = events_of_kind(&app, "sign_in.succeeded");
    let last = last.last().expect("a sign-in event");
    assert_eq!(last.actor_id.as_deref(), Some(paula.id.as_str()));
    assert_eq!(last.detail.as_deref(), Some("via oidc:okta"));
}

#[actix_web::test]
async fn unlinking_is_allowed_with_a_password_and_the_provider_then_stops_signing_in() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    let (who, paula) = paula(&app).await;
    let elsewhere = link_from_profile(&app, &provider, &who).await;
    let message = already_exists(&who);

    // Unlink: allowed, the account has a password.
    let profile = elsewhere.get("/profile").await.body;
    let path = unlink_path(&profile).expect("an unlink form");
    let r = elsewhere.post_form(&path, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/profile");
    let profile = elsewhere.get("/profile").await.body;
    assert_eq!(
        testid_text(&profile, "flash").as_deref(),
        Some("okta is unlinked.")
    );
    assert!(
        profile.contains("data-testid=\"identities-empty\""),
        "{profile}"
    );
    assert!(identities_of(&app, paula.id.as_str()).is_empty());
    assert_eq!(events_of_kind(&app, "identity.unlinked").len(), 1);
    // And the provider no longer signs in to it.
    let again = app.browser();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &again, &who).await;
    assert_refusal(&app, &again, was, &r, &message, "already exists").await;
}

#[actix_web::test]
async fn the_only_way_to_sign_in_cannot_be_unlinked() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    // An account made through the provider has no password: its only identity stays.
    let solo = app.browser();
    let r = sign_in_as(&app, &provider, &solo, "solo").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let solo_user = user_by_email(&app, "solo@example.com").expect("solo");
    let profile = solo.get("/profile").await.body;
    assert!(
        profile.contains("Your account has no password"),
        "{profile}"
    );
    let path = unlink_path(&profile).expect("an unlink form");
    let r = solo.post_form(&path, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/profile");
    let profile = solo.get("/profile").await.body;
    assert_eq!(
        testid_text(&profile, "flash").as_deref(),
        Some("This is your only way to sign in. Link another provider first.")
    );
    assert!(
        profile.contains("data-testid=\"identity-row\" data-provider=\"okta\""),
        "{profile}"
    );
    assert_eq!(identities_of(&app, solo_user.id.as_str()).len(), 1);
    assert!(
        events_of_kind(&app, "identity.unlinked").is_empty(),
        "the refused unlink is not recorded"
    );
}

#[actix_web::test]
async fn an_unconfirmed_account_links_no_provider_for_another_address() {
    let (app, provider) = TestApp::spawn_with_oidc(&[]).await;
    // Paula signed up with a password and never confirmed her address: someone may have
    // registered it who does not own it, and must not keep a way in once its owner recovers it.
    let (who, paula) = paula(&app).await;
    assert!(paula.email_verified_at.is_none());
    let browser = app.browser();
    browser.login(&who, PASSWORD).await.assert_status(303);
    let r = round_trip(&app, &provider, &browser, "?purpose=link", "mallory").await;
    assert_eq!((r.status, r.location()), (303, "/profile"), "{}", r.body);
    let profile = browser.get("/profile").await.body;
    assert_eq!(
        testid_text(&profile, "flash").as_deref(),
        Some("Confirm your email address before you link a sign-in provider.")
    );
    assert!(identities_of(&app, paula.id.as_str()).is_empty());
    assert!(events_of_kind(&app, "identity.linked").is_empty());
}
