//! The password policy (OWASP ASVS 5.0 §6.2): length, not composition, and not a common password.

use std::collections::HashSet;
use std::sync::OnceLock;

use secrecy::{ExposeSecret, SecretString};

use super::FieldError;

pub const MIN_LENGTH: usize = 8;
pub const RECOMMENDED_LENGTH: usize = 15;
pub const MAX_LENGTH: usize = 128;

/// The 10,000 most common passwords (ranked list of leaked passwords, lower-cased).
static COMMON: &str = include_str!("common_passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// A password that meets the policy. It never prints.
pub struct NewPassword(SecretString);

impl NewPassword {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let length = raw.chars().count();
        if length < MIN_LENGTH {
            return Err(FieldError::new(
                field,
                format!("Use at least {MIN_LENGTH} characters ({RECOMMENDED_LENGTH} or more is better)."),
            ));
        }
        if length > MAX_LENGTH {
            return Err(FieldError::new(
                field,
                format!("Use at most {MAX_LENGTH} characters."),
            ));
        }
        if common_passwords().contains(raw.to_lowercase().as_str()) {
            return Err(FieldError::new(
                field,
                "This password is one of the most commonly used passwords. Choose another.",
            ));
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds() {
        assert!(NewPassword::parse("password", "short").is_err());
        assert!(NewPassword::parse("password", &"x".repeat(129)).is_err());
        assert!(NewPassword::parse("password", "correct horse battery").is_ok());
        // No composition rules: a long lower-case passphrase is fine.
        assert!(NewPassword::parse("password", "plainlowercasewords").is_ok());
    }

    #[test]
    fn common_passwords_are_refused() {
        assert_eq!(common_passwords().len(), 10_000);
        for pw in ["password", "12345678", "Iloveyou", "sunshine", "football"] {
            let e = NewPassword::parse("password", pw).err();
            assert!(
                e.is_some_and(|e| e.message.contains("commonly used")),
                "{pw} accepted"
            );
        }
    }
}
