use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::password_resets;
use crate::db::DbConnection;
use crate::domain::UserId;

/// A "forgot password" link: the HMAC of its secret, for whom, until when, and whether used.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = password_resets)]
pub struct PasswordReset {
    pub id: String,
    pub user_id: UserId,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

impl PasswordReset {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(password_resets::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<Self>> {
        password_resets::table
            .filter(password_resets::token_hash.eq(hash))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Marks the link used, once: true for the one request that did.
    pub fn mark_used(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
        let n = diesel::update(
            password_resets::table
                .filter(password_resets::id.eq(id))
                .filter(password_resets::used_at.is_null()),
        )
        .set(password_resets::used_at.eq(at))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Ends the person's other unused links: only the newest mail works.
    pub fn retire_unused(
        conn: &mut DbConnection,
        user: &UserId,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            password_resets::table
                .filter(password_resets::user_id.eq(user))
                .filter(password_resets::used_at.is_null()),
        )
        .set(password_resets::used_at.eq(at))
        .execute(conn)
    }
}
