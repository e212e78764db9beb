use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::company_domains;
use crate::db::DbConnection;
use crate::domain::CompanyId;

/// A domain a company claims, and whether it has proven it (`verified_at`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = company_domains)]
pub struct CompanyDomain {
    pub company_id: CompanyId,
    pub domain: String,
    /// The value of the TXT record that proves the domain: `meetergo-console-verification=<token>`.
    pub dns_token: String,
    pub created_at: NaiveDateTime,
    pub verified_at: Option<NaiveDateTime>,
}

impl CompanyDomain {
    pub fn is_verified(&self) -> bool {
        self.verified_at.is_some()
    }

    pub fn of_company(conn: &mut DbConnection, company: &CompanyId) -> QueryResult<Vec<Self>> {
        company_domains::table
            .filter(company_domains::company_id.eq(company))
            .order(company_domains::domain.asc())
            .load(conn)
    }

    pub fn find(
        conn: &mut DbConnection,
        company: &CompanyId,
        domain: &str,
    ) -> QueryResult<Option<Self>> {
        company_domains::table
            .find((company, domain))
            .first(conn)
            .optional()
    }

    /// The company that holds this domain verified, if any (at most one: a unique index).
    pub fn verified_owner(conn: &mut DbConnection, domain: &str) -> QueryResult<Option<CompanyId>> {
        company_domains::table
            .filter(company_domains::domain.eq(domain))
            .filter(company_domains::verified_at.is_not_null())
            .select(company_domains::company_id)
            .first(conn)
            .optional()
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(company_domains::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn mark_verified(
        conn: &mut DbConnection,
        company: &CompanyId,
        domain: &str,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(company_domains::table.find((company, domain)))
            .filter(company_domains::verified_at.is_null())
            .set(company_domains::verified_at.eq(Some(at)))
            .execute(conn)
    }

    /// Forgets the company's claims that are not in `keep`.
    pub fn delete_except(
        conn: &mut DbConnection,
        company: &CompanyId,
        keep: &[String],
    ) -> QueryResult<usize> {
        diesel::delete(
            company_domains::table
                .filter(company_domains::company_id.eq(company))
                .filter(company_domains::domain.ne_all(keep)),
        )
        .execute(conn)
    }
}
