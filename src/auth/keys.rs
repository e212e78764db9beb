//! Keys derived from `SECRET_KEY`, one per purpose, so no two uses share a key.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

pub struct Keys {
    cookie: actix_web::cookie::Key,
    // Keyed once: every API request hashes its credential, and keying costs two more rounds
    // of SHA-256 than the hashing itself.
    credentials: HmacSha256,
    csrf: HmacSha256,
    signing: HmacSha256,
    two_factor: [u8; 32],
    webhook: [u8; 32],
}

fn derive(secret: &[u8], purpose: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable_hmac());
    mac.update(b"meetergo-console/");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

// HMAC accepts keys of every length; this cannot be reached.
fn unreachable_hmac() -> HmacSha256 {
    unreachable!("HMAC-SHA256 takes keys of any length")
}

fn keyed(key: &[u8; 32]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac())
}

fn mac(keyed: &HmacSha256, parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = keyed.clone();
    for part in parts {
        mac.update(part);
        mac.update(&[0]);
    }
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// `bytes` random bytes from the operating system, as lowercase hex: nonces, session keys,
/// binding cookies, generated secrets.
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    ::hex::encode(buf)
}

impl Keys {
    pub fn derive(secret: &[u8]) -> Self {
        let mut cookie_material = [0u8; 64];
        let (first, second) = cookie_material.split_at_mut(32);
        first.copy_from_slice(&derive(secret, "cookie-1"));
        second.copy_from_slice(&derive(secret, "cookie-2"));
        Self {
            cookie: actix_web::cookie::Key::from(&cookie_material),
            credentials: keyed(&derive(secret, "credentials")),
            csrf: keyed(&derive(secret, "csrf")),
            signing: keyed(&derive(secret, "signing")),
            two_factor: derive(secret, "two-factor-secret"),
            webhook: derive(secret, "webhook-signing-secret"),
        }
    }

    pub fn cookie_key(&self) -> actix_web::cookie::Key {
        self.cookie.clone()
    }

    /// What the database keeps of a credential: HMAC-SHA256 under a server-side key, so a
    /// stolen database cannot be used to check guesses offline.
    pub fn credential_hash(&self, credential: &str) -> String {
        Self::credential_hash_of(&self.credential_digest(credential))
    }

    /// The stored hash for a digest already made (one rule for its text form).
    pub fn credential_hash_of(digest: &[u8; 32]) -> String {
        hex(digest)
    }

    /// The bytes `credential_hash` writes out in hex (the credential cache's key).
    pub fn credential_digest(&self, credential: &str) -> [u8; 32] {
        mac(&self.credentials, &[credential.as_bytes()])
    }

    /// The form token that goes with a browser's CSRF cookie nonce.
    pub fn csrf_token(&self, nonce: &str) -> String {
        hex(&mac(&self.csrf, &[nonce.as_bytes()]))
    }

    pub fn csrf_token_matches(&self, nonce: &str, submitted: &str) -> bool {
        self.csrf_token(nonce)
            .as_bytes()
            .ct_eq(submitted.as_bytes())
            .into()
    }

    /// `value.signature`, for values the browser keeps for us (flash messages).
    pub fn sign(&self, value: &str) -> String {
        format!("{value}.{}", hex(&mac(&self.signing, &[value.as_bytes()])))
    }

    pub fn verify_signed<'a>(&self, signed: &'a str) -> Option<&'a str> {
        let (value, signature) = signed.rsplit_once('.')?;
        let expected = hex(&mac(&self.signing, &[value.as_bytes()]));
        bool::from(expected.as_bytes().ct_eq(signature.as_bytes())).then_some(value)
    }

    /// The AES-256-GCM key two-factor secrets are stored under (see `auth::totp`).
    pub fn two_factor_key(&self) -> &[u8; 32] {
        &self.two_factor
    }

    /// The AES-256-GCM key webhook signing secrets are stored under (see `webhooks::secret`).
    pub fn webhook_key(&self) -> &[u8; 32] {
        &self.webhook
    }

    /// A one-way hash for single-use secrets such as invitation links.
    pub fn opaque_hash(&self, purpose: &str, value: &str) -> String {
        hex(&mac(
            &self.credentials,
            &[purpose.as_bytes(), value.as_bytes()],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_get_different_keys() {
        let keys = Keys::derive(b"0123456789abcdef0123456789abcdef");
        assert_ne!(keys.credential_hash("x"), keys.csrf_token("x"));
        assert_eq!(keys.credential_hash("x"), keys.credential_hash("x"));
        assert!(keys.csrf_token_matches("n", &keys.csrf_token("n")));
        assert!(!keys.csrf_token_matches("n", &keys.csrf_token("m")));
        let signed = keys.sign("hello");
        assert_eq!(keys.verify_signed(&signed), Some("hello"));
        assert_eq!(keys.verify_signed(&signed.replace("hello", "hellp")), None);
    }

    /// The stored form of a credential never changes under a refactor: HMAC-SHA256 of the
    /// value and a NUL, keyed by HMAC(SECRET_KEY, "meetergo-console/credentials"). Worked out
    /// apart from this code (Python's `hmac`), or every stored credential would stop matching.
    #[test]
    fn the_credential_hash_is_the_documented_hmac() {
        let keys = Keys::derive(b"0123456789abcdef0123456789abcdef");
        assert_eq!(
            keys.credential_hash("rgo-x"),
            "d1dbd6bb61b606c826cc06da49849b1a61af84aadbcfe80d27b6df264b63cb81"
        );
    }
}
