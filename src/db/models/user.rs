use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{sessions, users};
use crate::db::DbConnection;
use crate::domain::{CompanyId, Email, Role, SearchText, UserId, UserStatus};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub company_id: CompanyId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: UserStatus,
    pub password_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_sign_in_at: Option<NaiveDateTime>,
    /// IANA time zone name (`Europe/Berlin`); `UTC` unless given when the user was created.
    pub timezone: String,
    /// When the person followed a link sent to `email` (or an IdP or invitation vouched for it).
    pub email_verified_at: Option<NaiveDateTime>,
}

impl User {
    // Accessors kept beside the public fields so callers read as before the columns were typed.
    pub fn role(&self) -> Role {
        self.role
    }

    pub fn status(&self) -> UserStatus {
        self.status
    }

    pub fn is_active(&self) -> bool {
        self.status() == UserStatus::Active
    }

    pub fn find(conn: &mut DbConnection, id: &UserId) -> QueryResult<Option<Self>> {
        users::table.find(id).first(conn).optional()
    }

    /// The live (not removed) account with this email, if any.
    pub fn find_by_email(conn: &mut DbConnection, email: &Email) -> QueryResult<Option<Self>> {
        users::table
            .filter(users::email.eq(email.as_str()))
            .filter(users::status.ne(UserStatus::Removed))
            .first(conn)
            .optional()
    }

    /// A user of this company (any status), or None: the one lookup for "is this id ours".
    pub fn find_in_company(
        conn: &mut DbConnection,
        company: &CompanyId,
        id: &UserId,
    ) -> QueryResult<Option<Self>> {
        users::table
            .filter(users::id.eq(id))
            .filter(users::company_id.eq(company))
            .first(conn)
            .optional()
    }

    pub fn owner_of(conn: &mut DbConnection, company: &CompanyId) -> QueryResult<Self> {
        users::table
            .filter(users::company_id.eq(company))
            .filter(users::role.eq(Role::Owner))
            .filter(users::status.eq(UserStatus::Active))
            .first(conn)
    }

    pub fn list_in_company(
        conn: &mut DbConnection,
        company: &CompanyId,
        limit: i64,
        offset: i64,
    ) -> QueryResult<(Vec<Self>, i64)> {
        let total = users::table
            .filter(users::company_id.eq(company))
            .count()
            .get_result(conn)?;
        let page = users::table
            .filter(users::company_id.eq(company))
            .order((users::created_at.asc(), users::id.asc()))
            .limit(limit)
            .offset(offset)
            .load(conn)?;
        Ok((page, total))
    }

