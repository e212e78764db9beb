//! Credential formats. Each ends in a CRC32 checksum (base62, 6 characters) of the rest, so a
//! secret scanner can tell a real credential from noise without asking us.
//!
//! - Personal Access Token: `rgo-<30 base62 chars: ~178 random bits><checksum>`
//! - Platform API Key: `ak_live:<key uuid>:<30 base62 chars><checksum>`
//! - SCIM secret (one per company, for its identity provider): `scim_<30 base62 chars><checksum>`

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};

use crate::domain::ApiKeyId;

pub const PAT_PREFIX: &str = "rgo-";
pub const API_KEY_PREFIX: &str = "ak_live:";
pub const SCIM_PREFIX: &str = "scim_";
const SECRET_LEN: usize = 30;
const CHECKSUM_LEN: usize = 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

pub fn random_base62(len: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| char::from(base62_digit(rng.gen_range(0..62))))
        .collect()
}

/// The base-62 digit for `d` (taken modulo 62).
fn base62_digit(d: u64) -> u8 {
    let index = usize::try_from(d % 62).unwrap_or(0);
    BASE62.get(index).copied().unwrap_or(b'0')
}

/// The CRC32 of `body` in base62 digits (checked on every API request: no allocation).
fn checksum_digits(body: &str) -> [u8; CHECKSUM_LEN] {
    let mut n = crc32fast::hash(body.as_bytes()) as u64;
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = base62_digit(n);
        n /= 62;
    }
    out
}

fn checksum(body: &str) -> String {
    checksum_digits(body)
        .iter()
        .map(|&b| char::from(b))
        .collect()
}

fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn checksum_holds(body_and_sum: &str) -> bool {
    if body_and_sum.len() < CHECKSUM_LEN {
        return false;
    }
    let (body, sum) = body_and_sum.split_at(body_and_sum.len() - CHECKSUM_LEN);
    checksum_digits(body) == sum.as_bytes()
}

/// A freshly issued credential: its clear value (shown once) and what may be kept of it.
pub struct Issued {
    pub clear: SecretString,
    pub display_prefix: String,
}

pub fn issue_pat() -> Issued {
    let body = format!("{PAT_PREFIX}{}", random_base62(SECRET_LEN));
    let clear = format!("{body}{}", checksum(&body));
    let display_prefix = clear.chars().take(PAT_PREFIX.len() + 6).collect::<String>() + "…";
    Issued {
        clear: SecretString::from(clear),
        display_prefix,
    }
}

pub fn issue_api_key(id: &ApiKeyId) -> Issued {
    let body = format!("{API_KEY_PREFIX}{id}:{}", random_base62(SECRET_LEN));
    let clear = format!("{body}{}", checksum(&body));
    let short_id: String = id.as_str().chars().take(8).collect();
    Issued {
        clear: SecretString::from(clear),
        display_prefix: format!("{API_KEY_PREFIX}{short_id}…"),
    }
}

pub fn issue_scim_secret() -> Issued {
    let body = format!("{SCIM_PREFIX}{}", random_base62(SECRET_LEN));
    let clear = format!("{body}{}", checksum(&body));
    let display_prefix = clear
        .chars()
        .take(SCIM_PREFIX.len() + 6)
        .collect::<String>()
        + "…";
    Issued {
        clear: SecretString::from(clear),
        display_prefix,
    }
}

/// Whether `presented` has the shape of a SCIM secret (checksum included), offline.
pub fn is_scim_secret(presented: &str) -> bool {
    presented.strip_prefix(SCIM_PREFIX).is_some_and(|rest| {
        rest.len() == SECRET_LEN + CHECKSUM_LEN && is_base62(rest) && checksum_holds(presented)
    })
}

/// What a bearer value looks like, checked offline before any database lookup.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented<'a> {
    Pat(&'a str),
    ApiKey { id: ApiKeyId, full: &'a str },
}

pub fn parse(bearer: &str) -> Option<Presented<'_>> {
    if let Some(rest) = bearer.strip_prefix(PAT_PREFIX) {
        let ok =
            rest.len() == SECRET_LEN + CHECKSUM_LEN && is_base62(rest) && checksum_holds(bearer);
        return ok.then_some(Presented::Pat(bearer));
    }
    let rest = bearer.strip_prefix(API_KEY_PREFIX)?;
    let (id, secret) = rest.split_once(':')?;
    let id: ApiKeyId = id.parse().ok()?;
    let ok =
        secret.len() == SECRET_LEN + CHECKSUM_LEN && is_base62(secret) && checksum_holds(bearer);
    ok.then_some(Presented::ApiKey { id, full: bearer })
}

/// Exposes an issued secret for the single response that shows it.
pub fn reveal(issued: &Issued) -> &str {
    issued.clear.expose_secret()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pats_round_trip_and_checksum_catches_typos() {
        let issued = issue_pat();
        let clear = reveal(&issued);
        assert!(clear.starts_with("rgo-"));
        assert_eq!(clear.len(), 4 + 30 + 6);
        assert_eq!(parse(clear), Some(Presented::Pat(clear)));
        let mut typo = clear.to_owned().into_bytes();
        if let Some(b) = typo.get_mut(10) {
            *b = if *b == b'a' { b'b' } else { b'a' };
        }
        let typo = String::from_utf8(typo).unwrap_or_default();
        assert_eq!(parse(&typo), None);
        assert!(issued.display_prefix.len() < clear.len());
    }

    #[test]
    fn api_keys_carry_their_id() {
        let id = ApiKeyId::new();
        let issued = issue_api_key(&id);
        let clear = reveal(&issued);
        assert!(clear.starts_with(&format!("ak_live:{id}:")));
        assert_eq!(parse(clear), Some(Presented::ApiKey { id, full: clear }));
        assert_eq!(parse("ak_live:not-a-uuid:abc"), None);
        assert_eq!(parse("Bearer nonsense"), None);
        assert_eq!(parse("rgo-short"), None);
    }

    #[test]
    fn scim_secrets_have_their_own_prefix_and_checksum() {
        let issued = issue_scim_secret();
        let clear = reveal(&issued);
        assert!(clear.starts_with("scim_"));
        assert_eq!(clear.len(), 5 + 30 + 6);
        assert!(is_scim_secret(clear));
        assert_eq!(parse(clear), None, "not a PAT or an API key");
        let typo = clear.replace(
            &clear[10..11],
            if &clear[10..11] == "a" { "b" } else { "a" },
        );
        assert!(!is_scim_secret(&typo));
        assert!(!is_scim_secret(reveal(&issue_pat())));
        assert!(!is_scim_secret("scim_short"));
        assert!(issued.display_prefix.starts_with("scim_"));
    }

    #[test]
    fn secrets_differ() {
        assert_ne!(reveal(&issue_pat()), reveal(&issue_pat()));
    }
}
