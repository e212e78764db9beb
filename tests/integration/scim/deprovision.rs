//! Deprovisioning through SCIM is the console's offboarding, to the configured successor: the
//! person's PAT answers 401 on the next request, their sessions end, their meeting types and
//! upcoming appointments move. Reactivation brings the person back with nothing restored.

use diesel::prelude::*;
use meetergo_console::db::schema::{appointments, meeting_types};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::db::{company_events, conn, set_password, status_of};
use crate::helpers::fixtures::{create_meeting_type, create_user};
use crate::helpers::{random_id, Browser, RequestHelper, TestApp};

use super::{assert_scim_error, create, idp, patch, provisioned, send};

/// Someone the IdP created, signed in with a PAT of their own, an extra meeting type and an
/// upcoming appointment.
struct Leaver {
    id: String,
    pat: String,
    browser: Browser,
    meeting_type: String,
    appointment: String,
}

async fn leaver(app: &TestApp, secret: &str, key: &str, who: &str) -> Leaver {
    let address = crate::helpers::email(who);
    let created: Value = create(app, secret, &address, who).await;
    let id = created["id"].as_str().unwrap().to_owned();
    set_password(app, &id);
    let browser = app.browser();
    browser.sign_in(&address).await;
    let pat = browser.create_pat("sync", "30").await;
    assert_eq!(app.token(&pat).get("/v4/user/me").await.status, 200);
    let meeting_type = create_meeting_type(
        &app.token(key).acting_as(&id),
        "Demo",
        &format!("demo-{who}"),
    )
    .await;
    let appointment = random_id();
    let starts = app.clock.now() + chrono::Duration::days(2);
    diesel::insert_into(appointments::table)
        .values((
            appointments::id.eq(&appointment),
            appointments::meeting_type_id.eq(&meeting_type),
            appointments::host_id.eq(&id),
            appointments::starts_at.eq(starts),
            appointments::ends_at.eq(starts + chrono::Duration::minutes(30)),
            appointments::attendee_name.eq("Guest"),
            appointments::attendee_email.eq("guest@example.com"),
            appointments::created_at.eq(app.clock.now()),
        ))
        .execute(&mut *conn(app))
        .unwrap();
    Leaver {
        id,
        pat,
        browser,
        meeting_type,
        appointment,
    }
}

fn meeting_type_owner(app: &TestApp, id: &str) -> String {
    meeting_types::table
        .filter(meeting_types::id.eq(id))
        .select(meeting_types::owner_id)
        .first(&mut *conn(app))
        .unwrap()
}

fn host_of(app: &TestApp, appointment: &str) -> String {
    appointments::table
        .filter(appointments::id.eq(appointment))
        .select(appointments::host_id)
        .first(&mut *conn(app))
        .unwrap()
}

/// The leaver can no longer do anything: the PAT is refused, the browser is signed out.
async fn assert_locked_out(app: &TestApp, l: &Leaver) {
    let r = app.token(&l.pat).get("/v4/user/me").await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = l.browser.get("/dashboard").await;
    assert_ne!(r.status, 200, "the session ended");
}

