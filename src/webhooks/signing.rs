//! Signing by the Standard Webhooks specification: `webhook-signature` is
//! `v1,<base64 of HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")>`, the key being
//! the base64 part of the `whsec_…` secret. During a rotation both secrets sign and the header
//! carries both signatures, space-separated, so a receiver holding either verifies.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::secret::SigningSecret;

/// One `v1,…` signature, or `None` for a secret that is not `whsec_<base64>`.
pub fn sign(secret: &SigningSecret, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = secret.key_bytes()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per secret (the current one first).
pub fn signature_header(
    secrets: &[SigningSecret],
    id: &str,
    timestamp: i64,
    body: &str,
) -> Option<String> {
    let signatures = secrets
        .iter()
        .map(|s| sign(s, id, timestamp, body))
        .collect::<Option<Vec<_>>>()?;
    (!signatures.is_empty()).then(|| signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector published with the specification (and its reference libraries).
    #[test]
    fn signs_the_published_test_vector() {
        let secret = SigningSecret::from_clear("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(
            sign(
                &secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                r#"{"test": 2432232314}"#
            )
            .as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn a_rotation_sends_both_signatures_and_a_bad_secret_none() {
        let (old, new) = (SigningSecret::generate(), SigningSecret::generate());
        let expected = format!(
            "{} {}",
            sign(&new, "msg_1", 1, "{}").unwrap_or_default(),
            sign(&old, "msg_1", 1, "{}").unwrap_or_default()
        );
        let header = signature_header(&[new, old], "msg_1", 1, "{}");
        assert_eq!(header.as_deref(), Some(expected.as_str()));
        assert_eq!(
            signature_header(&[SigningSecret::from_clear("nope")], "msg_1", 1, "{}"),
            None
        );
    }
}
