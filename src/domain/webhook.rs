//! A webhook endpoint as someone asks for it, checked once: its URL (no SSRF, see
//! `webhooks::target`), an optional description and the event types it subscribes to.

use crate::webhooks::target::{check_endpoint_url, TargetPolicy};
use crate::webhooks::WebhookEventType;

use super::FieldError;

/// The longest description accepted.
pub const DESCRIPTION_MAX: usize = 500;

/// Where deliveries go: an absolute http(s) URL the target policy allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(String);

impl EndpointUrl {
    pub fn parse(
        field: &'static str,
        raw: &str,
        policy: &TargetPolicy,
    ) -> Result<Self, FieldError> {
        check_endpoint_url(raw, policy)
            .map(|url| Self(url.to_string()))
            .map_err(|message| FieldError::new(field, message))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the endpoint is for, in the company's words: trimmed, at most 500 characters, no
/// control or text-direction characters; empty is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(Option<String>);

impl Description {
    pub fn parse(field: &'static str, raw: Option<&str>) -> Result<Self, FieldError> {
        let raw = raw.unwrap_or_default();
        // Counted as sent, as the API's schema counts it.
        if raw.chars().count() > DESCRIPTION_MAX {
            return Err(FieldError::new(
                field,
                format!("Use at most {DESCRIPTION_MAX} characters."),
            ));
        }
        if raw
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\r' && c != '\t') || is_bidi_control(c))
        {
            return Err(FieldError::new(
                field,
                "Remove the control and text-direction characters.",
            ));
        }
        let value = raw.trim();
        Ok(Self((!value.is_empty()).then(|| value.to_owned())))
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }

    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The event types an endpoint subscribes to: at least one, each one a company can subscribe
/// to (never the test event), each once, in the order of `WebhookEventType::ALL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTypes(Vec<WebhookEventType>);

impl EventTypes {
    pub fn parse<'a>(
        field: &'static str,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, FieldError> {
        let mut chosen = Vec::new();
        for name in names {
            let known = WebhookEventType::parse(name.trim())
                .filter(|t| WebhookEventType::subscribable().any(|s| s == *t));
            match known {
                Some(t) => chosen.push(t),
                None => {
                    let shown: String = name.chars().take(60).collect();
                    return Err(FieldError::new(
                        field,
                        format!(
                            "Unknown event type \u{201c}{shown}\u{201d}. Choose from: {}.",
                            subscribable_names().join(", ")
                        ),
                    ));
                }
            }
        }
        if chosen.is_empty() {
            return Err(FieldError::new(field, "Choose at least one event type."));
        }
        Ok(Self(
            WebhookEventType::ALL
                .iter()
                .copied()
                .filter(|t| chosen.contains(t))
                .collect(),
        ))
    }

    /// As an endpoint row keeps them: comma-separated names. Names the console no longer
    /// knows are left out.
    pub fn from_stored(stored: &str) -> Self {
        Self(
            WebhookEventType::ALL
                .iter()
                .copied()
                .filter(|t| crate::webhooks::outbox::subscribes(stored, *t))
                .collect(),
        )
    }

    pub fn to_stored(&self) -> String {
        self.names().join(",")
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|t| t.as_str()).collect()
    }

    pub fn contains(&self, t: WebhookEventType) -> bool {
        self.0.contains(&t)
    }
}

/// The names an endpoint may subscribe to, in their order.
pub fn subscribable_names() -> Vec<&'static str> {
    WebhookEventType::subscribable()
        .map(|t| t.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy {
        require_https: true,
        allow_private: false,
    };

    #[test]
    fn urls_follow_the_target_policy() {
        assert!(EndpointUrl::parse("endpoint", "https://hooks.example.com/in", &STRICT).is_ok());
        let e = EndpointUrl::parse("endpoint", "http://hooks.example.com/in", &STRICT);
        assert_eq!(e.map_err(|e| e.field), Err("endpoint"));
        assert!(EndpointUrl::parse("endpoint", "https://10.0.0.1/in", &STRICT).is_err());
        assert!(EndpointUrl::parse("endpoint", "", &STRICT).is_err());
    }

    #[test]
    fn descriptions_are_optional_and_bounded() {
        assert_eq!(
            Description::parse("d", None).map(|d| d.into_inner()),
            Ok(None)
        );
        assert_eq!(
            Description::parse("d", Some("  ")).map(|d| d.into_inner()),
            Ok(None)
        );
        assert_eq!(
            Description::parse("d", Some(" CRM ")).map(|d| d.into_inner()),
            Ok(Some("CRM".into()))
        );
        assert!(Description::parse("d", Some(&"x".repeat(500))).is_ok());
        assert!(Description::parse("d", Some(&"x".repeat(501))).is_err());
        assert!(Description::parse("d", Some("a\u{202e}b")).is_err());
    }

    #[test]
    fn event_types_are_known_subscribable_and_not_empty() {
        let t = EventTypes::parse("e", ["credential_created", "new_employee", "new_employee"]);
        assert_eq!(
            t.map(|t| t.to_stored()),
            Ok("new_employee,credential_created".to_owned())
        );
        assert!(EventTypes::parse("e", Vec::<&str>::new()).is_err());
        assert!(EventTypes::parse("e", ["test"]).is_err());
        assert!(EventTypes::parse("e", ["booking_created"]).is_err());
        assert_eq!(
            EventTypes::from_stored("new_employee,gone_type").names(),
            vec!["new_employee"]
        );
    }
}
