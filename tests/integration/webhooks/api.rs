//! `/webhooks` and `/v4/webhooks`: meetergo's shapes, the secret in the creation answer only,
//! the limit of 6 (also for two creations at once), who may, another company's ids, and the
//! validation errors.

use serde_json::{json, Value};

use crate::helpers::db::{company_events, conn};
use crate::helpers::fixtures::{key_id_of, sign_up, signed_in_user};
use crate::helpers::{email, random_id, RequestHelper, TestApp, TokenUser};

use super::stored_endpoint;

const HOOK: &str = "https://hooks.example.com/meetergo";

fn new_webhook(url: &str) -> Value {
    json!({"endpoint": url, "description": "CRM sync", "eventTypes": ["new_employee", "credential_created"]})
}

/// A company's owner and the Platform API key acting as them.
async fn company(app: &TestApp, name: &str) -> (crate::helpers::Person, TokenUser, String) {
    let owner = sign_up(app, name, "Olga Owner", &email("wh-owner")).await;
    let key = owner.browser.create_api_key("Webhooks", "30").await;
    let caller = app.token(&key).acting_as(&owner.id);
    (owner, caller, key)
}

#[actix_web::test]
async fn crud_answers_meetergos_shapes_and_the_secret_only_on_creation() {
    let app = TestApp::spawn().await;
    let (owner, caller, key) = company(&app, "Shapes Co").await;

    let r = caller.post_json("/webhooks", &new_webhook(HOOK)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json().clone();
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["endpoint"], HOOK);
    assert_eq!(created["description"], "CRM sync");
    assert_eq!(
        created["eventTypes"],
        json!(["new_employee", "credential_created"])
    );
    assert_eq!(created["companyId"], owner.company_id.as_str());
    assert!(created["createdAt"]
        .as_str()
        .is_some_and(|t| t.contains('T')));
    let secret = created["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");

    // Stored encrypted, shown by its prefix only.
    let stored = stored_endpoint(&app, &id);
    assert!(!stored.secret_encrypted.contains(&secret));
    assert!(secret.starts_with(stored.secret_prefix.trim_end_matches('…')));

    // Never listed again, under either path.
    for path in ["/webhooks", "/v4/webhooks"] {
        let r = caller.get(path).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let list = r.json().as_array().expect("a list").clone();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["id"], id.as_str());
        assert!(list[0].get("secret").is_none(), "{path}: {}", r.body);
        assert!(!r.body.contains(&secret));
        assert!(!r.body.contains("whsec_"), "{}", r.body);
    }

    let r = caller
        .patch_json(
            &format!("/v4/webhooks/{id}"),
            &json!({"endpoint": "https://hooks.example.com/v2", "eventTypes": ["employee_offboarded"], "description": ""}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["endpoint"], "https://hooks.example.com/v2");
    assert_eq!(r.json()["eventTypes"], json!(["employee_offboarded"]));
    assert_eq!(r.json()["description"], Value::Null);
    assert!(r.json().get("secret").is_none());
    let r = caller
        .patch_json(&format!("/webhooks/{id}"), &json!({"enabled": false}))
        .await;
    assert_eq!((r.status, &r.json()["enabled"]), (200, &json!(false)));
    assert!(stored_endpoint(&app, &id).disabled_reason.is_some());

    let r = caller.delete(&format!("/webhooks/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        stored_endpoint(&app, &id).deleted_at.is_some(),
        "kept, marked deleted"
    );
    let r = caller.get("/webhooks").await;
    assert_eq!(r.json(), &json!([]));
    for r in [
        caller.delete(&format!("/webhooks/{id}")).await,
        caller
            .patch_json(&format!("/v4/webhooks/{id}"), &json!({"enabled": true}))
            .await,
    ] {
        assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    }

    // Audited with the key and the user it acted as.
    let created = company_events(&app, &owner.company_id, "webhook.created");
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].credential_id.as_deref(),
        Some(key_id_of(&key).as_str())
    );
    assert_eq!(created[0].actor_id.as_deref(), Some(owner.id.as_str()));
    assert!(!format!("{created:?}").contains(&secret));
    for kind in ["webhook.updated", "webhook.deleted"] {
        assert!(
            !company_events(&app, &owner.company_id, kind).is_empty(),
            "{kind}"
        );
    }
}

