//! What the job tests share: a company with an owner, an admin and a member, credentials read
//! back from the database, and the reminder mails each person got.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use meetergo_console::db::models::{PersonalAccessToken, PlatformApiKey};
use meetergo_console::db::schema::{personal_access_tokens, platform_api_keys};

use crate::helpers::db::conn;
use crate::helpers::fixtures::{mails_to_besides_confirmation, sign_up, signed_in_user};
use crate::helpers::{email, Person, TestApp};

/// Olive owns the company, Ada is an admin, Mel a member; `bootstrap` is the owner's key that
/// made the other two (90 days: never due in these tests).
pub struct Company {
    pub owner: Person,
    pub admin: Person,
    pub member: Person,
}

pub async fn company(app: &TestApp) -> Company {
    let owner = sign_up(app, "Reminders Inc", "Olive Owner", &email("olive")).await;
    let bootstrap = owner.browser.create_api_key("Bootstrap", "90").await;
    let admin = signed_in_user(app, &bootstrap, "Ada", "admin").await;
    let member = signed_in_user(app, &bootstrap, "Mel", "member").await;
    Company {
        owner,
        admin,
        member,
    }
}

pub fn pat(app: &TestApp, owner: &Person, name: &str) -> PersonalAccessToken {
    personal_access_tokens::table
        .filter(personal_access_tokens::user_id.eq(&owner.id))
        .filter(personal_access_tokens::name.eq(name))
        .select(PersonalAccessToken::as_select())
        .first(&mut *conn(app))
        .expect("the token is stored")
}

pub fn api_key(app: &TestApp, name: &str) -> PlatformApiKey {
    platform_api_keys::table
        .filter(platform_api_keys::name.eq(name))
        .select(PlatformApiKey::as_select())
        .first(&mut *conn(app))
        .expect("the key is stored")
}

/// Moves the clock to a minute past `days` days before `expires_at` (0: just expired).
pub fn move_to_days_before(app: &TestApp, expires_at: NaiveDateTime, days: i64) {
    let target = expires_at - chrono::Duration::days(days) + chrono::Duration::minutes(1);
    let by = target - app.clock.now();
    assert!(by > chrono::Duration::zero(), "time only moves forward");
    assert!(app.clock.advance(by));
}

/// The link to a credential's page in a reminder.
pub fn pat_link(app: &TestApp, id: &str) -> String {
    format!("{}/integrations/api/tokens/{id}", app.address)
}

pub fn key_link(app: &TestApp, id: &str) -> String {
    format!("{}/admin/api-keys/{id}", app.address)
}

/// The mails to `address` that link to `link` (reminders about one credential), oldest first,
/// their bodies decoded.
pub fn reminders_to(app: &TestApp, address: &str, link: &str) -> Vec<String> {
    mails_to_besides_confirmation(app, address)
        .iter()
        .map(|m| quoted_printable_decoded(m))
        .filter(|m| m.contains(link))
        .collect()
}

/// A mail as a reader sees it: lettre writes bodies with lines over 76 characters (a link)
/// as quoted-printable, which breaks them with `=` at line ends and escapes bytes as `=XX`.
pub fn quoted_printable_decoded(mail: &str) -> String {
    let joined = mail.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'=')
            .then(|| joined.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
