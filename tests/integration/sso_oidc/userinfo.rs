//! A provider that sends the person's claims only from userinfo (like Okta with an access
//! token): the app asks userinfo, and refuses an answer about another subject.

use crate::helpers::db::user_by_email;
use crate::helpers::TestApp;

use super::flow::sign_in_as;
use super::{assert_refusal, before, identity, NOT_VERIFIED, UNCONFIRMED_EMAIL};

#[actix_web::test]
async fn a_provider_that_sends_claims_only_from_userinfo_signs_people_in() {
    let (app, provider) = TestApp::spawn_with_oidc(&["--claims-from-userinfo"]).await;

    // The ID token names only `sub`: email, its verification and the name come from userinfo.
    let browser = app.browser();
    // (A login with `@` is its own email, and the name is the login as typed: not what the
    // console would make up from the email.)
    let r = sign_in_as(&app, &provider, &browser, "Ursula@Example.org").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    assert!(browser.is_signed_in().await);
    let ursula = user_by_email(&app, "ursula@example.org").expect("ursula was created");
    assert_eq!(ursula.name, "Ursula@Example.org", "the name from userinfo");
    let linked = identity(&app, &provider.issuer, "sub-Ursula@Example.org").expect("identity row");
    assert_eq!(linked.user_id, ursula.id);
    assert_eq!(linked.email, "ursula@example.org");

    // Userinfo saying the email is not verified is still a refusal.
    let browser = app.browser();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &browser, "unverified-ulla").await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        UNCONFIRMED_EMAIL,
        UNCONFIRMED_EMAIL,
    )
    .await;
    assert!(user_by_email(&app, "unverified-ulla@example.com").is_none());
}

#[actix_web::test]
async fn a_userinfo_answer_about_another_subject_is_refused() {
    let (app, provider) =
        TestApp::spawn_with_oidc(&["--claims-from-userinfo", "--userinfo-sub", "sub-mallory"])
            .await;
    let browser = app.browser();
    let was = before(&app);
    let r = sign_in_as(&app, &provider, &browser, "victor").await;
    assert_refusal(
        &app,
        &browser,
        was,
        &r,
        NOT_VERIFIED,
        "userinfo rejected: its sub is not the ID token's sub",
    )
    .await;
    assert!(user_by_email(&app, "victor@example.com").is_none());

    // When the ID token carries the claims, userinfo is not asked (and its answer cannot
    // matter): the same faulty provider with claims in the ID token signs people in.
    let (app, provider) = TestApp::spawn_with_oidc(&["--userinfo-sub", "sub-mallory"]).await;
    let browser = app.browser();
    let r = sign_in_as(&app, &provider, &browser, "victor").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/dashboard");
    assert!(identity(&app, &provider.issuer, "sub-victor").is_some());
}