#[actix_web::test]
async fn a_company_has_at_most_six_even_when_two_are_created_at_once() {
    let app = TestApp::spawn().await;
    let (owner, caller, _) = company(&app, "Limit Co").await;
    for i in 0..5 {
        let r = caller
            .post_json("/webhooks", &new_webhook(&format!("{HOOK}/{i}")))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let (first, second) = (
        new_webhook(&format!("{HOOK}/a")),
        new_webhook(&format!("{HOOK}/b")),
    );
    let (a, b) = tokio::join!(
        caller.post_json("/webhooks", &first),
        caller.post_json("/v4/webhooks", &second)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} / {}", a.body, b.body);
    let refused = if a.status == 409 { &a } else { &b };
    assert_eq!(refused.code(), "conflict");
    assert!(refused.json()["message"]
        .as_str()
        .is_some_and(|m| m.contains("6 webhooks")));
    let r = caller.post_json("/webhooks", &new_webhook(HOOK)).await;
    assert_eq!(r.status, 409, "the seventh: {}", r.body);
    assert_eq!(
        caller
            .get("/webhooks")
            .await
            .json()
            .as_array()
            .map(Vec::len),
        Some(6)
    );

    // A deleted one frees its place.
    let first = caller.get("/webhooks").await.json()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        caller.delete(&format!("/webhooks/{first}")).await.status,
        200
    );
    let r = caller.post_json("/webhooks", &new_webhook(HOOK)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        company_events(&app, &owner.company_id, "webhook.created").len(),
        7
    );
}

