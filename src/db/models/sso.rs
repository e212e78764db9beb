use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{identities, saml_configs, saml_seen_assertions, sso_requests};
use crate::db::DbConnection;
use crate::domain::{CompanyId, IdentityId, SsoKind, SsoPurpose, UserId};

/// A way to sign in through an external provider, linked to one user.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = identities)]
pub struct Identity {
    pub id: IdentityId,
    pub user_id: UserId,
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    pub email: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

impl Identity {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(identities::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find(conn: &mut DbConnection, issuer: &str, subject: &str) -> QueryResult<Option<Self>> {
        identities::table
            .filter(identities::issuer.eq(issuer))
            .filter(identities::subject.eq(subject))
            .first(conn)
            .optional()
    }

    pub fn of_user(conn: &mut DbConnection, user: &UserId) -> QueryResult<Vec<Self>> {
        identities::table
            .filter(identities::user_id.eq(user))
            .order(identities::created_at.asc())
            .load(conn)
    }

    pub fn delete(conn: &mut DbConnection, user: &UserId, id: &IdentityId) -> QueryResult<usize> {
        diesel::delete(
            identities::table
                .filter(identities::id.eq(id))
                .filter(identities::user_id.eq(user)),
        )
        .execute(conn)
    }

    pub fn touch(conn: &mut DbConnection, id: &IdentityId, at: NaiveDateTime) -> QueryResult<()> {
        diesel::update(identities::table.find(id))
            .set(identities::last_used_at.eq(at))
            .execute(conn)
            .map(|_| ())
    }
}

/// A company's SAML identity provider, as its metadata described it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = saml_configs, primary_key(company_id))]
pub struct SamlConfig {
    pub company_id: CompanyId,
    pub idp_entity_id: String,
    pub idp_sso_url: String,
    pub metadata_xml: String,
    pub allow_sha1: bool,
    pub allow_idp_initiated: bool,
    pub updated_at: NaiveDateTime,
}

impl SamlConfig {
    pub fn find(conn: &mut DbConnection, company: &CompanyId) -> QueryResult<Option<Self>> {
        saml_configs::table.find(company).first(conn).optional()
    }

    /// Saves this configuration in place of the one saved at `expected` (`None`: in place of
    /// none). False when that is no longer what is stored (someone saved or removed it
    /// meanwhile): of several saves from one version, exactly one is written.
    ///
    /// A false from the insert comes from a unique violation, which on PostgreSQL aborts the
    /// transaction: the caller must end it (return an error) without another statement.
    pub fn save_over(
        &self,
        conn: &mut DbConnection,
        expected: Option<NaiveDateTime>,
    ) -> QueryResult<bool> {
        match expected {
            Some(at) => {
                let n = diesel::update(
                    saml_configs::table
                        .find(&self.company_id)
                        .filter(saml_configs::updated_at.eq(at)),
                )
                .set(self)
                .execute(conn)?;
                Ok(n == 1)
            }
            None => match diesel::insert_into(saml_configs::table)
                .values(self)
                .execute(conn)
            {
                Ok(_) => Ok(true),
                Err(e) if crate::db::is_unique_violation(&e) => Ok(false),
                Err(e) => Err(e),
            },
        }
    }

    pub fn delete(conn: &mut DbConnection, company: &CompanyId) -> QueryResult<usize> {
        diesel::delete(saml_configs::table.find(company)).execute(conn)
    }
}

/// A pending OIDC authorization or SAML AuthnRequest.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_requests)]
pub struct SsoRequest {
    pub id: String,
    pub kind: SsoKind,
    pub target: String,
    pub purpose: SsoPurpose,
    pub browser_hash: String,
    pub nonce: Option<String>,
    pub link_user_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    /// Set when the sign-in was started from an invitation link: the hash of its secret.
    pub invitation_hash: Option<String>,
}

impl SsoRequest {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(sso_requests::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    /// Takes the request if it is pending, unexpired, of this kind and target, and was started
    /// by this browser; marks it used so it can never be taken again.
    pub fn take(
        conn: &mut DbConnection,
        id: &str,
        kind: SsoKind,
        target: &str,
        browser_hash: &str,
        now: NaiveDateTime,
    ) -> QueryResult<Option<Self>> {
        let found: Option<Self> = sso_requests::table
            .filter(sso_requests::id.eq(id))
            .filter(sso_requests::kind.eq(kind))
            .filter(sso_requests::target.eq(target))
            .filter(sso_requests::browser_hash.eq(browser_hash))
            .filter(sso_requests::used_at.is_null())
            .filter(sso_requests::expires_at.gt(now))
            .first(conn)
            .optional()?;
        let Some(found) = found else { return Ok(None) };
        let claimed = diesel::update(
            sso_requests::table
                .find(id)
                .filter(sso_requests::used_at.is_null()),
        )
        .set(sso_requests::used_at.eq(now))
        .execute(conn)?;
        Ok((claimed == 1).then_some(found))
    }

    /// The ids of this browser's pending SAML requests for a company.
    pub fn pending_saml_ids(
        conn: &mut DbConnection,
        company: &str,
        browser_hash: &str,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<String>> {
        sso_requests::table
            .filter(sso_requests::kind.eq(SsoKind::Saml))
            .filter(sso_requests::target.eq(company))
            .filter(sso_requests::browser_hash.eq(browser_hash))
            .filter(sso_requests::used_at.is_null())
            .filter(sso_requests::expires_at.gt(now))
            .select(sso_requests::id)
            .load(conn)
    }

    pub fn set_nonce(conn: &mut DbConnection, id: &str, nonce: &str) -> QueryResult<usize> {
        diesel::update(sso_requests::table.find(id))
            .set(sso_requests::nonce.eq(nonce))
            .execute(conn)
    }

    pub fn purge_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
        let a = diesel::delete(sso_requests::table.filter(sso_requests::expires_at.le(now)))
            .execute(conn)?;
        let b = diesel::delete(
            saml_seen_assertions::table.filter(saml_seen_assertions::expires_at.le(now)),
        )
        .execute(conn)?;
        Ok(a + b)
    }
}

/// Records an assertion id; false if it was seen before (a replay).
pub fn remember_assertion(
    conn: &mut DbConnection,
    company: &CompanyId,
    assertion_id: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<bool> {
    let seen: i64 = saml_seen_assertions::table
        .filter(saml_seen_assertions::company_id.eq(company.as_str()))
        .filter(saml_seen_assertions::assertion_id.eq(assertion_id))
        .count()
        .get_result(conn)?;
    if seen > 0 {
        return Ok(false);
    }
    match diesel::insert_into(saml_seen_assertions::table)
        .values((
            saml_seen_assertions::company_id.eq(company.as_str()),
            saml_seen_assertions::assertion_id.eq(assertion_id),
            saml_seen_assertions::expires_at.eq(expires_at),
        ))
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if crate::db::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}
