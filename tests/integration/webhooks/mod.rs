//! Webhooks (issue 12 §2). The management side: the API, Settings → Webhooks and the delivery
//! log. The delivery side: events written with the change that caused them, delivered signed to
//! a real receiver that verifies each request with the official `standardwebhooks` library
//! (tests/webhooks/receiver.py), retried with backoff, endpoints disabled after 3 days of
//! failures, at-least-once across a crash, one worker per delivery with two instances, and no
//! delivery to non-public addresses.

mod api;
mod delivery_events;
mod delivery_failures;
mod delivery_instances;
mod delivery_safety;
mod in_a_browser;
mod settings;
mod support;

use diesel::prelude::*;
use meetergo_console::db::models::WebhookEndpoint;
use meetergo_console::db::schema::webhook_endpoints;

/// The stored endpoint (deleted or not).
pub fn stored_endpoint(app: &crate::helpers::TestApp, id: &str) -> WebhookEndpoint {
    webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(id))
        .select(WebhookEndpoint::as_select())
        .first(&mut *crate::helpers::db::conn(app))
        .expect("the endpoint is stored")
}
