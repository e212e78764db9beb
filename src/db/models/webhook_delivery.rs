//! Deliveries of webhook events and the attempts made for them (see `webhooks::delivery`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_events};
use crate::db::DbConnection;
use crate::domain::{CompanyId, WebhookDeliveryId, WebhookEndpointId, WebhookEventId};
use crate::webhooks::DeliveryState;

use super::WebhookEndpoint;

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct WebhookDelivery {
    pub id: WebhookDeliveryId,
    pub event_id: WebhookEventId,
    pub endpoint_id: WebhookEndpointId,
    pub company_id: CompanyId,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    /// Set while a worker holds the delivery for an attempt; the attempt's outcome is only
    /// written by the worker whose lease this is.
    pub locked_until: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// One attempt: the answer's status (none when no answer came), how long it took, the first
/// bytes of the answer or the error.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct WebhookAttempt {
    pub id: String,
    pub delivery_id: WebhookDeliveryId,
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

/// A delivery claimed for an attempt, with what it sends and where.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub delivery: WebhookDelivery,
    pub payload: String,
    pub endpoint: WebhookEndpoint,
}

impl WebhookDelivery {
    /// Whether any pending delivery is due at `now`: a plain read, so an idle poll takes no
    /// write lock.
    pub fn any_due(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            webhook_deliveries::table
                .filter(webhook_deliveries::state.eq(DeliveryState::Pending))
                .filter(webhook_deliveries::next_attempt_at.le(now)),
        ))
        .get_result(conn)
    }

    /// Inside the write transaction: up to `limit` pending deliveries due at `now`, locked for
    /// this worker. On PostgreSQL `FOR UPDATE SKIP LOCKED` passes over rows another worker is
    /// claiming at this moment; on SQLite the transaction's write lock (`BEGIN IMMEDIATE`)
    /// already lets one worker in at a time. The caller then moves them past `now` (a lease)
    /// before committing, so no other worker finds them due until the lease runs out.
    pub fn lock_due(
        conn: &mut DbConnection,
        now: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<WebhookDeliveryId>> {
        let due = webhook_deliveries::table
            .filter(webhook_deliveries::state.eq(DeliveryState::Pending))
            .filter(webhook_deliveries::next_attempt_at.le(now))
            .order((webhook_deliveries::next_attempt_at, webhook_deliveries::id))
            .limit(limit)
            .select(webhook_deliveries::id);
        match conn {
            DbConnection::Postgres(c) => due.for_update().skip_locked().load(c),
            DbConnection::Sqlite(c) => due.load(c),
        }
    }

    /// Holds `ids` until `until`: not due for anyone else before, taken up again after (the
    /// worker died mid-attempt).
    pub fn lease(
        conn: &mut DbConnection,
        ids: &[WebhookDeliveryId],
        until: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(ids)))
            .set((
                webhook_deliveries::next_attempt_at.eq(until),
                webhook_deliveries::locked_until.eq(Some(until)),
            ))
            .execute(conn)
    }

    /// Pending deliveries to endpoints deleted or switched off: failed, never attempted.
    pub fn fail_undeliverable(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
        let gone = webhook_endpoints::table
            .filter(
                webhook_endpoints::enabled
                    .eq(false)
                    .or(webhook_endpoints::deleted_at.is_not_null()),
            )
            .select(webhook_endpoints::id);
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::state.eq(DeliveryState::Pending))
                .filter(webhook_deliveries::endpoint_id.eq_any(gone)),
        )
        .set((
            webhook_deliveries::state.eq(DeliveryState::Failed),
            webhook_deliveries::completed_at.eq(Some(now)),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
    }

    /// The claimed deliveries with their event's body and their endpoint.
    pub fn with_event_and_endpoint(
        conn: &mut DbConnection,
        ids: &[WebhookDeliveryId],
    ) -> QueryResult<Vec<DueDelivery>> {
        let rows: Vec<(WebhookDelivery, String, WebhookEndpoint)> = webhook_deliveries::table
            .inner_join(webhook_events::table)
            .inner_join(webhook_endpoints::table)
            .filter(webhook_deliveries::id.eq_any(ids))
            .order((webhook_deliveries::next_attempt_at, webhook_deliveries::id))
            .select((
                WebhookDelivery::as_select(),
                webhook_events::payload,
                WebhookEndpoint::as_select(),
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(delivery, payload, endpoint)| DueDelivery {
                delivery,
                payload,
                endpoint,
            })
            .collect())
    }

    /// Writes the outcome of an attempt made under the lease `lease`: `next` is `None` when
    /// the delivery is done (`state` succeeded or failed), else when to try again. False when
    /// the lease was no longer this worker's (it ran out and another worker took the delivery
    /// over); the attempt is still recorded by the caller.
    pub fn settle(
        conn: &mut DbConnection,
        id: &WebhookDeliveryId,
        lease: NaiveDateTime,
        state: DeliveryState,
        next: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let ours = webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::state.eq(DeliveryState::Pending))
            .filter(webhook_deliveries::locked_until.eq(Some(lease)));
        let changed = diesel::update(ours)
            .set((
                webhook_deliveries::state.eq(state),
                webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
                webhook_deliveries::last_attempt_at.eq(Some(now)),
                webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
                webhook_deliveries::next_attempt_at.eq(next.unwrap_or(now)),
                webhook_deliveries::completed_at.eq(next.is_none().then_some(now)),
            ))
            .execute(conn)?;
        Ok(changed == 1)
    }

    /// The deliveries of one event, oldest endpoint first (tests and the delivery log).
    pub fn of_event(conn: &mut DbConnection, event: &WebhookEventId) -> QueryResult<Vec<Self>> {
        webhook_deliveries::table
            .filter(webhook_deliveries::event_id.eq(event))
            .order(webhook_deliveries::created_at)
            .select(Self::as_select())
            .load(conn)
    }
}

