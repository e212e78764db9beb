//! What every test shares: the app on port 0 against a fresh database (`app`), one client
//! abstraction for anonymous, browser and token callers (`client`), reading pages (`html`),
//! the database (`db`), fixtures made through the product (`fixtures`), faked time (`time`),
//! the real protocol peers and browser (`oidc`, `chrome`), two instances behind a real nginx
//! (`fleet`), and a Redis of the test's own (`redis`).

pub mod app;
pub mod chrome;
pub mod client;
pub mod db;
pub mod dns;
pub mod fixtures;
pub mod fleet;
pub mod html;
pub mod oidc;
pub mod redis;
pub mod time;

pub use app::{backend, fresh_database, reserve_port, TempDir, TestApp};
pub use client::{Browser, Reply, RequestHelper, TokenUser};
pub use fixtures::{email, random_domain, random_id, Person};
pub use html::csrf_in;
pub use oidc::{OidcProvider, OIDC_CLIENT_ID, OIDC_PROVIDER_KEY};

/// The password of every account the tests make.
pub const PASSWORD: &str = "a sturdy passphrase for tests";