#[actix_web::test]
async fn owners_and_admins_pats_and_api_keys_may_a_members_pat_may_not() {
    let app = TestApp::spawn().await;
    let (owner, _, key) = company(&app, "Who Co").await;
    let member = signed_in_user(&app, &key, "Mia", "member").await;
    let admin = signed_in_user(&app, &key, "Adam", "admin").await;
    let member_pat = app.token(&member.browser.create_pat("mine", "30").await);
    let admin_pat = app.token(&admin.browser.create_pat("mine", "30").await);
    let owner_pat = app.token(&owner.browser.create_pat("mine", "30").await);

    for r in [
        member_pat.get("/webhooks").await,
        member_pat.post_json("/webhooks", &new_webhook(HOOK)).await,
        member_pat.get("/v4/webhooks").await,
    ] {
        assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);
    }
    let r = admin_pat.post_json("/webhooks", &new_webhook(HOOK)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().expect("id").to_owned();
    let r = member_pat.delete(&format!("/webhooks/{id}")).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = owner_pat
        .patch_json(
            &format!("/webhooks/{id}"),
            &json!({"description": "by the owner"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The key needs the acting user, like every endpoint that acts as someone.
    let r = app.token(&key).get("/webhooks").await;
    assert_eq!(
        (r.status, r.code()),
        (400, "missing_user_header"),
        "{}",
        r.body
    );
    let r = app.anonymous().get("/webhooks").await;
    assert_eq!((r.status, r.code()), (401, "missing_authorization"));
    // A person whose role dropped to member meanwhile is refused with the PAT they hold.
    let r = admin_pat.get("/webhooks").await;
    assert_eq!(r.status, 200);
    {
        use diesel::prelude::*;
        use meetergo_console::db::schema::users;
        diesel::update(users::table.filter(users::id.eq(&admin.id)))
            .set(users::role.eq(meetergo_console::domain::Role::Member))
            .execute(&mut *conn(&app))
            .expect("demoted");
    }
    let r = admin_pat.get("/webhooks").await;
    assert_eq!(r.status, 403, "{}", r.body);
}

#[actix_web::test]
async fn another_companys_webhook_is_not_found() {
    let app = TestApp::spawn().await;
    let (_, ours, _) = company(&app, "Ours Co").await;
    let (_, theirs, _) = company(&app, "Theirs Co").await;
    let r = ours.post_json("/webhooks", &new_webhook(HOOK)).await;
    let id = r.json()["id"].as_str().expect("id").to_owned();
    for r in [
        theirs
            .patch_json(&format!("/webhooks/{id}"), &json!({"enabled": false}))
            .await,
        theirs.delete(&format!("/v4/webhooks/{id}")).await,
        theirs.delete(&format!("/webhooks/{}", random_id())).await,
        theirs.delete("/webhooks/not-an-id").await,
    ] {
        assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    }
    assert_eq!(theirs.get("/webhooks").await.json(), &json!([]));
    let stored = stored_endpoint(&app, &id);
    assert!(stored.enabled && stored.deleted_at.is_none());
}

#[actix_web::test]
async fn invalid_bodies_are_400_with_the_fields_named() {
    let app = TestApp::spawn().await;
    let (_, caller, _) = company(&app, "Valid Co").await;
    let cases = [
        (
            json!({"endpoint": "not a url", "eventTypes": ["new_employee"]}),
            "endpoint",
        ),
        (
            json!({"endpoint": "ftp://hooks.example.com/", "eventTypes": ["new_employee"]}),
            "endpoint",
        ),
        (
            json!({"endpoint": HOOK, "eventTypes": ["booking_created"]}),
            "eventTypes",
        ),
        (
            json!({"endpoint": HOOK, "eventTypes": ["test"]}),
            "eventTypes",
        ),
        (json!({"endpoint": HOOK, "eventTypes": []}), "eventTypes"),
        (
            json!({"endpoint": HOOK, "eventTypes": ["new_employee"], "description": "x".repeat(501)}),
            "description",
        ),
    ];
    for (body, field) in cases {
        let r = caller.post_json("/webhooks", &body).await;
        assert_eq!(
            (r.status, r.code()),
            (400, "validation_failed"),
            "{body}: {}",
            r.body
        );
        assert_eq!(r.json()["statusCode"], 400);
        assert_eq!(r.json()["errors"][0]["field"], field, "{}", r.body);
        assert!(r.json()["errors"][0]["message"].is_string());
    }
    for body in [
        json!({"eventTypes": ["new_employee"]}),
        json!({"endpoint": HOOK, "eventTypes": ["new_employee"], "secret": "whsec_mine"}),
        json!([HOOK]),
    ] {
        let r = caller.post_json("/webhooks", &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
    }
    assert_eq!(caller.get("/webhooks").await.json(), &json!([]));
}

#[actix_web::test]
async fn private_targets_are_refused_unless_allowed() {
    let app = TestApp::spawn_with(|s| s.webhook_allow_private_targets = false).await;
    let (_, caller, _) = company(&app, "Ssrf Co").await;
    for target in [
        "http://127.0.0.1:9000/in",
        "http://localhost/in",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/in",
        "http://10.0.0.7/in",
    ] {
        let r = caller.post_json("/webhooks", &new_webhook(target)).await;
        assert_eq!((r.status, r.code()), (400, "validation_failed"), "{target}");
        assert_eq!(r.json()["errors"][0]["field"], "endpoint");
        let r = caller.post_json("/webhooks", &new_webhook(HOOK)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.json()["id"].as_str().expect("id").to_owned();
        let r = caller
            .patch_json(&format!("/webhooks/{id}"), &json!({"endpoint": target}))
            .await;
        assert_eq!(r.status, 400, "a change to {target}: {}", r.body);
        assert_eq!(caller.delete(&format!("/webhooks/{id}")).await.status, 200);
    }
    // The tests' own default lets loopback receivers in.
    let relaxed = TestApp::spawn().await;
    let (_, caller, _) = company(&relaxed, "Local Co").await;
    let r = caller
        .post_json("/webhooks", &new_webhook("http://127.0.0.1:9000/in"))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}