    /// A page of the company's users whose name or email contains `query` (any case).
    pub fn search_in_company(
        conn: &mut DbConnection,
        company: &CompanyId,
        query: &SearchText,
        limit: i64,
        offset: i64,
    ) -> QueryResult<(Vec<Self>, i64)> {
        let pattern = query.contains_pattern();
        let filtered = || {
            users::table.filter(users::company_id.eq(company)).filter(
                lower(users::name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(users::email.like(pattern.clone()).escape('\\')),
            )
        };
        let total = filtered().count().get_result(conn)?;
        let page = filtered()
            .order((users::created_at.asc(), users::id.asc()))
            .limit(limit)
            .offset(offset)
            .load(conn)?;
        Ok((page, total))
    }

    /// How many of the people `search_in_company` finds were removed (offboarded): the members
    /// page counts them apart from the people who still belong to the company.
    pub fn count_removed_matching(
        conn: &mut DbConnection,
        company: &CompanyId,
        query: &SearchText,
    ) -> QueryResult<i64> {
        let pattern = query.contains_pattern();
        users::table
            .filter(users::company_id.eq(company))
            .filter(users::status.eq(UserStatus::Removed))
            .filter(
                lower(users::name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(users::email.like(pattern).escape('\\')),
            )
            .count()
            .get_result(conn)
    }

    /// Active members of the company, by name.
    pub fn active_in_company(
        conn: &mut DbConnection,
        company: &CompanyId,
    ) -> QueryResult<Vec<Self>> {
        users::table
            .filter(users::company_id.eq(company))
            .filter(users::status.eq(UserStatus::Active))
            .order(users::name.asc())
            .load(conn)
    }

    pub fn count_sessions(conn: &mut DbConnection, id: &UserId) -> QueryResult<i64> {
        sessions::table
            .filter(sessions::user_id.eq(id.as_str()))
            .filter(sessions::expires_at.gt(super::now()))
            .count()
            .get_result(conn)
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(users::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn record_sign_in(conn: &mut DbConnection, id: &UserId) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set(users::last_sign_in_at.eq(super::now()))
            .execute(conn)
            .map(|_| ())
    }

    pub fn set_status(
        conn: &mut DbConnection,
        id: &UserId,
        status: UserStatus,
    ) -> QueryResult<usize> {
        crate::auth::credential_cache::principals_changed(conn)?;
        diesel::update(users::table.find(id))
            .set((users::status.eq(status), users::updated_at.eq(super::now())))
            .execute(conn)
    }

    /// Moves the user from status `from` to `to`, only if they still are `from`: true for the
    /// one caller that made the change. Concurrent callers wait for the row (PostgreSQL) or for
    /// the write lock (SQLite) and then find nothing to change.
    pub fn change_status(
        conn: &mut DbConnection,
        id: &UserId,
        from: UserStatus,
        to: UserStatus,
    ) -> QueryResult<bool> {
        let n = diesel::update(users::table.find(id).filter(users::status.eq(from)))
            .set((users::status.eq(to), users::updated_at.eq(super::now())))
            .execute(conn)?;
        if n == 1 {
            crate::auth::credential_cache::principals_changed(conn)?;
        }
        Ok(n == 1)
    }

    /// Holds the row of an active user until the transaction ends (a write that changes
    /// nothing), so that nobody removes them meanwhile; false if they are not active.
    pub fn hold_active(conn: &mut DbConnection, id: &UserId) -> QueryResult<bool> {
        let n = diesel::update(
            users::table
                .find(id)
                .filter(users::status.eq(UserStatus::Active)),
        )
        .set(users::status.eq(users::status))
        .execute(conn)?;
        Ok(n == 1)
    }

    pub fn set_password_hash(
        conn: &mut DbConnection,
        id: &UserId,
        hash: &str,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(Some(hash)),
                users::updated_at.eq(super::now()),
            ))
            .execute(conn)
    }

    /// Ends the sessions that were not started through the company's own IdP (password, OIDC,
    /// or from before sessions recorded how) of every member but `keep`: Enforce SSO turned on.
    pub fn end_non_saml_sessions_in_company(
        conn: &mut DbConnection,
        company: &CompanyId,
        keep: &UserId,
    ) -> QueryResult<usize> {
        let members = users::table
            .filter(users::company_id.eq(company))
            .filter(users::id.ne(keep))
            .select(users::id);
        diesel::delete(
            sessions::table
                .filter(sessions::user_id.eq_any(members.nullable()))
                .filter(sessions::method.is_null().or(sessions::method.ne("saml"))),
        )
        .execute(conn)
    }

    /// Ends every browser session of this user, on every instance, at once.
    pub fn end_all_sessions(conn: &mut DbConnection, id: &UserId) -> QueryResult<usize> {
        diesel::delete(sessions::table.filter(sessions::user_id.eq(id.as_str()))).execute(conn)
    }
}

/// Email verification: the steps `services::email_verification` is made of.
impl User {
    /// Records that the person proved `email` (their current address), at `at`.
    pub fn mark_email_verified(
        conn: &mut DbConnection,
        id: &UserId,
        email: &str,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id).filter(users::email.eq(email)))
            .set((
                users::email_verified_at.eq(Some(at)),
                users::updated_at.eq(at),
            ))
            .execute(conn)
    }

    /// Moves the account to a new, just proven address.
    pub fn change_email(
        conn: &mut DbConnection,
        id: &UserId,
        email: &Email,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set((
                users::email.eq(email.as_str()),
                users::email_verified_at.eq(Some(at)),
                users::updated_at.eq(at),
            ))
            .execute(conn)
    }

    /// People of the company who are not removed.
    pub fn count_live_in_company(conn: &mut DbConnection, company: &CompanyId) -> QueryResult<i64> {
        users::table
            .filter(users::company_id.eq(company))
            .filter(users::status.ne(UserStatus::Removed))
            .count()
            .get_result(conn)
    }

    /// Makes the person a member of another company.
    pub fn move_to_company(
        conn: &mut DbConnection,
        id: &UserId,
        company: &CompanyId,
        role: Role,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set((
                users::company_id.eq(company),
                users::role.eq(role),
                users::updated_at.eq(at),
            ))
            .execute(conn)
    }
}
