//! Binds an SSO round trip to the browser that started it, without server-side sessions for
//! anonymous visitors: a random value in an HttpOnly cookie; the database keeps only its HMAC.
//! The PKCE verifier is derived from it and the state, so it is never stored anywhere.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;

use super::keys::Keys;

pub const COOKIE: &str = "sso_binding";

pub fn from_request(req: &HttpRequest) -> Option<String> {
    req.cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub fn new_value() -> String {
    crate::auth::keys::random_hex(32)
}

/// The cookie must come back on the identity provider's cross-site POST to the SAML ACS:
/// over https it is `SameSite=None; Secure`; on plain http (development) `Lax`.
pub fn cookie(value: &str, https: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, value.to_owned())
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(if https { SameSite::None } else { SameSite::Lax })
        .max_age(actix_web::cookie::time::Duration::minutes(15))
        .finish()
}

pub fn browser_hash(keys: &Keys, binding: &str) -> String {
    keys.opaque_hash("sso-browser", binding)
}

/// A PKCE code verifier (64 hex characters) only this browser can reproduce for this state.
pub fn pkce_verifier(keys: &Keys, binding: &str, state: &str) -> String {
    keys.opaque_hash("pkce", &format!("{binding}:{state}"))
}

/// A random value for `state`, request ids and nonces.
pub fn random_token() -> String {
    crate::auth::keys::random_hex(24)
}
