use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{companies, scim_configs, scim_users, users};
use crate::db::DbConnection;
use crate::domain::{CompanyId, Role, ScimSecretId, UserId, UserStatus};

use super::credentials::LAST_USED_RESOLUTION_SECS;
use super::User;

/// A company's SCIM provisioning: on or off, its one secret (an HMAC), and the successor.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = scim_configs, primary_key(company_id))]
pub struct ScimConfig {
    pub company_id: CompanyId,
    pub enabled: bool,
    pub secret_id: Option<ScimSecretId>,
    pub secret_hash: Option<String>,
    pub secret_prefix: Option<String>,
    pub secret_created_at: Option<NaiveDateTime>,
    pub secret_last_used_at: Option<NaiveDateTime>,
    /// Who receives a deprovisioned person's meeting types and appointments; None: the owner.
    pub successor_id: Option<UserId>,
    pub updated_at: NaiveDateTime,
}

impl ScimConfig {
    /// Provisioning as it is before anyone turned it on.
    pub fn off(company: &CompanyId, at: NaiveDateTime) -> Self {
        Self {
            company_id: company.clone(),
            enabled: false,
            secret_id: None,
            secret_hash: None,
            secret_prefix: None,
            secret_created_at: None,
            secret_last_used_at: None,
            successor_id: None,
            updated_at: at,
        }
    }

    pub fn find(conn: &mut DbConnection, company: &CompanyId) -> QueryResult<Option<Self>> {
        scim_configs::table.find(company).first(conn).optional()
    }

    /// Holds the company's row until the transaction ends, so two changes of the settings
    /// (the first one inserting the row) run one after the other.
    pub fn hold(conn: &mut DbConnection, company: &CompanyId) -> QueryResult<()> {
        diesel::update(companies::table.find(company))
            .set(companies::id.eq(companies::id))
            .execute(conn)
            .map(|_| ())
    }

    /// The configuration whose secret has this HMAC (the secret's only lookup, indexed).
    pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<Self>> {
        scim_configs::table
            .filter(scim_configs::secret_hash.eq(hash))
            .first(conn)
            .optional()
    }

    /// Writes the whole row (inserted the first time).
    pub fn save(&self, conn: &mut DbConnection) -> QueryResult<()> {
        let n = diesel::update(scim_configs::table.find(&self.company_id))
            .set((
                scim_configs::enabled.eq(self.enabled),
                scim_configs::secret_id.eq(&self.secret_id),
                scim_configs::secret_hash.eq(&self.secret_hash),
                scim_configs::secret_prefix.eq(&self.secret_prefix),
                scim_configs::secret_created_at.eq(self.secret_created_at),
                scim_configs::secret_last_used_at.eq(self.secret_last_used_at),
                scim_configs::successor_id.eq(&self.successor_id),
                scim_configs::updated_at.eq(self.updated_at),
            ))
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(scim_configs::table)
                .values(self)
                .execute(conn)?;
        }
        Ok(())
    }

    /// Records a use of the secret, at most once a minute (the request path rarely writes).
    pub fn touch(&self, conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<()> {
        let stale = self
            .secret_last_used_at
            .is_none_or(|at| (now - at).num_seconds() >= LAST_USED_RESOLUTION_SECS);
        if stale {
            diesel::update(scim_configs::table.find(&self.company_id))
                .filter(scim_configs::secret_id.eq(&self.secret_id))
                .set(scim_configs::secret_last_used_at.eq(Some(now)))
                .execute(conn)?;
        }
        Ok(())
    }
}

/// What SCIM keeps about a person beyond the user row.
#[derive(Debug, Clone, Default, Queryable, Selectable, Insertable)]
#[diesel(table_name = scim_users)]
pub struct ScimUser {
    pub user_id: UserId,
    pub company_id: CompanyId,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub created_at: NaiveDateTime,
    /// Deleted through SCIM: the person is offboarded and SCIM answers 404 for them.
    pub deleted_at: Option<NaiveDateTime>,
}

/// A person as SCIM sees them: the user, and what SCIM keeps of them (if it manages them).
pub type ScimPerson = (User, Option<ScimUser>);

