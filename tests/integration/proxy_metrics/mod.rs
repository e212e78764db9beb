//! Behind a reverse proxy (issue 13 §1): one client address for limits, audit, sessions and
//! credentials, taken from `X-Forwarded-For` only when the peer is a trusted proxy; and the
//! Prometheus metrics on their own listener (§5).

mod client_ip;
pub(crate) mod metrics;
