//! SCIM 2.0 provisioning: Settings → Provisioning, the SCIM secret's two ways in, discovery,
//! people created, found, updated and deprovisioned the way Okta and Entra ID do it.

mod auth;
mod deprovision;
mod discovery;
mod hostile;
mod in_a_browser;
mod operator;
mod peer;
mod reactivation;
mod settings;
mod users;

use base64::Engine;
use diesel::prelude::*;
use meetergo_console::db::schema::scim_configs;
use serde_json::{json, Value};

use crate::helpers::client::Anonymous;
use crate::helpers::fixtures::sign_up;
use crate::helpers::html::new_secret_in;
use crate::helpers::{email, Person, Reply, RequestHelper, TestApp, TokenUser};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A company whose owner turned SCIM on and holds its secret.
pub struct Provisioned {
    pub owner: Person,
    pub secret: String,
}

/// The secret shown on the page after "Generate secret" (or "Regenerate secret").
pub async fn generate_secret(owner: &Person) -> String {
    let r = owner
        .browser
        .post_form("/settings/provisioning/secret", &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    new_secret_in(&r.body).expect("the SCIM secret is shown once")
}

pub async fn provisioned(app: &TestApp, company: &str) -> Provisioned {
    let owner = sign_up(app, company, "Olga Owner", &email("owner")).await;
    let secret = generate_secret(&owner).await;
    assert!(secret.starts_with("scim_"), "{secret}");
    Provisioned { owner, secret }
}

/// The identity provider, with `Authorization: Bearer <secret>`.
pub fn idp(app: &TestApp, secret: &str) -> TokenUser {
    app.token(secret)
}

/// A request with `Authorization: Basic base64(company:secret)`.
pub async fn basic(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    company: &str,
    secret: &str,
) -> Reply {
    let caller = app.anonymous();
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{company}:{secret}"));
    caller
        .send(
            caller
                .request(method, path)
                .header("authorization", format!("Basic {credentials}")),
        )
        .await
}

/// An Okta-shaped create request (Okta's SCIM 2.0 reference).
pub fn okta_user(address: &str, given: &str, family: &str) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": address,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": true, "value": address, "type": "work"}],
        "displayName": format!("{given} {family}"),
        "locale": "en-US",
        "externalId": format!("00u{}", &crate::helpers::random_id()[..8]),
        "groups": [],
        "active": true
    })
}

/// A SCIM request with a JSON body as IdPs send it (`application/scim+json`).
pub async fn send(
    caller: &impl RequestHelper,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> Reply {
    caller
        .send(
            caller
                .request(method, path)
                .header("content-type", "application/scim+json")
                .body(body.to_string()),
        )
        .await
}

/// Creates a person through SCIM; returns the SCIM resource.
pub async fn create(app: &TestApp, secret: &str, address: &str, given: &str) -> Value {
    let r = send(
        &idp(app, secret),
        reqwest::Method::POST,
        "/scim/v2/Users",
        &okta_user(address, given, "Example"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json().clone()
}

pub fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_SCHEMA], "Operations": ops})
}

/// Asserts a SCIM error: status (as a string in the body too), scimType, content type.
pub fn assert_scim_error(r: &Reply, status: u16, scim_type: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.body);
    assert!(
        r.content_type().starts_with("application/scim+json"),
        "{}",
        r.content_type()
    );
    let body = r.json();
    assert_eq!(body["schemas"], json!([ERROR_SCHEMA]), "{}", r.body);
    assert_eq!(body["status"], json!(status.to_string()), "{}", r.body);
    assert_eq!(body["scimType"].as_str(), scim_type, "{}", r.body);
    assert!(body["detail"].is_string(), "{}", r.body);
}

/// The stored SCIM configuration: (enabled, secret hash, prefix, successor).
pub fn stored_config(
    app: &TestApp,
    company: &str,
) -> (bool, Option<String>, Option<String>, Option<String>) {
    scim_configs::table
        .filter(scim_configs::company_id.eq(company))
        .select((
            scim_configs::enabled,
            scim_configs::secret_hash,
            scim_configs::secret_prefix,
            scim_configs::successor_id,
        ))
        .first(&mut *crate::helpers::db::conn(app))
        .expect("a SCIM configuration")
}

/// An anonymous caller (no credential).
pub fn nobody(app: &TestApp) -> Anonymous {
    app.anonymous()
}
