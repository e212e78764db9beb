//! One integration test binary; its modules mirror the route tree.

// Test code: a failed unwrap is a failed test (see clippy.toml).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod account;
mod api;
mod auth_cache;
mod bad_input;
mod browser;
mod checklist;
mod concurrent_writes;
mod db_outage;
mod domains;
mod fleet;
mod gdpr;
mod helpers;
mod hostile;
mod lifecycle_inventory;
mod lifecycle_jobs;
mod lifecycle_rotation;
mod lifecycle_usage;
mod pages;
mod paths_and_time;
mod proxy_metrics;
mod races;
mod scim;
mod shared_limits;
mod shutdown;
mod sign_in;
mod sso_oidc;
mod sso_saml;
mod team;
mod webhooks;
