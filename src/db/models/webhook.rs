use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::webhook_endpoints;
use crate::db::DbConnection;
use crate::domain::{CompanyId, UserId, WebhookEndpointId};

/// A company's webhook endpoint. `secret_encrypted` (and the previous secret during a
/// rotation) decrypt only with `SECRET_KEY` (see `webhooks::secret`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = webhook_endpoints)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub company_id: CompanyId,
    pub endpoint: String,
    pub description: Option<String>,
    /// Comma-separated event type names (see `webhooks::WebhookEventType`).
    pub event_types: String,
    pub secret_encrypted: String,
    pub secret_prefix: String,
    pub previous_secret_encrypted: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub enabled: bool,
    pub disabled_at: Option<NaiveDateTime>,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<NaiveDateTime>,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

impl WebhookEndpoint {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(webhook_endpoints::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    /// The endpoint, if it belongs to `company` and was not deleted.
    pub fn find_for_company(
        conn: &mut DbConnection,
        company: &CompanyId,
        id: &WebhookEndpointId,
    ) -> QueryResult<Option<Self>> {
        webhook_endpoints::table
            .filter(webhook_endpoints::id.eq(id))
            .filter(webhook_endpoints::company_id.eq(company))
            .filter(webhook_endpoints::deleted_at.is_null())
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The company's endpoints that were not deleted, oldest first.
    pub fn list_for_company(
        conn: &mut DbConnection,
        company: &CompanyId,
    ) -> QueryResult<Vec<Self>> {
        webhook_endpoints::table
            .filter(webhook_endpoints::company_id.eq(company))
            .filter(webhook_endpoints::deleted_at.is_null())
            .order((webhook_endpoints::created_at, webhook_endpoints::id))
            .select(Self::as_select())
            .load(conn)
    }
}
