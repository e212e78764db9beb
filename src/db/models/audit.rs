use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{audit_events, personal_access_tokens, platform_api_keys};
use crate::db::DbConnection;
use crate::domain::{AuditEventId, AuditKind, CompanyId};

/// What the audit log page filters by.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub kind: Option<AuditKind>,
    pub from: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub company_id: Option<CompanyId>,
    pub actor_id: Option<String>,
    pub credential_id: Option<String>,
    pub kind: AuditKind,
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

    /// A page of the company's events matching `filter`, newest first, with the total count.
    pub fn search(
        conn: &mut DbConnection,
        company: &CompanyId,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> QueryResult<(Vec<Self>, i64)> {
        let query = || {
            let mut q = audit_events::table
                .filter(audit_events::company_id.eq(company))
                .into_boxed();
            if let Some(actor) = &filter.actor {
                q = q.filter(audit_events::actor_id.eq(actor.clone()));
            }
            if let Some(kind) = &filter.kind {
                q = q.filter(audit_events::kind.eq(*kind));
            }
            if let Some(from) = filter.from {
                q = q.filter(audit_events::created_at.ge(from));
            }
            if let Some(until) = filter.until {
                q = q.filter(audit_events::created_at.lt(until));
            }
            q
        };
        let total = query().count().get_result(conn)?;
        let rows = query()
            .order((audit_events::created_at.desc(), audit_events::id.desc()))
            .limit(limit)
            .offset(offset)
            .load(conn)?;
        Ok((rows, total))
    }

    /// The names of the tokens and API keys of the company that `ids` name, for the log to say
    /// "token ‘CI’" instead of an id: (id, "token ‘CI’"). Ids of anything else are left out.
    pub fn credential_names(
        conn: &mut DbConnection,
        company: &CompanyId,
        ids: &[String],
    ) -> QueryResult<Vec<(String, String)>> {
        let tokens: Vec<(String, String)> = personal_access_tokens::table
            .inner_join(crate::db::schema::users::table)
            .filter(crate::db::schema::users::company_id.eq(company))
            .filter(personal_access_tokens::id.eq_any(ids))
            .select((personal_access_tokens::id, personal_access_tokens::name))
            .load(conn)?;
        let keys: Vec<(String, String)> = platform_api_keys::table
            .filter(platform_api_keys::company_id.eq(company))
            .filter(platform_api_keys::id.eq_any(ids))
            .select((platform_api_keys::id, platform_api_keys::name))
            .load(conn)?;
        Ok(tokens
            .into_iter()
            .map(|(id, name)| (id, format!("token ‘{name}’")))
            .chain(
                keys.into_iter()
                    .map(|(id, name)| (id, format!("API key ‘{name}’"))),
            )
            .collect())
    }

    pub fn of_kind(conn: &mut DbConnection, kind: AuditKind) -> QueryResult<Vec<Self>> {
        audit_events::table
            .filter(audit_events::kind.eq(kind))
            .order(audit_events::created_at.asc())
            .load(conn)
    }
}
