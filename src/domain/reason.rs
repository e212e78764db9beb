//! Why someone did something to another person's thing, in their own words: shown to that
//! person in a mail and kept in the audit log.

use super::values::{is_bidi_control, FieldError};

/// An optional free-text reason, trimmed; empty means none was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reason(Option<String>);

impl Reason {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        if value.is_empty() {
            return Ok(Self(None));
        }
        if value.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                field,
                format!("Use at most {} characters.", Self::MAX_CHARS),
            ));
        }
        // Line breaks are fine in a reason; what hides or reorders text is not (it would
        // make the mail say something else than what the admin saw).
        if value
            .chars()
            .any(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_bidi_control(c))
        {
            return Err(FieldError::new(
                field,
                "Remove the control and text-direction characters.",
            ));
        }
        Ok(Self(Some(value.to_owned())))
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_optional_capped_and_plain() {
        assert_eq!(Reason::parse("reason", "  ").map(|r| r.0), Ok(None));
        assert_eq!(
            Reason::parse("reason", " left the team\n")
                .ok()
                .and_then(|r| r.0),
            Some("left the team".to_owned())
        );
        assert!(Reason::parse("reason", &"x".repeat(501)).is_err());
        assert!(Reason::parse("reason", &"x".repeat(500)).is_ok());
        assert!(Reason::parse("reason", "a\u{0}b").is_err());
        assert!(Reason::parse("reason", "a\u{202E}b").is_err());
        assert!(Reason::parse("reason", "line one\nline two").is_ok());
    }
}
