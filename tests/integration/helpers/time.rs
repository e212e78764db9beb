//! Time passing, faked by moving a row's expiry into the past with raw SQL. These go once the
//! app takes its time from an injectable clock: then a test advances the clock instead.

use diesel::prelude::*;
use meetergo_console::db::models::now;
use meetergo_console::db::schema::{invitations, personal_access_tokens, platform_api_keys};

use super::app::TestApp;
use super::db::conn;

/// An hour ago: past every expiry the tests set.
fn an_hour_ago() -> chrono::NaiveDateTime {
    now() - chrono::Duration::hours(1)
}

/// The invitation's link has expired.
pub fn expire_invitation(app: &TestApp, id: &str) {
    let n = diesel::update(invitations::table.filter(invitations::id.eq(id)))
        .set(invitations::expires_at.eq(an_hour_ago()))
        .execute(&mut *conn(app))
        .expect("expire invitation");
    assert_eq!(n, 1);
}

/// The personal access token has expired.
pub fn expire_pat(app: &TestApp, id: &str) {
    let n = diesel::update(personal_access_tokens::table.filter(personal_access_tokens::id.eq(id)))
        .set(personal_access_tokens::expires_at.eq(Some(an_hour_ago())))
        .execute(&mut *conn(app))
        .expect("expire token");
    assert_eq!(n, 1);
}

/// The Platform API key has expired.
pub fn expire_key(app: &TestApp, id: &str) {
    let n = diesel::update(platform_api_keys::table.filter(platform_api_keys::id.eq(id)))
        .set(platform_api_keys::expires_at.eq(an_hour_ago()))
        .execute(&mut *conn(app))
        .expect("expire key");
    assert_eq!(n, 1);
}
