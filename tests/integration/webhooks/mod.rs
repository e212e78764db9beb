//! Webhooks (issue 12 §2): the management side — the API, Settings → Webhooks and the
//! delivery log.

mod api;
mod in_a_browser;
mod settings;

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
