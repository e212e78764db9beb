//! Time passing: the app's clock moved forward. Every decision that depends on the time (has
//! this invitation, token or key expired?) asks that clock, so no test rewrites rows to fake it.
//! Sessions keep the system time, so nobody is signed out by it.

use super::app::TestApp;

/// Moves the app's clock `days` forward.
pub fn days_pass(app: &TestApp, days: i64) {
    assert!(
        app.clock.advance(chrono::Duration::days(days)),
        "the test app's clock can be moved"
    );
}

/// Every invitation sent so far has expired (they last `invitation_ttl_days`).
pub fn invitations_expire(app: &TestApp) {
    days_pass(app, app.settings.invitation_ttl_days + 1);
}

/// Credentials made with the 7-day expiry have expired; those of 30 days, or none, still work.
pub fn a_week_passes(app: &TestApp) {
    days_pass(app, 8);
}
