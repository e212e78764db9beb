//! The /v4 JSON API and the credential pages: who may call what, and with which answer.

mod authz_matrix;
mod contract;
mod create_user;
mod credential_pages;
mod delete_meeting_type;
mod delete_user;
mod error_bodies;
mod list_users;
mod meeting_types;
mod openapi;
mod pat;
mod rate_limit;
mod secrets_at_rest;

use diesel::prelude::*;
use meetergo_console::db::schema;
use serde_json::{json, Value};

use crate::helpers::db::{conn, pat_id, set_password, status_of};
use crate::helpers::fixtures::{create_meeting_type, create_user, key_id_of, sign_up};
use crate::helpers::time::a_week_passes;
use crate::helpers::{email, Browser, RequestHelper, TestApp};

/// The status of the user with this id: "active", "removed", …
fn user_status(app: &TestApp, id: &str) -> String {
    status_of(app, id)
}

/// The body of a 400 for one field.
fn validation(field: &str, message: &str) -> Value {
    json!({"statusCode": 400, "message": "Validation failed", "error": "Bad Request",
           "code": "validation_failed", "errors": [{"field": field, "message": message}]})
}

/// (owner, deleted at) of a meeting type's row.
fn meeting_type_row(app: &TestApp, id: &str) -> (String, Option<chrono::NaiveDateTime>) {
    use schema::meeting_types as rows;
    rows::table
        .filter(rows::id.eq(id))
        .select((rows::owner_id, rows::deleted_at))
        .first(&mut *conn(app))
        .expect("meeting type row")
}

/// The ids of the user's meeting types, listed with the API key acting as them.
async fn meeting_type_ids(app: &TestApp, key: &str, user: &str) -> Vec<String> {
    let r = app.token(key).acting_as(user).get("/v4/meeting-type").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Company A (owner by signup; admin and member created with the API key, then signed in from
/// their own browsers to make PATs) and company B (its own signup, in a third browser), with
/// every kind of credential, usable or not.
struct World {
    company_a: String,
    owner: String,
    admin: String,
    member: String,
    b_owner: String,
    key: String,
    owner_pat: String,
    admin_pat: String,
    member_pat: String,
    expired_pat: String,
    expired_key: String,
    revoked_pat: String,
    deactivated_key: String,
    owner_mt: String,
    admin_mt: String,
    member_mt: String,
    owner_browser: Browser,
    admin_browser: Browser,
    member_browser: Browser,
    b_browser: Browser,
}

impl World {
    async fn build(app: &TestApp) -> World {
        let owner = sign_up(app, "Company A", "Olga Owner", &email("owner")).await;
        let owner_browser = owner.browser.clone();
        let key = owner_browser.create_api_key("Production", "30").await;

        let (admin, admin_email) = create_user(app, &key, "Ada", "admin").await;
        let (member, member_email) = create_user(app, &key, "Mia", "member").await;
        set_password(app, &admin);
        set_password(app, &member);

        let admin_browser = app.browser();
        admin_browser.sign_in(&admin_email).await;
        let admin_pat = admin_browser.create_pat("admin cli", "30").await;

        let member_browser = app.browser();
        member_browser.sign_in(&member_email).await;
        let member_pat = member_browser.create_pat("member cli", "30").await;

        let owner_pat = owner_browser.create_pat("owner cli", "none").await;

        // A week from now these two have expired; every other credential lasts 30 days or more.
        let expired_pat = owner_browser.create_pat("soon expired", "7").await;

        let revoked_pat = owner_browser.create_pat("to revoke", "30").await;
        let id = pat_id(app, &owner.id, "to revoke");
        let r = owner_browser
            .post_form(&format!("/integrations/api/tokens/{id}/revoke"), &[])
            .await;
        assert_eq!(r.status, 303, "token revoked");

        let deactivated_key = owner_browser.create_api_key("Paused", "30").await;
        let r = owner_browser
            .post_form(
                &format!("/admin/api-keys/{}/deactivate", key_id_of(&deactivated_key)),
                &[],
            )
            .await;
        assert_eq!(r.status, 303, "key deactivated");

        let expired_key = owner_browser.create_api_key("Old", "7").await;
        a_week_passes(app);

        let b = sign_up(app, "Company B", "Bea Other", &email("b-owner")).await;
        assert_ne!(owner.company_id, b.company_id);

        let as_user = |user: &str| app.token(&key).acting_as(user);
        let owner_mt = create_meeting_type(&as_user(&owner.id), "Owner intro", "owner-intro").await;
        let admin_mt = create_meeting_type(&as_user(&admin), "Admin intro", "admin-intro").await;
        let member_mt =
            create_meeting_type(&as_user(&member), "Member intro", "member-intro").await;

        World {
            company_a: owner.company_id,
            owner: owner.id,
            admin,
            member,
            b_owner: b.id,
            key,
            owner_pat,
            admin_pat,
            member_pat,
            expired_pat,
            expired_key,
            revoked_pat,
            deactivated_key,
            owner_mt,
            admin_mt,
            member_mt,
            owner_browser,
            admin_browser,
            member_browser,
            b_browser: b.browser,
        }
    }

    fn meeting_type_of(&self, user: &str) -> Option<&str> {
        if user == self.owner {
            Some(&self.owner_mt)
        } else if user == self.admin {
            Some(&self.admin_mt)
        } else if user == self.member {
            Some(&self.member_mt)
        } else {
            None
        }
    }
}