impl WebhookAttempt {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(webhook_attempts::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    /// A delivery's attempts, oldest first.
    pub fn of_delivery(
        conn: &mut DbConnection,
        delivery: &WebhookDeliveryId,
    ) -> QueryResult<Vec<Self>> {
        webhook_attempts::table
            .filter(webhook_attempts::delivery_id.eq(delivery))
            .order((webhook_attempts::attempted_at, webhook_attempts::id))
            .select(Self::as_select())
            .load(conn)
    }
}

impl WebhookEndpoint {
    /// A failed attempt: starts the run of failures if none is running. Returns when the
    /// run started.
    pub fn note_failure(
        conn: &mut DbConnection,
        id: &WebhookEndpointId,
        now: NaiveDateTime,
    ) -> QueryResult<Option<NaiveDateTime>> {
        diesel::update(
            webhook_endpoints::table
                .filter(webhook_endpoints::id.eq(id))
                .filter(webhook_endpoints::failing_since.is_null()),
        )
        .set(webhook_endpoints::failing_since.eq(Some(now)))
        .execute(conn)?;
        webhook_endpoints::table
            .filter(webhook_endpoints::id.eq(id))
            .select(webhook_endpoints::failing_since)
            .first(conn)
    }

    /// A successful attempt ends the run of failures.
    pub fn note_success(conn: &mut DbConnection, id: &WebhookEndpointId) -> QueryResult<usize> {
        diesel::update(
            webhook_endpoints::table
                .filter(webhook_endpoints::id.eq(id))
                .filter(webhook_endpoints::failing_since.is_not_null()),
        )
        .set(webhook_endpoints::failing_since.eq(None::<NaiveDateTime>))
        .execute(conn)
    }

    /// Switches an endpoint off after its failures; false if it already was off.
    pub fn disable(
        conn: &mut DbConnection,
        id: &WebhookEndpointId,
        reason: &str,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let changed = diesel::update(
            webhook_endpoints::table
                .filter(webhook_endpoints::id.eq(id))
                .filter(webhook_endpoints::enabled.eq(true)),
        )
        .set((
            webhook_endpoints::enabled.eq(false),
            webhook_endpoints::disabled_at.eq(Some(now)),
            webhook_endpoints::disabled_reason.eq(Some(reason)),
            webhook_endpoints::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    }
}