/// What a SCIM list asks for, beyond paging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScimMatch {
    All,
    /// Emails are stored lower-cased: the value is compared lower-cased.
    Email(String),
    ExternalId(String),
    Id(UserId),
    /// A filter on an id that cannot be one: nobody.
    Nobody,
}

impl ScimUser {
    pub fn find(conn: &mut DbConnection, user: &UserId) -> QueryResult<Option<Self>> {
        scim_users::table.find(user).first(conn).optional()
    }

    /// Inserts or replaces the row.
    pub fn save(&self, conn: &mut DbConnection) -> QueryResult<()> {
        let n = diesel::update(scim_users::table.find(&self.user_id))
            .set((
                scim_users::external_id.eq(&self.external_id),
                scim_users::given_name.eq(&self.given_name),
                scim_users::family_name.eq(&self.family_name),
                scim_users::deleted_at.eq(self.deleted_at),
            ))
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(scim_users::table)
                .values(self)
                .execute(conn)?;
        }
        Ok(())
    }

    /// A person of the company that SCIM shows (not deleted through SCIM).
    pub fn person(
        conn: &mut DbConnection,
        company: &CompanyId,
        id: &UserId,
    ) -> QueryResult<Option<ScimPerson>> {
        let found = users::table
            .left_join(scim_users::table)
            .filter(users::id.eq(id))
            .filter(users::company_id.eq(company))
            .select((User::as_select(), Option::<ScimUser>::as_select()))
            .first::<(User, Option<ScimUser>)>(conn)
            .optional()?;
        Ok(found.filter(|(_, s)| s.as_ref().is_none_or(|s| s.deleted_at.is_none())))
    }

    /// A page of the company's people SCIM shows, oldest first, and how many match in all.
    pub fn people(
        conn: &mut DbConnection,
        company: &CompanyId,
        matching: &ScimMatch,
        offset: i64,
        limit: i64,
    ) -> QueryResult<(Vec<ScimPerson>, i64)> {
        if *matching == ScimMatch::Nobody {
            return Ok((Vec::new(), 0));
        }
        let query = || {
            let q = users::table
                .left_join(scim_users::table)
                .filter(users::company_id.eq(company))
                .filter(scim_users::deleted_at.is_null())
                .into_boxed();
            match matching {
                ScimMatch::All | ScimMatch::Nobody => q,
                ScimMatch::Email(email) => q.filter(users::email.eq(email.to_lowercase())),
                ScimMatch::ExternalId(external) => {
                    q.filter(scim_users::external_id.eq(external.clone()))
                }
                ScimMatch::Id(id) => q.filter(users::id.eq(id.clone())),
            }
        };
        let total = query().count().get_result(conn)?;
        let page = query()
            .order((users::created_at.asc(), users::id.asc()))
            .offset(offset)
            .limit(limit)
            .select((User::as_select(), Option::<ScimUser>::as_select()))
            .load::<(User, Option<ScimUser>)>(conn)?;
        Ok((page, total))
    }
}

/// Status changes SCIM makes besides offboarding.
impl User {
    /// Holds the person's row until the transaction ends (a write that changes nothing), so
    /// two SCIM changes of one person run one after the other, each reading the other's result.
    pub fn hold(conn: &mut DbConnection, id: &UserId) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set(users::status.eq(users::status))
            .execute(conn)
            .map(|_| ())
    }

    /// A deprovisioned person comes back: active again with `role`, nothing of theirs restored.
    pub fn reactivate(
        conn: &mut DbConnection,
        id: &UserId,
        role: Role,
        at: NaiveDateTime,
    ) -> QueryResult<bool> {
        let n = diesel::update(
            users::table
                .find(id)
                .filter(users::status.ne(UserStatus::Active)),
        )
        .set((
            users::status.eq(UserStatus::Active),
            users::role.eq(role),
            users::updated_at.eq(at),
        ))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Sets name and email as the identity provider says (it vouches for the address).
    pub fn set_name_and_email(
        conn: &mut DbConnection,
        id: &UserId,
        name: &str,
        email: &str,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set((
                users::name.eq(name),
                users::email.eq(email),
                users::updated_at.eq(at),
            ))
            .execute(conn)
    }
}
