//! Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps,
//! six digits, what every authenticator app speaks. A code is accepted for the current step
//! and one step either side (clock drift); the caller refuses a step already used.
//!
//! The secret is kept AES-256-GCM encrypted under a key derived from `SECRET_KEY`
//! (`Keys::two_factor_key`), bound to its user's id, so a copy of the database alone cannot
//! produce codes.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

pub const STEP_SECS: i64 = 30;
const DIGITS: u32 = 6;
const SECRET_BYTES: usize = 20;

/// A fresh 160-bit secret (RFC 4226's recommended length).
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

/// The secret as people type it into an authenticator: base32 without padding.
pub fn to_base32(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// The 30-second step `unix_secs` falls in.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The six-digit code of `step` (RFC 4226 section 5.3, dynamic truncation).
pub fn code_at(secret: &[u8], step: i64) -> String {
    let Ok(mut mac) = <Hmac<Sha1> as Mac>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last().copied().unwrap_or(0) & 0x0f);
    let window: [u8; 4] = digest
        .get(offset..offset + 4)
        .and_then(|w| w.try_into().ok())
        .unwrap_or([0; 4]);
    let value = u32::from_be_bytes(window) & 0x7fff_ffff;
    format!(
        "{:0width$}",
        value % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

/// The step whose code `submitted` is, within one step of `now_step`; `None` when none is.
/// Spaces people type between digit groups are ignored; the comparison takes constant time.
pub fn matching_step(secret: &[u8], submitted: &str, now_step: i64) -> Option<i64> {
    use subtle::ConstantTimeEq;
    let digits: String = submitted.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != DIGITS as usize || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    (now_step - 1..=now_step + 1)
        .find(|&step| bool::from(code_at(secret, step).as_bytes().ct_eq(digits.as_bytes())))
}

/// The `otpauth://` URI authenticator apps read from the QR code.
pub fn provisioning_uri(secret: &[u8], account: &str, issuer: &str) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        to_base32(secret),
        enc(issuer)
    )
}

/// The URI as a QR code in SVG, ready for an `<img src="data:…">` (the CSP allows data: images).
pub fn qr_svg_data_url(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

/// `nonce ‖ ciphertext` in base64, the user id as associated data.
pub fn encrypt_secret(key: &[u8; 32], user_id: &str, secret: &[u8]) -> Option<String> {
    let cipher = Aes256Gcm::new_from_slice(key).ok()?;
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret,
                aad: user_id.as_bytes(),
            },
        )
        .ok()?;
    let mut out = nonce.to_vec();
    out.extend(sealed);
    Some(base64::engine::general_purpose::STANDARD.encode(out))
}

/// The secret back; `None` when the key or the user differs or the text was altered.
pub fn decrypt_secret(key: &[u8; 32], user_id: &str, stored: &str) -> Option<Vec<u8>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(12);
    Aes256Gcm::new_from_slice(key)
        .ok()?
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: user_id.as_bytes(),
            },
        )
        .ok()
}

/// Ten recovery codes: 10 random base32 characters each, shown as `xxxxx-xxxxx`.
pub fn new_recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let mut bytes = [0u8; 7];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let text = data_encoding::BASE32_NOPAD.encode(&bytes).to_lowercase();
            let (a, b) = text.split_at(5.min(text.len()));
            format!("{a}-{}", b.get(..5).unwrap_or(b))
        })
        .collect()
}

/// A recovery code as typed, reduced to what is hashed: lower case, no dashes or spaces.
pub fn normalize_recovery_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (eight digits there; the last six are ours).
    #[test]
    fn matches_the_rfc_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            assert_eq!(code_at(secret, step_at(time)), eight[2..]);
        }
    }

    #[test]
    fn accepts_one_step_either_side_only() {
        let secret = new_secret();
        let now = 1_000_000;
        for (step, ok) in [
            (now - 2, false),
            (now - 1, true),
            (now, true),
            (now + 1, true),
            (now + 2, false),
        ] {
            let found = matching_step(&secret, &code_at(&secret, step), now);
            assert_eq!(found.is_some(), ok, "step offset {}", step - now);
        }
        assert_eq!(matching_step(&secret, "12a456", now), None);
    }

    #[test]
    fn the_secret_round_trips_only_for_its_user_and_key() {
        let key = [7u8; 32];
        let stored = encrypt_secret(&key, "u1", b"secret").unwrap_or_default();
        assert_eq!(
            decrypt_secret(&key, "u1", &stored),
            Some(b"secret".to_vec())
        );
        assert_eq!(decrypt_secret(&key, "u2", &stored), None);
        assert_eq!(decrypt_secret(&[8u8; 32], "u1", &stored), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalize() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 11));
        assert_eq!(normalize_recovery_code(" ABCDE-fghij "), "abcdefghij");
        assert!(qr_svg_data_url("otpauth://totp/x").is_some());
    }
}