#[actix_web::test]
async fn patch_active_false_offboards_to_the_successor_and_true_brings_back_nothing() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Depro Co").await;
    let key = p.owner.browser.create_api_key("Production", "30").await;
    let (successor, _) = create_user(&app, &key, "Sam", "admin").await;
    let r = p
        .owner
        .browser
        .post_form(
            "/settings/provisioning",
            &[("enabled", "on"), ("scim_successor", &successor)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let l = leaver(&app, &p.secret, &key, "lea").await;
    let path = format!("/scim/v2/Users/{}", l.id);
    let as_idp = idp(&app, &p.secret);

    // Entra ID's deactivation.
    let r = send(
        &as_idp,
        Method::PATCH,
        &path,
        &patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["active"], false);
    assert_locked_out(&app, &l).await;
    assert_eq!(status_of(&app, &l.id), "removed");
    assert_eq!(meeting_type_owner(&app, &l.meeting_type), successor);
    assert_eq!(host_of(&app, &l.appointment), successor);
    let details: Vec<String> = company_events(&app, &p.owner.company_id, "member.offboarded")
        .into_iter()
        .filter_map(|e| e.detail)
        .collect();
    assert_eq!(details.len(), 1, "{details:?}");
    assert!(details[0].starts_with("via SCIM, to "), "{details:?}");
    assert!(details[0].contains("1 tokens revoked"), "{details:?}");
    // The IdP still sees the person, inactive; a second deactivation changes nothing.
    let r = as_idp.get(&path).await;
    assert_eq!((r.status, r.json()["active"].as_bool()), (200, Some(false)));
    let r = send(
        &as_idp,
        Method::PATCH,
        &path,
        &patch(json!([{"op": "replace", "value": {"active": false}}])),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        company_events(&app, &p.owner.company_id, "member.offboarded").len(),
        1
    );

    // Okta's reactivation: active again, with no token and nothing moved back.
    let r = send(
        &as_idp,
        Method::PATCH,
        &path,
        &patch(json!([{"op": "replace", "value": {"active": true}}])),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["active"], true);
    assert_eq!(status_of(&app, &l.id), "active");
    assert_eq!(app.token(&l.pat).get("/v4/user/me").await.status, 401);
    assert_eq!(meeting_type_owner(&app, &l.meeting_type), successor);
    assert_eq!(host_of(&app, &l.appointment), successor);
    assert_eq!(
        company_events(&app, &p.owner.company_id, "user.reactivated").len(),
        1
    );
    let r = app
        .token(&key)
        .acting_as(&l.id)
        .get("/v4/meeting-type")
        .await;
    assert_eq!(r.json(), &json!([]), "{}", r.body);
}

#[actix_web::test]
async fn delete_and_put_active_false_offboard_to_the_owner_by_default() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Delete Co").await;
    let key = p.owner.browser.create_api_key("Production", "30").await;
    let as_idp = idp(&app, &p.secret);

    let gone = leaver(&app, &p.secret, &key, "gus").await;
    let path = format!("/scim/v2/Users/{}", gone.id);
    let r = as_idp.delete(&path).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_locked_out(&app, &gone).await;
    assert_eq!(meeting_type_owner(&app, &gone.meeting_type), p.owner.id);
    assert_eq!(host_of(&app, &gone.appointment), p.owner.id);
    assert_scim_error(&as_idp.get(&path).await, 404, None);
    assert_scim_error(&as_idp.delete(&path).await, 404, None);
    let r = as_idp.get("/scim/v2/Users").await;
    assert!(!r.body.contains(&gone.id), "no longer listed");

    let put = leaver(&app, &p.secret, &key, "pia").await;
    let path = format!("/scim/Users/{}", put.id);
    let current = as_idp.get(&path).await.json().clone();
    let mut body = current.clone();
    body["active"] = json!(false);
    let r = send(&as_idp, Method::PUT, &path, &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["active"], false);
    assert_locked_out(&app, &put).await;
    assert_eq!(meeting_type_owner(&app, &put.meeting_type), p.owner.id);
    let details = company_events(&app, &p.owner.company_id, "member.offboarded");
    assert_eq!(details.len(), 2);
    assert!(details
        .iter()
        .all(|e| e.credential_id.is_some() && e.actor_id.is_none()));
}

#[actix_web::test]
async fn the_owner_is_never_deprovisioned() {
    let app = TestApp::spawn().await;
    let p = provisioned(&app, "Owner Co").await;
    let as_idp = idp(&app, &p.secret);
    let path = format!("/scim/v2/Users/{}", p.owner.id);
    let r = send(
        &as_idp,
        Method::PATCH,
        &path,
        &patch(json!([{"op": "replace", "value": {"active": false}}])),
    )
    .await;
    assert_scim_error(&r, 403, None);
    assert_scim_error(&as_idp.delete(&path).await, 403, None);
    assert_eq!(status_of(&app, &p.owner.id), "active");
    assert_eq!(p.owner.browser.get("/dashboard").await.status, 200);
}
