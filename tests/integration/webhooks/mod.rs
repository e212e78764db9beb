//! Webhook delivery (issue 12 §2): events written with the change that caused them, delivered
//! signed to a real receiver that verifies each request with the official `standardwebhooks`
//! library (tests/webhooks/receiver.py), retried with backoff, endpoints disabled after 3 days
//! of failures, at-least-once across a crash, one worker per delivery with two instances, and
//! no delivery to non-public addresses.

mod delivery_events;
mod delivery_failures;
mod delivery_instances;
mod delivery_safety;
mod support;
