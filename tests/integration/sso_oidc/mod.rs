//! Sign-in with an OpenID Connect provider, end to end against a real provider (the npm
//! `oidc-provider` of tests/oidc, on loopback): the code + PKCE round trip over HTTP, every
//! refusal (state, replay, nonce, issuer, RFC 9207 `iss`, unverified email, userinfo about another
//! subject, another browser), a provider that sends claims only from userinfo, linking an
//! existing account from the profile, the joining rule, Enforce SSO, and one browser flow.
//!
//! Node.js and the provider are required: when they are missing these tests fail, they never
//! skip (run `bash tests/oidc/setup.sh` once).

mod enforce_sso;
mod flow;
mod id_token;
mod in_a_browser;
mod issuer_parameter;
mod joining;
mod linking;
mod round_trip;
mod state_and_replay;
mod two_factor_exempt;
mod userinfo;

use diesel::prelude::*;
use meetergo_console::db::models::{AuditEvent, Identity};
use meetergo_console::db::schema::{companies, identities, invitations, sso_requests, users};

use crate::helpers::db::{conn, events_of_kind};
use crate::helpers::html::testid_text;
use crate::helpers::{Browser, Reply, TestApp};

const OTHER_ISSUER: &str = "https://other.example";

const NOT_THIS_BROWSER: &str =
    "This sign-in was not started in this browser, was already used, or has expired.";
const NOT_VERIFIED: &str = "The provider's answer could not be verified.";
const ANOTHER_ISSUER: &str =
    "The answer did not come from the provider this sign-in was started with.";
const UNCONFIRMED_EMAIL: &str = "The provider did not confirm your email address";

fn identities_of(app: &TestApp, user_id: &str) -> Vec<Identity> {
    identities::table
        .filter(identities::user_id.eq(user_id))
        .select(Identity::as_select())
        .load(&mut *conn(app))
        .expect("identities")
}

fn identity(app: &TestApp, issuer: &str, subject: &str) -> Option<Identity> {
    identities::table
        .filter(identities::issuer.eq(issuer))
        .filter(identities::subject.eq(subject))
        .select(Identity::as_select())
        .first(&mut *conn(app))
        .optional()
        .expect("identity")
}

fn details(events: &[AuditEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.detail.clone().unwrap_or_default())
        .collect()
}

fn pending_oidc_requests(app: &TestApp) -> i64 {
    sso_requests::table
        .filter(sso_requests::kind.eq("oidc"))
        .filter(sso_requests::used_at.is_null())
        .count()
        .get_result(&mut *conn(app))
        .expect("count sso requests")
}

/// What a refused sign-in must leave as it was.
#[derive(Debug, PartialEq, Eq)]
struct Footprint {
    users: i64,
    companies: i64,
    identities: i64,
    invitations_accepted: i64,
}

fn footprint(app: &TestApp) -> Footprint {
    let conn = &mut *conn(app);
    Footprint {
        users: users::table.count().get_result(conn).expect("users"),
        companies: companies::table
            .count()
            .get_result(conn)
            .expect("companies"),
        identities: identities::table
            .count()
            .get_result(conn)
            .expect("identities"),
        invitations_accepted: invitations::table
            .filter(invitations::accepted_at.is_not_null())
            .count()
            .get_result(conn)
            .expect("invitations"),
    }
}

/// The state a refusal is checked against: what existed, and how many refusals were audited.
struct Before {
    footprint: Footprint,
    failed: usize,
}

fn before(app: &TestApp) -> Before {
    Before {
        footprint: footprint(app),
        failed: events_of_kind(app, "sign_in.failed").len(),
    }
}

/// The refusal page: 403 with this message.
fn assert_refused_with(r: &Reply, message: &str) {
    assert_eq!(r.status, 403, "refused: {}", r.body);
    let shown = testid_text(&r.body, "sso-problem").expect("the refusal message");
    assert!(
        shown.contains(message),
        "the refusal says {message:?}: {shown:?}"
    );
}

/// A refusal, checked whole: the page says `message`, the browser is not signed in, nothing
/// was created, and a `sign_in.failed` event records the reason (`reason` in its detail).
async fn assert_refusal(
    app: &TestApp,
    browser: &Browser,
    before: Before,
    r: &Reply,
    message: &str,
    reason: &str,
) {
    assert_refused_with(r, message);
    assert!(!browser.is_signed_in().await, "not signed in");
    assert_eq!(footprint(app), before.footprint, "nothing was created");
    let failed = events_of_kind(app, "sign_in.failed");
    let new = details(failed.get(before.failed..).unwrap_or_default());
    assert!(
        new.iter()
            .any(|d| d.starts_with("oidc:okta") && d.contains(reason)),
        "a sign_in.failed event gives the reason {reason:?}: {new:?}"
    );
}
