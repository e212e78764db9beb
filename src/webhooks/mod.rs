//! Webhooks (issue 12 §2): a company registers HTTPS endpoints; changes write events to an
//! outbox in their own transaction; the job runner delivers them, signed by the Standard
//! Webhooks specification, retrying with backoff.
//!
//! - [`events`]: the event types a company can subscribe to, and delivery states.
//! - [`secret`]: the per-endpoint `whsec_…` signing secret, encrypted at rest.
//! - [`target`]: where a webhook may be sent (no SSRF).
//! - [`outbox`]: writing an event (and one delivery per subscribed endpoint) inside the
//!   caller's transaction.
//! - [`emit`]: which change sends which event (from the audit record, in its transaction).
//! - [`signing`]: the Standard Webhooks signature headers.
//! - [`client`]: the HTTP client deliveries use (timeout, no redirects, addresses checked at
//!   connect time).
//! - [`delivery`]: the worker that claims due deliveries, sends them and records the outcome.

pub mod client;
pub mod delivery;
pub mod emit;
pub mod events;
pub mod outbox;
pub mod secret;
pub mod signing;
pub mod target;

pub use events::{DeliveryState, WebhookEventType};

/// meetergo's limit: at most this many webhooks per company.
pub const MAX_ENDPOINTS_PER_COMPANY: i64 = 6;
