use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::companies;
use crate::db::DbConnection;
use crate::domain::{CompanyId, Slug};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = companies)]
pub struct Company {
    pub id: CompanyId,
    pub name: String,
    pub slug: String,
    pub require_invitation: bool,
    pub allowed_domains: String,
    pub created_at: NaiveDateTime,
    pub sso_enforced: bool,
    /// Password sign-ins must pass two-factor; members without it enrol first.
    pub require_two_factor: bool,
    /// The longest a personal access token may live, in days; None: no limit.
    pub max_pat_lifetime_days: Option<i32>,
    /// Off: only owners and admins create personal access tokens.
    pub members_may_create_pats: bool,
}

impl Company {
    pub fn find(conn: &mut DbConnection, id: &CompanyId) -> QueryResult<Self> {
        companies::table.find(id).first(conn)
    }

    pub fn find_by_slug(conn: &mut DbConnection, slug: &str) -> QueryResult<Option<Self>> {
        companies::table
            .filter(companies::slug.eq(slug))
            .first(conn)
            .optional()
    }

    /// A slug no other company has: the name's slug, or it with the first free number.
    pub fn free_slug(conn: &mut DbConnection, name: &str) -> QueryResult<Slug> {
        let base = Slug::from_text(name);
        let mut candidate = base.clone();
        let mut n = 1;
        while Self::find_by_slug(conn, candidate.as_str())?.is_some() {
            n += 1;
            candidate = base.with_suffix(n);
        }
        Ok(candidate)
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(companies::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn domains(&self) -> Vec<&str> {
        self.allowed_domains
            .lines()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .collect()
    }
}
