//! SAML single sign-on against a real identity provider: tests/saml/idp.py builds and signs
//! every response with pysaml2 and the `xmlsec1` binary, so the Rust code under test takes no
//! part in making them. Python, its virtualenv (tests/saml/setup.sh) and xmlsec1 are required:
//! if any is missing these tests fail, they never skip.

mod binding;
mod enforce_ends_sessions;
mod enforce_sso;
mod forged;
mod idp;
mod in_a_browser;
mod settings;
mod sp;
mod sp_initiated;
mod vouching;
mod wrapping;
