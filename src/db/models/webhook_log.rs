//! The delivery log of a webhook endpoint: its deliveries newest first, each with its
//! attempts, as the settings page shows them; and the two changes the page makes to a
//! delivery ("Redeliver", and failing what is pending when an endpoint goes away).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{webhook_attempts, webhook_deliveries, webhook_events};
use crate::db::DbConnection;
use crate::domain::{CompanyId, WebhookDeliveryId, WebhookEndpointId, WebhookEventId};
use crate::webhooks::{DeliveryState, WebhookEventType};

/// One delivery of one event to the endpoint.
#[derive(Debug, Clone, Queryable)]
pub struct DeliveryLogEntry {
    pub id: WebhookDeliveryId,
    /// Also the `webhook-id` header of every attempt.
    pub event_id: WebhookEventId,
    pub event_type: WebhookEventType,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// One attempt at a delivery, as the delivery worker recorded it.
#[derive(Debug, Clone, Queryable)]
pub struct AttemptLogEntry {
    pub delivery_id: WebhookDeliveryId,
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

/// Where a delivery is, for "Redeliver": its endpoint and state.
#[derive(Debug, Clone, Queryable)]
pub struct DeliveryRef {
    pub id: WebhookDeliveryId,
    pub endpoint_id: WebhookEndpointId,
    pub state: DeliveryState,
}

pub struct DeliveryLog;

impl DeliveryLog {
    /// A page of the endpoint's deliveries, newest first.
    pub fn page(
        conn: &mut DbConnection,
        endpoint: &WebhookEndpointId,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<DeliveryLogEntry>> {
        webhook_deliveries::table
            .inner_join(webhook_events::table)
            .filter(webhook_deliveries::endpoint_id.eq(endpoint))
            .order((
                webhook_deliveries::created_at.desc(),
                webhook_deliveries::id.desc(),
            ))
            .offset(offset)
            .limit(limit)
            .select((
                webhook_deliveries::id,
                webhook_deliveries::event_id,
                webhook_events::event_type,
                webhook_deliveries::state,
                webhook_deliveries::attempts,
                webhook_deliveries::next_attempt_at,
                webhook_deliveries::last_attempt_at,
                webhook_deliveries::completed_at,
                webhook_deliveries::created_at,
            ))
            .load(conn)
    }

    pub fn count(conn: &mut DbConnection, endpoint: &WebhookEndpointId) -> QueryResult<i64> {
        webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(endpoint))
            .count()
            .get_result(conn)
    }

    /// The attempts at these deliveries, oldest first.
    pub fn attempts_of(
        conn: &mut DbConnection,
        deliveries: &[WebhookDeliveryId],
    ) -> QueryResult<Vec<AttemptLogEntry>> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = deliveries.iter().map(|d| d.as_str()).collect();
        webhook_attempts::table
            .filter(webhook_attempts::delivery_id.eq_any(ids))
            .order((webhook_attempts::attempted_at, webhook_attempts::id))
            .select((
                webhook_attempts::delivery_id,
                webhook_attempts::attempted_at,
                webhook_attempts::status_code,
                webhook_attempts::latency_ms,
                webhook_attempts::response_excerpt,
                webhook_attempts::error,
            ))
            .load(conn)
    }

    /// The delivery, if it belongs to `company`.
    pub fn find_for_company(
        conn: &mut DbConnection,
        company: &CompanyId,
        id: &WebhookDeliveryId,
    ) -> QueryResult<Option<DeliveryRef>> {
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::company_id.eq(company))
            .select((
                webhook_deliveries::id,
                webhook_deliveries::endpoint_id,
                webhook_deliveries::state,
            ))
            .first(conn)
            .optional()
    }

    /// Back to pending, due now and claimed by nobody: the worker attempts it on its next
    /// round, with the same `webhook-id`.
    pub fn redeliver(
        conn: &mut DbConnection,
        id: &WebhookDeliveryId,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let n = diesel::update(webhook_deliveries::table.find(id))
            .set((
                webhook_deliveries::state.eq(DeliveryState::Pending),
                // A fresh run of retries, with the same `webhook-id`.
                webhook_deliveries::attempts.eq(0),
                webhook_deliveries::next_attempt_at.eq(now),
                webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
                webhook_deliveries::completed_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Gives up the endpoint's pending deliveries (it was deleted or switched off).
    pub fn fail_pending(
        conn: &mut DbConnection,
        endpoint: &WebhookEndpointId,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::endpoint_id.eq(endpoint))
                .filter(webhook_deliveries::state.eq(DeliveryState::Pending)),
        )
        .set((
            webhook_deliveries::state.eq(DeliveryState::Failed),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::completed_at.eq(Some(now)),
        ))
        .execute(conn)
    }
}
