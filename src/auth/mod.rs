//! Who is asking: passwords, browser sessions, CSRF, API credentials and rate limits.

pub mod credential_cache;
pub mod csrf;
pub mod keys;
pub mod oidc;
pub mod password;
pub mod rate_limit;
pub mod saml;
pub mod session;
pub mod session_store;
pub mod sso_binding;
pub mod tokens;
pub mod totp;
