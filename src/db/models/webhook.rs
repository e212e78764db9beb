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

/// Endpoint changes from Settings → Webhooks and the API (`services::webhooks`).
impl WebhookEndpoint {
    /// Holds the company's row until the transaction ends: two creations at once count the
    /// endpoints one after the other, so the limit holds (the same lock as `ScimConfig::hold`).
    pub fn hold_company(conn: &mut DbConnection, company: &CompanyId) -> QueryResult<()> {
        use crate::db::schema::companies;
        diesel::update(companies::table.find(company))
            .set(companies::id.eq(companies::id))
            .execute(conn)
            .map(|_| ())
    }

    /// The company's endpoints that were not deleted (enabled or not).
    pub fn count_live(conn: &mut DbConnection, company: &CompanyId) -> QueryResult<i64> {
        webhook_endpoints::table
            .filter(webhook_endpoints::company_id.eq(company))
            .filter(webhook_endpoints::deleted_at.is_null())
            .count()
            .get_result(conn)
    }

    /// Writes URL, description and event types.
    pub fn save_settings(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::update(webhook_endpoints::table.find(&self.id))
            .set((
                webhook_endpoints::endpoint.eq(&self.endpoint),
                webhook_endpoints::description.eq(&self.description),
                webhook_endpoints::event_types.eq(&self.event_types),
                webhook_endpoints::updated_at.eq(self.updated_at),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Writes the enabled state; enabling clears why it was off and the run of failures.
    pub fn save_enabled(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::update(webhook_endpoints::table.find(&self.id))
            .set((
                webhook_endpoints::enabled.eq(self.enabled),
                webhook_endpoints::disabled_at.eq(self.disabled_at),
                webhook_endpoints::disabled_reason.eq(&self.disabled_reason),
                webhook_endpoints::failing_since.eq(self.failing_since),
                webhook_endpoints::updated_at.eq(self.updated_at),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Writes the current and the previous signing secret.
    pub fn save_secrets(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::update(webhook_endpoints::table.find(&self.id))
            .set((
                webhook_endpoints::secret_encrypted.eq(&self.secret_encrypted),
                webhook_endpoints::secret_prefix.eq(&self.secret_prefix),
                webhook_endpoints::previous_secret_encrypted.eq(&self.previous_secret_encrypted),
                webhook_endpoints::previous_secret_expires_at.eq(self.previous_secret_expires_at),
                webhook_endpoints::updated_at.eq(self.updated_at),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Marks the endpoint deleted; false when it already was (a request at the same moment).
    pub fn soft_delete(
        conn: &mut DbConnection,
        id: &WebhookEndpointId,
        at: NaiveDateTime,
    ) -> QueryResult<bool> {
        let n = diesel::update(
            webhook_endpoints::table
                .find(id)
                .filter(webhook_endpoints::deleted_at.is_null()),
        )
        .set((
            webhook_endpoints::deleted_at.eq(Some(at)),
            webhook_endpoints::updated_at.eq(at),
        ))
        .execute(conn)?;
        Ok(n == 1)
    }
}
