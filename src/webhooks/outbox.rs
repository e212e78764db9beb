//! The outbox: an event is written in the same transaction as the change that caused it,
//! with one pending delivery for every enabled endpoint of the company subscribed to its type.
//! If the change rolls back, so does the event; if it commits, the job runner delivers it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{DeliveryState, WebhookEventType};
use crate::db::schema::{webhook_deliveries, webhook_endpoints, webhook_events};
use crate::db::DbConnection;
use crate::domain::{CompanyId, WebhookDeliveryId, WebhookEndpointId, WebhookEventId};

/// The body every delivery of the event carries: `{"webhookType": …, …fields}`. `fields` is
/// the event's own data (an object; anything else is put under `data`). Never a secret.
pub fn payload(event_type: WebhookEventType, fields: serde_json::Value) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    body.insert("webhookType".into(), event_type.as_str().into());
    match fields {
        serde_json::Value::Object(map) => body.extend(map),
        serde_json::Value::Null => {}
        other => {
            body.insert("data".into(), other);
        }
    }
    serde_json::Value::Object(body)
}

/// Whether an endpoint's stored `event_types` list names `event_type`.
pub fn subscribes(event_types: &str, event_type: WebhookEventType) -> bool {
    event_types
        .split(',')
        .any(|t| t.trim() == event_type.as_str())
}

/// Records `event_type` for `company` and a delivery to each enabled endpoint subscribed to
/// it. Call it inside the transaction of the change. Writes nothing (and returns `None`) when
/// no endpoint wants the event.
pub fn enqueue(
    conn: &mut DbConnection,
    company: &CompanyId,
    event_type: WebhookEventType,
    fields: serde_json::Value,
    now: NaiveDateTime,
) -> QueryResult<Option<WebhookEventId>> {
    let endpoints: Vec<(String, String)> = webhook_endpoints::table
        .filter(webhook_endpoints::company_id.eq(company.as_str()))
        .filter(webhook_endpoints::enabled.eq(true))
        .filter(webhook_endpoints::deleted_at.is_null())
        .select((webhook_endpoints::id, webhook_endpoints::event_types))
        .load(conn)?;
    let targets: Vec<String> = endpoints
        .into_iter()
        .filter(|(_, types)| subscribes(types, event_type))
        .map(|(id, _)| id)
        .collect();
    if targets.is_empty() {
        return Ok(None);
    }
    insert_event(conn, company, event_type, fields, &targets, now).map(Some)
}

/// Records `event_type` for one endpoint only, whatever it subscribes to ("Send test event").
pub fn enqueue_to(
    conn: &mut DbConnection,
    company: &CompanyId,
    endpoint: &WebhookEndpointId,
    event_type: WebhookEventType,
    fields: serde_json::Value,
    now: NaiveDateTime,
) -> QueryResult<WebhookEventId> {
    insert_event(
        conn,
        company,
        event_type,
        fields,
        &[endpoint.as_str().to_owned()],
        now,
    )
}

fn insert_event(
    conn: &mut DbConnection,
    company: &CompanyId,
    event_type: WebhookEventType,
    fields: serde_json::Value,
    endpoints: &[String],
    now: NaiveDateTime,
) -> QueryResult<WebhookEventId> {
    // The id doubles as the `webhook-id` header: the same on every attempt and redelivery.
    let event_id = WebhookEventId::new();
    let body = payload(event_type, fields).to_string();
    diesel::insert_into(webhook_events::table)
        .values((
            webhook_events::id.eq(event_id.as_str()),
            webhook_events::company_id.eq(company.as_str()),
            webhook_events::event_type.eq(event_type.as_str()),
            webhook_events::payload.eq(&body),
            webhook_events::created_at.eq(now),
        ))
        .execute(conn)?;
    for endpoint in endpoints {
        diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::id.eq(WebhookDeliveryId::new().as_str()),
                webhook_deliveries::event_id.eq(event_id.as_str()),
                webhook_deliveries::endpoint_id.eq(endpoint),
                webhook_deliveries::company_id.eq(company.as_str()),
                webhook_deliveries::state.eq(DeliveryState::Pending.as_str()),
                webhook_deliveries::attempts.eq(0),
                webhook_deliveries::next_attempt_at.eq(now),
                webhook_deliveries::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(event_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_puts_the_type_on_top_and_keeps_the_fields() {
        let body = payload(
            WebhookEventType::NewEmployee,
            serde_json::json!({"email": "a@example.com"}),
        );
        assert_eq!(body["webhookType"], "new_employee");
        assert_eq!(body["email"], "a@example.com");
    }

    #[test]
    fn subscription_matches_whole_names_only() {
        assert!(subscribes(
            "new_employee, credential_created",
            WebhookEventType::CredentialCreated
        ));
        assert!(!subscribes(
            "credential_created_x",
            WebhookEventType::CredentialCreated
        ));
    }
}
