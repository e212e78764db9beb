//! The per-endpoint signing secret, in the Standard Webhooks form `whsec_<base64 of 24 random
//! bytes>`. The console has to sign with it, so it is kept AES-256-GCM encrypted under
//! `Keys::webhook_key` with the endpoint's id as associated data (a copy of the database alone
//! cannot sign, and a ciphertext moved to another endpoint does not decrypt).

use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::keys::Keys;
use crate::auth::totp::{decrypt_secret, encrypt_secret};

pub const SECRET_PREFIX: &str = "whsec_";

/// A signing secret in clear: shown once when made, then only ever held encrypted.
pub struct SigningSecret(SecretString);

impl SigningSecret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(SecretString::from(format!(
            "{SECRET_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )))
    }

    /// A secret given in clear (the specification's published test vector).
    #[cfg(test)]
    pub(crate) fn from_clear(clear: &str) -> Self {
        Self(SecretString::from(clear.to_owned()))
    }

    /// The `whsec_…` text, for its one showing.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The HMAC key: the base64 part decoded, as the specification says.
    pub fn key_bytes(&self) -> Option<Vec<u8>> {
        let b64 = self.expose().strip_prefix(SECRET_PREFIX)?;
        base64::engine::general_purpose::STANDARD.decode(b64).ok()
    }

    /// What lists show to tell secrets apart: `whsec_` and four characters.
    pub fn display_prefix(&self) -> String {
        self.expose()
            .chars()
            .take(SECRET_PREFIX.len() + 4)
            .collect::<String>()
            + "…"
    }

    pub fn encrypt(&self, keys: &Keys, endpoint_id: &str) -> Option<String> {
        encrypt_secret(keys.webhook_key(), endpoint_id, self.expose().as_bytes())
    }

    pub fn decrypt(keys: &Keys, endpoint_id: &str, stored: &str) -> Option<Self> {
        let bytes = decrypt_secret(keys.webhook_key(), endpoint_id, stored)?;
        String::from_utf8(bytes)
            .ok()
            .map(|s| Self(SecretString::from(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_only_for_their_endpoint() {
        let keys = Keys::derive(b"0123456789abcdef0123456789abcdef");
        let secret = SigningSecret::generate();
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(secret.key_bytes().map(|k| k.len()), Some(24));
        let stored = secret.encrypt(&keys, "e1").unwrap_or_default();
        assert!(!stored.contains(secret.expose()));
        let back = SigningSecret::decrypt(&keys, "e1", &stored).map(|s| s.expose().to_owned());
        assert_eq!(back.as_deref(), Some(secret.expose()));
        assert!(SigningSecret::decrypt(&keys, "e2", &stored).is_none());
    }
}
