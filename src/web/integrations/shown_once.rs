//! A new secret shown once, after post/redirect/get. The POST that issues a token or key keeps
//! it in the browser's session, sealed with AES-256-GCM under a key derived for this purpose
//! (the session table never holds it in clear; the cookie holds only the session id), and
//! redirects with the credential's id in the address. The page it lands on takes the secret
//! out as it shows it, so a reload finds nothing and says so instead of resubmitting.

use actix_session::SessionExt;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::auth::keys::Keys;
use crate::domain::UserId;

use super::super::views::When;

const SESSION_KEY: &str = "shown_once";
/// A secret nobody came back for within this time is dropped unseen (a closed tab).
const KEPT_FOR_MINUTES: i64 = 10;

/// What the one-time box says: which credential, the secret, when it expires, and what it
/// replaced when it came from "Regenerate…".
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewSecret {
    pub credential_id: String,
    pub name: String,
    pub secret: String,
    pub expires_at: Option<NaiveDateTime>,
    #[serde(default)]
    pub note: String,
    /// When the POST kept it (set by `keep`).
    #[serde(default)]
    pub kept_at: Option<NaiveDateTime>,
}

/// Whether a secret kept at `kept_at` may still be shown at `now`.
fn still_fresh(kept_at: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    kept_at.is_some_and(|at| now - at <= chrono::Duration::minutes(KEPT_FOR_MINUTES))
}

/// The one-time box of a list page: the secret, or the words for "already shown".
pub enum OneTime {
    Nothing,
    Secret {
        secret: NewSecret,
        expires: Option<When>,
    },
    /// The address names a new credential whose secret was shown already (a reload).
    AlreadyShown {
        regenerate_href: String,
    },
}

/// The AES key: an HMAC of a fixed label under the server's credential key, so it is as secret
/// as that key and used for nothing else.
fn key(keys: &Keys) -> [u8; 32] {
    let hex = keys.opaque_hash("shown-once-secret", "aes-256-gcm");
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = hex
            .get(i * 2..i * 2 + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0);
    }
    out
}

/// Keeps `secret` for one display in this session, replacing any earlier one.
pub fn keep(
    req: &actix_web::HttpRequest,
    keys: &Keys,
    user: &UserId,
    secret: NewSecret,
    now: NaiveDateTime,
) {
    let secret = NewSecret {
        kept_at: Some(now),
        ..secret
    };
    let sealed = serde_json::to_vec(&secret)
        .ok()
        .and_then(|json| crate::auth::totp::encrypt_secret(&key(keys), user.as_str(), &json));
    if let Some(sealed) = sealed {
        // A session that cannot be written shows "already shown" after the redirect: the
        // secret is lost, and the page says to regenerate, which is the safe way to fail.
        let _ = req.get_session().insert(SESSION_KEY, sealed);
    }
}

/// The secret kept for `credential_id`, removed as it is read; `None` when there is none
/// (already shown, too old, another session, or kept for another credential, which stays).
pub fn take(
    req: &actix_web::HttpRequest,
    keys: &Keys,
    user: &UserId,
    credential_id: &str,
    now: NaiveDateTime,
) -> Option<NewSecret> {
    let session = req.get_session();
    let sealed = session.get::<String>(SESSION_KEY).ok().flatten()?;
    let secret = crate::auth::totp::decrypt_secret(&key(keys), user.as_str(), &sealed)
        .and_then(|json| serde_json::from_slice::<NewSecret>(&json).ok());
    match secret {
        Some(s) if s.credential_id == credential_id => {
            session.remove(SESSION_KEY);
            still_fresh(s.kept_at, now).then_some(s)
        }
        Some(s) if !still_fresh(s.kept_at, now) => {
            session.remove(SESSION_KEY);
            None
        }
        Some(_) => None,
        None => {
            // Unreadable (the server's key changed): of no use to anyone.
            session.remove(SESSION_KEY);
            None
        }
    }
}

/// The box for a list page reached as `?new=<id>`: the secret once, then the notice.
pub fn one_time(
    req: &actix_web::HttpRequest,
    keys: &Keys,
    user: &UserId,
    new: Option<&str>,
    now: NaiveDateTime,
    regenerate_href: impl Fn(&str) -> String,
) -> OneTime {
    let Some(id) = new.filter(|id| !id.is_empty()) else {
        return OneTime::Nothing;
    };
    match take(req, keys, user, id, now) {
        Some(secret) => OneTime::Secret {
            expires: When::of(secret.expires_at, now),
            secret,
        },
        None => OneTime::AlreadyShown {
            regenerate_href: regenerate_href(id),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_nobody_came_back_for_is_dropped_after_ten_minutes() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("a time");
        assert!(still_fresh(Some(now), now));
        assert!(still_fresh(Some(now - chrono::Duration::minutes(10)), now));
        assert!(!still_fresh(Some(now - chrono::Duration::minutes(11)), now));
        assert!(!still_fresh(None, now));
    }

    #[test]
    fn the_key_is_the_full_32_bytes_of_the_derived_hash() {
        let keys = Keys::derive(b"a test secret that is long enough for the console");
        let k = key(&keys);
        assert_ne!(k, [0u8; 32]);
        assert_eq!(key(&keys), k);
        let other = Keys::derive(b"another test secret, long enough for the console!");
        assert_ne!(key(&other), k);
    }
}
