//! A change made on this instance refuses the cached credential on the very next request.

use serde_json::json;

use super::{cached, counter, me, metered_app};
use crate::helpers::db::pat_id;
use crate::helpers::fixtures::{create_user, key_id_of, sign_up, signed_in_user};
use crate::helpers::{email, RequestHelper, TestApp};
use crate::lifecycle_rotation::{key_regenerate_path, regenerated, token_regenerate_path};

async fn local_invalidations(app: &TestApp) -> f64 {
    counter(
        app,
        "console_auth_cache_invalidations_total",
        "source",
        "local",
    )
    .await
}

#[actix_web::test]
async fn a_cached_pat_revoked_on_the_page_or_reported_leaked_is_refused_at_once() {
    let app = metered_app().await;
    let owner = sign_up(&app, "Cache Co", "Cora Cache", &email("cora")).await;
    let pat = owner.browser.create_pat("CI", "30").await;
    let leaked = owner.browser.create_pat("leaked", "30").await;
    let kept = owner.browser.create_pat("kept", "30").await;
    let id = pat_id(&app, &owner.id, "CI");
    for secret in [&pat, &leaked, &kept] {
        cached(&app, secret).await;
    }

    let before = local_invalidations(&app).await;
    let r = owner
        .browser
        .post_form(&format!("/integrations/api/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(local_invalidations(&app).await > before);
    let r = app.token(&pat).get("/v4/user/me").await;
    assert_eq!((r.status, r.code()), (401, "invalid_credential"));

    // The unauthenticated leak report (`POST /v4/credentials/revoke`) too.
    cached(&app, &leaked).await;
    let r = app
        .anonymous()
        .post_json(
            "/v4/credentials/revoke",
            &json!({ "credentials": [leaked] }),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(me(&app, &leaked).await, 401, "reported means at once");
    assert_eq!(me(&app, &kept).await, 200, "the others keep working");
}

#[actix_web::test]
async fn a_cached_api_key_deactivated_revoked_or_regenerated_is_refused_at_once() {
    let app = metered_app().await;
    let owner = sign_up(&app, "Keys Co", "Kai Keys", &email("kai")).await;
    let paused = owner.browser.create_api_key("Paused", "30").await;
    let gone = owner.browser.create_api_key("Gone", "30").await;
    let rotated = owner.browser.create_api_key("Rotated", "30").await;
    // As the owner (no header) and as a named user: two entries for one key.
    let as_owner = app.token(&paused).acting_as(&owner.id);
    for key in [&paused, &gone, &rotated] {
        cached(&app, key).await;
    }
    assert_eq!(as_owner.get("/v4/user/me").await.status, 200);
    assert_eq!(as_owner.get("/v4/user/me").await.status, 200);

    let r = owner
        .browser
        .post_form(
            &format!("/admin/api-keys/{}/deactivate", key_id_of(&paused)),
            &[],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(me(&app, &paused).await, 401, "deactivated: at once");
    assert_eq!(as_owner.get("/v4/user/me").await.status, 401);

    let r = owner
        .browser
        .post_form(&format!("/admin/api-keys/{}/revoke", key_id_of(&gone)), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(me(&app, &gone).await, 401, "revoked: at once");

    // Regenerated with a day of grace: the old key works (and is cached again) until the
    // successor's first use ends the grace, which is no audited write.
    let successor = regenerated(
        &owner.browser,
        &key_regenerate_path(&key_id_of(&rotated)),
        "24h",
    )
    .await;
    cached(&app, &rotated).await;
    assert_eq!(me(&app, &successor).await, 200);
    assert_eq!(me(&app, &rotated).await, 401, "cut over: at once");
}

#[actix_web::test]
async fn a_cached_pat_stops_when_its_regenerated_successor_is_first_used() {
    let app = metered_app().await;
    let owner = sign_up(&app, "Rotate Co", "Rita Rotate", &email("rita")).await;
    let old = owner.browser.create_pat("deploy", "30").await;
    let id = pat_id(&app, &owner.id, "deploy");
    let successor = regenerated(&owner.browser, &token_regenerate_path(&id), "24h").await;
    cached(&app, &old).await;
    assert_eq!(me(&app, &successor).await, 200, "its first use");
    assert_eq!(
        me(&app, &old).await,
        401,
        "the successor's first use cut it over"
    );
    cached(&app, &successor).await;
}

#[actix_web::test]
async fn offboarding_a_member_refuses_their_cached_pat_at_once() {
    let app = metered_app().await;
    let owner = sign_up(&app, "Leave Co", "Lars Leave", &email("lars")).await;
    let key = owner.browser.create_api_key("Setup", "30").await;
    let leaver = signed_in_user(&app, &key, "Lea", "member").await;
    let pat = leaver.browser.create_pat("laptop", "30").await;
    let as_leaver = app.token(&key).acting_as(&leaver.id);
    cached(&app, &pat).await;
    assert_eq!(as_leaver.get("/v4/user/me").await.status, 200);
    assert_eq!(as_leaver.get("/v4/user/me").await.status, 200);

    let r = owner
        .browser
        .post_form(
            &format!("/settings/members/{}/offboard", leaver.id),
            &[("transfer_to", owner.id.as_str())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        me(&app, &pat).await,
        401,
        "the leaver's token stops at once"
    );
    assert_eq!(
        as_leaver.get("/v4/user/me").await.status,
        403,
        "the key no longer acts as the leaver"
    );
}

#[actix_web::test]
async fn a_role_change_shows_at_once_through_a_cached_pat() {
    let app = metered_app().await;
    let owner = sign_up(&app, "Role Co", "Rolf Role", &email("rolf")).await;
    let key = owner.browser.create_api_key("Setup", "30").await;
    let member = signed_in_user(&app, &key, "Mo", "member").await;
    let pat = member.browser.create_pat("cli", "30").await;
    cached(&app, &pat).await;
    let r = app.token(&pat).get("/v4/user/me").await;
    assert_eq!(r.json()["role"], "member");

    let r = owner
        .browser
        .post_form(
            &format!("/settings/members/{}/role", member.id),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = app.token(&pat).get("/v4/user/me").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["role"], "admin", "the new role at once");
}

#[actix_web::test]
async fn a_user_deleted_through_the_api_loses_their_cached_credentials_at_once() {
    let app = metered_app().await;
    let owner = sign_up(&app, "Delete Co", "Dora Delete", &email("dora")).await;
    let key = owner.browser.create_api_key("Setup", "30").await;
    let leaver = signed_in_user(&app, &key, "Leo", "member").await;
    let pat = leaver.browser.create_pat("cli", "30").await;
    let (other, _) = create_user(&app, &key, "Otto", "member").await;
    let as_leaver = app.token(&key).acting_as(&leaver.id);
    let as_other = app.token(&key).acting_as(&other);
    cached(&app, &pat).await;
    for caller in [&as_leaver, &as_other] {
        assert_eq!(caller.get("/v4/user/me").await.status, 200);
        assert_eq!(caller.get("/v4/user/me").await.status, 200);
    }

    let r = app
        .token(&key)
        .acting_as(&owner.id)
        .delete(&format!("/v4/user/{}", leaver.id))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(me(&app, &pat).await, 401, "the deleted user's token");
    assert_eq!(as_leaver.get("/v4/user/me").await.status, 403);
    assert_eq!(as_other.get("/v4/user/me").await.status, 200, "others work");
}
