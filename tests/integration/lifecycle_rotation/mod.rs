//! Credential lifecycle, part 2, 4 and 6 of issue 11: regeneration with an overlap window, the
//! alert when a replaced credential is used, the company's credential policy, and the
//! unauthenticated leaked-credential report.

mod after_rotation;
mod in_a_browser;
mod leak_report;
mod policy;
mod regenerate;

use diesel::prelude::*;
use meetergo_console::db::schema::{personal_access_tokens as pats, platform_api_keys as keys};

use crate::helpers::db::conn;
use crate::helpers::html::new_secret_in;
use crate::helpers::{Browser, Reply, RequestHelper, TestApp};

pub fn token_regenerate_path(id: &str) -> String {
    format!("/integrations/api/tokens/{id}/regenerate")
}

pub fn key_regenerate_path(id: &str) -> String {
    format!("/admin/api-keys/{id}/regenerate")
}

/// Regenerates through the confirmation form; the answer is the page showing the new secret
/// (after the redirect of post/redirect/get), or the refusal.
pub async fn regenerate(browser: &Browser, path: &str, grace: &str) -> Reply {
    browser.post_and_follow(path, &[("grace", grace)]).await
}

/// Regenerates and returns the successor shown once.
pub async fn regenerated(browser: &Browser, path: &str, grace: &str) -> String {
    let r = regenerate(browser, path, grace).await;
    assert_eq!(r.status, 200, "regenerating: {}", r.body);
    new_secret_in(&r.body).expect("the successor is shown once")
}

/// The id of the token regenerated from `id`, if any.
pub fn successor_of_token(app: &TestApp, id: &str) -> Option<String> {
    pats::table
        .filter(pats::replaces.eq(id))
        .select(pats::id)
        .load::<String>(&mut *conn(app))
        .expect("successors")
        .into_iter()
        .next()
}

/// (expires_at, replaced_by) of a token.
pub fn token_row(app: &TestApp, id: &str) -> (Option<chrono::NaiveDateTime>, Option<String>) {
    pats::table
        .filter(pats::id.eq(id))
        .select((pats::expires_at, pats::replaced_by))
        .first(&mut *conn(app))
        .expect("token row")
}

/// The id of the company's key named `name` that is not replaced.
pub fn current_key_id(app: &TestApp, name: &str) -> String {
    keys::table
        .filter(keys::name.eq(name))
        .filter(keys::replaced_by.is_null())
        .select(keys::id)
        .first(&mut *conn(app))
        .expect("key by name")
}

/// `GET /v4/user/me` with the credential: its status and error code.
pub async fn me_with(app: &TestApp, secret: &str) -> (u16, String) {
    let r = app.token(secret).get("/v4/user/me").await;
    (r.status, r.code().to_owned())
}
