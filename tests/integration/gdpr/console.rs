//! The console's downloads: one's own data from the profile, and a member's from Settings →
//! Members (owners and admins, audited).

use diesel::prelude::*;
use meetergo_console::db::schema::{
    personal_access_tokens, platform_api_keys, two_factor_authenticators, users,
};
use serde_json::Value;

use crate::account::two_factor::enrol;
use crate::helpers::db::{conn, events_of_kind};
use crate::helpers::fixtures::{
    create_meeting_type, key_id_of, secret_part, sign_up, signed_in_user,
};
use crate::helpers::html::testid_text;
use crate::helpers::{email, RequestHelper, TestApp};

use super::{audit_kinds, document};

fn named<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .expect("a list")
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {list}"))
}

#[actix_web::test]
async fn download_my_data_holds_every_section_and_no_secret() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Export Co", "Erika Export", &email("export")).await;
    let pat = owner.browser.create_pat("laptop", "30").await;
    // Used once, so its last use is known.
    app.token(&pat).get("/v4/user/me").await.assert_status(200);
    let key = owner.browser.create_api_key("Production", "30").await;
    let intro = create_meeting_type(&app.token(&key).acting_as(&owner.id), "Intro", "intro").await;
    let (totp_secret, recovery_codes) = enrol(&app, &owner.browser).await;

    let profile = owner.browser.get("/profile").await;
    assert_eq!(
        testid_text(&profile.body, "profile-export").as_deref(),
        Some("Download my data")
    );
    assert!(profile.body.contains("href=\"/profile/export\""));

    let r = owner.browser.get("/profile/export").await;
    let doc = document(&r);
    assert!(doc["exportedAt"].as_str().is_some_and(|t| !t.is_empty()));
    let p = &doc["profile"];
    assert_eq!(p["id"], owner.id.as_str());
    assert_eq!(p["email"], owner.email.as_str());
    assert_eq!(p["name"], "Erika Export");
    assert_eq!(p["emailVerified"], true);
    assert_eq!(p["timezone"], "UTC");
    assert_eq!(p["role"], "owner");
    assert_eq!(p["status"], "active");
    assert_eq!(p["hasPassword"], true);
    assert!(p["createdAt"].is_string());
    assert_eq!(doc["company"]["id"], owner.company_id.as_str());
    assert_eq!(doc["company"]["name"], "Export Co");
    assert_eq!(doc["twoFactor"]["enabled"], true);
    assert_eq!(doc["twoFactor"]["unusedRecoveryCodes"], 10);
    assert_eq!(doc["identities"], serde_json::json!([]));

    let token = named(&doc["personalAccessTokens"], "laptop");
    let prefix = token["prefix"].as_str().unwrap().trim_end_matches('…');
    assert!(
        pat.starts_with(prefix) && prefix.len() < pat.len(),
        "{prefix}"
    );
    assert_eq!(token["status"], "active");
    assert!(token["lastUsedAt"].is_string(), "{token}");
    assert!(token["lastUsedIp"].is_string(), "{token}");
    assert!(token["expiresAt"].is_string(), "{token}");
    let created_key = named(&doc["apiKeysCreated"], "Production");
    assert_eq!(created_key["id"], key_id_of(&key).as_str());
    assert_eq!(created_key["status"], "active");
    assert!(doc["meetingTypes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == intro.as_str() && m["slug"] == "intro"));
    let kinds = audit_kinds(&doc);
    for kind in [
        "sign_up",
        "pat.created",
        "api_key.created",
        "two_factor.enabled",
        "user.exported",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }

    // Nothing secret: not the credentials, not what is stored of them, not the TOTP key.
    let (token_hash, key_hash, totp_stored, password_hash) = {
        let mut c = conn(&app);
        let token_hash: String = personal_access_tokens::table
            .select(personal_access_tokens::token_hash)
            .filter(personal_access_tokens::user_id.eq(&owner.id))
            .first(&mut *c)
            .unwrap();
        let key_hash: String = platform_api_keys::table
            .select(platform_api_keys::secret_hash)
            .first(&mut *c)
            .unwrap();
        let totp: String = two_factor_authenticators::table
            .select(two_factor_authenticators::secret_encrypted)
            .filter(two_factor_authenticators::user_id.eq(&owner.id))
            .first(&mut *c)
            .unwrap();
        let password: Option<String> = users::table
            .select(users::password_hash)
            .filter(users::id.eq(&owner.id))
            .first(&mut *c)
            .unwrap();
        (token_hash, key_hash, totp, password.unwrap())
    };
    let body = &r.body;
    for (what, secret) in [
        ("the token", pat.as_str()),
        ("the token's secret part", secret_part(&pat)),
        ("the token's hash", token_hash.as_str()),
        ("the key", key.as_str()),
        ("the key's secret part", secret_part(&key)),
        ("the key's hash", key_hash.as_str()),
        ("the TOTP key", totp_secret.as_str()),
        ("the stored TOTP key", totp_stored.as_str()),
        ("the password hash", password_hash.as_str()),
    ] {
        assert!(!body.contains(secret), "{what} is in the export");
    }
    for code in &recovery_codes {
        assert!(
            !body.contains(code.as_str()),
            "a recovery code is in the export"
        );
    }

    // Audited: the person, about themself.
    let exported = events_of_kind(&app, "user.exported");
    assert_eq!(exported.len(), 1);
    let event = &exported[0];
    assert_eq!(event.actor_id.as_deref(), Some(owner.id.as_str()));
    assert!(event.target.as_deref().unwrap().contains(&owner.id));
    assert_eq!(event.credential_id, None);
}

#[actix_web::test]
async fn owners_and_admins_export_members_who_export_only_themselves() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "Team Co", "Olga Owner", &email("team-owner")).await;
    let key = owner.browser.create_api_key("Setup", "30").await;
    let admin = signed_in_user(&app, &key, "Adam", "admin").await;
    let member = signed_in_user(&app, &key, "Mia", "member").await;
    let colleague = signed_in_user(&app, &key, "Carl", "member").await;
    let stranger = sign_up(&app, "Elsewhere Co", "Sven Stranger", &email("stranger")).await;
    fn link(id: &str) -> String {
        format!("/settings/members/{id}/export")
    }

    // The members page links every member's export.
    let page = admin.browser.get("/settings/members").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(&format!("href=\"{}\"", link(&member.id))),
        "the members page links the export"
    );
    assert!(page.body.contains("data-testid=\"member-export\""));

    let r = admin.browser.get(&link(&member.id)).await;
    let doc = document(&r);
    assert_eq!(doc["profile"]["id"], member.id.as_str());
    assert_eq!(doc["profile"]["role"], "member");
    // API-created users get the default meeting type.
    assert_eq!(doc["meetingTypes"][0]["slug"], "30min");
    let exported = events_of_kind(&app, "user.exported");
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0].actor_id.as_deref(), Some(admin.id.as_str()));
    assert!(exported[0].target.as_deref().unwrap().contains(&member.id));
    assert!(exported[0].detail.as_deref().unwrap().contains("admin"));
    // The owner's data too, and the owner exports an admin's.
    document(&admin.browser.get(&link(&owner.id)).await);
    document(&owner.browser.get(&link(&admin.id)).await);

    // A member exports nobody else; their own data is on the profile.
    let r = member.browser.get(&link(&colleague.id)).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = member.browser.get(&link(&admin.id)).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let own = document(&member.browser.get("/profile/export").await);
    assert_eq!(own["profile"]["id"], member.id.as_str());

    // Another company's people are not found, either way.
    let r = admin.browser.get(&link(&stranger.id)).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = stranger.browser.get(&link(&member.id)).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = admin.browser.get(&link("not-a-uuid")).await;
    assert_eq!(r.status, 404);

    // Signed out: to the sign-in page.
    let r = app.anonymous().get(&link(&member.id)).await;
    assert!(matches!(r.status, 302 | 303 | 401), "{}", r.status);
    let r = app.anonymous().get("/profile/export").await;
    assert!(matches!(r.status, 302 | 303 | 401), "{}", r.status);

    // Refusals are not exports: the log holds the four that happened.
    assert_eq!(events_of_kind(&app, "user.exported").len(), 4);

    // An offboarded member's data can still be exported (an access request after leaving).
    let r = app
        .token(&key)
        .acting_as(&owner.id)
        .delete(&format!("/v4/user/{}", colleague.id))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let doc = document(&admin.browser.get(&link(&colleague.id)).await);
    assert_eq!(doc["profile"]["status"], "removed");
    assert!(audit_kinds(&doc).iter().any(|k| k == "member.offboarded"));
}
