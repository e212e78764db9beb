//! argon2id with OWASP's parameters (m=19456 KiB, t=2, p=1), always on the blocking pool and
//! never more than a few at once, so a burst of logins cannot starve the server.

use std::sync::Arc;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::error::AppError;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A valid hash of a random password, verified against when the email is unknown, so the
/// answer takes as long as for a real account.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0q3pDLYHxn4zv2mFIRf2oQYBGAhaE2/5OHWOxYQeKkE";

#[derive(Clone)]
pub struct PasswordHasherPool {
    permits: Arc<Semaphore>,
}

impl PasswordHasherPool {
    pub fn new(max_concurrent: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
        }
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        actix_web::web::block(move || hash_now(password.expose_secret()))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking pool: {e}")))?
    }

    /// True only when `stored` is a hash of `password`. With no stored hash (unknown email,
    /// or an account without a password) it still does the full work and answers false.
    pub async fn verify(
        &self,
        stored: Option<String>,
        password: SecretString,
    ) -> Result<bool, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        actix_web::web::block(move || {
            let has_real = stored.is_some();
            let hash = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
            verify_now(&hash, password.expose_secret()) && has_real
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking pool: {e}")))
    }
}

pub fn hash_now(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing password: {e}")))
}

fn verify_now(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let hash = hash_now("correct horse battery").unwrap_or_default();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_now(&hash, "correct horse battery"));
        assert!(!verify_now(&hash, "wrong horse battery"));
    }

    #[test]
    fn dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
