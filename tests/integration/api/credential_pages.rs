//! The credential pages (/integrations/api, /admin/api-keys) by role, and across companies.

use serde_json::json;

use crate::helpers::db::pat_id;
use crate::helpers::fixtures::key_id_of;
use crate::helpers::{RequestHelper, TestApp};

use super::World;

#[actix_web::test]
async fn who_opens_the_credential_pages() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let anonymous = app.browser();
    for page in ["/integrations/api", "/admin/api-keys"] {
        anonymous.get(page).await.assert_redirect("/login");
    }
    for (who, view, integrations, api_keys) in [
        ("member", &w.member_browser, 200, 403),
        ("admin", &w.admin_browser, 200, 200),
        ("owner", &w.owner_browser, 200, 200),
    ] {
        let s = view.get("/integrations/api").await.status;
        assert_eq!(s, integrations, "{who} /integrations/api");
        let s = view.get("/admin/api-keys").await.status;
        assert_eq!(s, api_keys, "{who} /admin/api-keys");
    }
    let admins_key = w.admin_browser.create_api_key("Admin's", "7").await;
    let r = app.token(&admins_key).get("/v4/user/me").await;
    assert_eq!(
        r.json()["id"],
        json!(w.owner),
        "an admin's key acts for the company"
    );
}

#[actix_web::test]
async fn a_member_cannot_create_or_end_api_keys_nor_someone_elses_token() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let member = &w.member_browser;
    let key_id = key_id_of(&w.key);
    let owner_token = pat_id(&app, &w.owner, "owner cli");
    let r = member
        .post_form("/admin/api-keys", &[("name", "Mine"), ("expiry", "30")])
        .await;
    assert_eq!(r.status, 403, "member creates a key");
    let r = member
        .post_form(&format!("/admin/api-keys/{key_id}/revoke"), &[])
        .await;
    assert_eq!(r.status, 403, "member revokes a key");
    let r = member
        .post_form(
            &format!("/integrations/api/tokens/{owner_token}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status, 404, "member revokes the owner's token");
    assert_still_working(&app, &w).await;
}

#[actix_web::test]
async fn an_admin_of_another_company_reaches_nothing_of_this_one() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let b = &w.b_browser;
    let key_id = key_id_of(&w.key);
    let owner_token = pat_id(&app, &w.owner, "owner cli");
    let r = b.get("/admin/api-keys").await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains(&key_id), "B does not see A's keys");
    for action in ["revoke", "deactivate"] {
        let r = b
            .post_form(&format!("/admin/api-keys/{key_id}/{action}"), &[])
            .await;
        assert_eq!(r.status, 404, "B {action}s A's key");
    }
    let r = b
        .post_form(
            &format!("/integrations/api/tokens/{owner_token}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status, 404, "B revokes A's token");
    assert_still_working(&app, &w).await;
}

/// Company A's API key and the owner's token still work, and the key is listed as active.
async fn assert_still_working(app: &TestApp, w: &World) {
    let r = app
        .token(&w.key)
        .acting_as(&w.owner)
        .get("/v4/user/me")
        .await;
    assert_eq!(r.status, 200, "A's key still works: {}", r.body);
    let r = app.token(&w.owner_pat).get("/v4/user/me").await;
    assert_eq!(r.status, 200, "A's token still works: {}", r.body);
    let keys_page = w.owner_browser.get("/admin/api-keys").await.body;
    let key_id = key_id_of(&w.key);
    assert!(keys_page.contains(&format!("data-key-id=\"{key_id}\" data-status=\"active\"")));
}

#[actix_web::test]
async fn a_flash_message_keeps_every_character_of_a_name() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let name = "CRM; sync, \"prod\" = ok";
    w.owner_browser.create_pat(name, "30").await;
    let id = pat_id(&app, &w.owner, name);
    w.owner_browser
        .post_form(&format!("/integrations/api/tokens/{id}/revoke"), &[])
        .await
        .assert_redirect("/integrations/api");
    let page = w.owner_browser.get("/integrations/api").await.body;
    assert!(
        page.contains("CRM; sync, &quot;prod&quot; = ok\u{201d} revoked")
            || page.contains("CRM; sync, &#34;prod&#34; = ok\u{201d} revoked"),
        "the flash names the token whole: {page}"
    );
}
