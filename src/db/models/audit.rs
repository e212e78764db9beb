use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::audit_events;
use crate::db::DbConnection;
use crate::domain::{AuditEventId, CompanyId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub company_id: Option<CompanyId>,
    pub actor_id: Option<String>,
    pub credential_id: Option<String>,
    pub kind: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: NaiveDateTime,
}

impl AuditEvent {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(audit_events::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn recent_for_company(
        conn: &mut DbConnection,
        company: &CompanyId,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        audit_events::table
            .filter(audit_events::company_id.eq(company))
            .order(audit_events::created_at.desc())
            .limit(limit)
            .load(conn)
    }

    pub fn of_kind(conn: &mut DbConnection, kind: &str) -> QueryResult<Vec<Self>> {
        audit_events::table
            .filter(audit_events::kind.eq(kind))
            .order(audit_events::created_at.asc())
            .load(conn)
    }
}
