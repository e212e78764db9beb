//! A session ended or a credential revoked through one instance is refused by the other at
//! its next request. (A credential cache is coming: each test first uses the credential on
//! both instances, so a cached one would be there to go stale.)

use crate::helpers::db::{pat_id, set_password};
use crate::helpers::fixtures::create_user;
use crate::helpers::fleet::Fleet;
use crate::helpers::{RequestHelper, TestApp};

use super::owner;

const ME: &str = "/v4/user/me";

/// `GET /v4/user/me` with `secret`, straight to `app`: its status.
async fn me_on(app: &TestApp, secret: &str) -> u16 {
    app.token(secret).get(ME).await.status
}

#[actix_web::test]
async fn signing_out_through_one_instance_ends_the_session_on_the_other() {
    let fleet = Fleet::start(None).await;
    let [a, b] = fleet.instances() else {
        panic!("two instances")
    };
    let me = owner(&fleet, "Fleet Sessions Co").await;
    let (laptop, phone) = (fleet.browser_from(5), fleet.browser_from(6));
    laptop.sign_in(&me.email).await;
    phone.sign_in(&me.email).await;
    for browser in [&laptop, &phone] {
        for app in [a, b] {
            assert!(browser.at(&app.address).is_signed_in().await);
        }
    }

    // "Sign out all other sessions" on the first instance...
    laptop
        .at(&a.address)
        .post_form("/profile/sessions/sign-out-others", &[])
        .await
        .assert_redirect("/profile/sessions");
    // ...ends the phone's session on the second at its next request, and everywhere.
    assert!(!phone.at(&b.address).is_signed_in().await);
    assert!(!phone.at(&a.address).is_signed_in().await);
    assert!(!phone.is_signed_in().await);
    assert!(laptop.at(&b.address).is_signed_in().await, "this one stays");

    // Signing out on the second instance ends the session on the first.
    laptop.at(&b.address).logout().await.assert_status(303);
    assert!(!laptop.at(&a.address).is_signed_in().await);
    assert!(!laptop.is_signed_in().await);
}

#[actix_web::test]
async fn offboarding_through_one_instance_cuts_session_and_pat_on_both_at_once() {
    let fleet = Fleet::start(None).await;
    let [a, b] = fleet.instances() else {
        panic!("two instances")
    };
    let boss = owner(&fleet, "Fleet Offboarding Co").await;
    let key = boss.browser.create_api_key("Team key", "30").await;
    let (leaver_id, leaver_email) = create_user(a, &key, "Lea", "member").await;
    set_password(a, &leaver_id);
    let leaver = fleet.browser_from(7);
    leaver.sign_in(&leaver_email).await;
    let pat = leaver.create_pat("Fleet token", "30").await;

    // In use on both instances, directly and through nginx.
    for app in [a, b] {
        assert_eq!(me_on(app, &pat).await, 200);
        assert!(leaver.at(&app.address).is_signed_in().await);
    }
    let through_nginx = &fleet.token_from(7, &pat);
    fleet
        .until_each_instance_answered(ME, 200, move || through_nginx.get(ME))
        .await;

    let r = boss
        .browser
        .post_form(
            &format!("/settings/members/{leaver_id}/offboard"),
            &[("transfer_to", boss.id.as_str())],
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/settings/members"),
        "{}",
        r.body
    );

    // The next request on the other instance, then on this one: refused.
    assert_eq!(me_on(b, &pat).await, 401);
    assert!(!leaver.at(&b.address).is_signed_in().await);
    assert_eq!(me_on(a, &pat).await, 401);
    assert!(!leaver.at(&a.address).is_signed_in().await);
    fleet
        .until_each_instance_answered(ME, 401, move || through_nginx.get(ME))
        .await;
}

#[actix_web::test]
async fn a_pat_revoked_through_one_instance_fails_on_the_other_at_the_next_request() {
    let fleet = Fleet::start(None).await;
    let [a, b] = fleet.instances() else {
        panic!("two instances")
    };
    let me = owner(&fleet, "Fleet Revocation Co").await;
    let pat = me.browser.create_pat("Revoked soon", "30").await;
    let through_nginx = &fleet.token_from(8, &pat);
    fleet
        .until_each_instance_answered(ME, 200, move || through_nginx.get(ME))
        .await;
    assert_eq!(me_on(b, &pat).await, 200);

    let id = pat_id(a, &me.id, "Revoked soon");
    me.browser
        .post_form(&format!("/integrations/api/tokens/{id}/revoke"), &[])
        .await
        .assert_status(303);

    assert_eq!(
        me_on(b, &pat).await,
        401,
        "the other instance, next request"
    );
    assert_eq!(me_on(a, &pat).await, 401);
    fleet
        .until_each_instance_answered(ME, 401, move || through_nginx.get(ME))
        .await;
}
