use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::email_verifications;
use crate::db::DbConnection;
use crate::domain::UserId;

/// A link mailed to `email`: confirming a sign-up's address, or moving an account to a new one.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = email_verifications)]
pub struct EmailVerification {
    pub id: String,
    pub user_id: UserId,
    pub email: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

impl EmailVerification {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(email_verifications::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<Self>> {
        email_verifications::table
            .filter(email_verifications::token_hash.eq(hash))
            .first(conn)
            .optional()
    }

    /// Single use even under a race: only one request flips it from unused.
    pub fn mark_used(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
        diesel::update(email_verifications::table.find(id))
            .filter(email_verifications::used_at.is_null())
            .set(email_verifications::used_at.eq(Some(at)))
            .execute(conn)
            .map(|n| n == 1)
    }

    /// The newest link sent to this person, for the resend limit.
    pub fn latest_for(conn: &mut DbConnection, user: &UserId) -> QueryResult<Option<Self>> {
        email_verifications::table
            .filter(email_verifications::user_id.eq(user))
            .order(email_verifications::created_at.desc())
            .first(conn)
            .optional()
    }

    /// Links of this person not yet used: a newer one, or a verified address, retires them.
    pub fn retire_open(
        conn: &mut DbConnection,
        user: &UserId,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            email_verifications::table
                .filter(email_verifications::user_id.eq(user))
                .filter(email_verifications::used_at.is_null()),
        )
        .set(email_verifications::used_at.eq(Some(at)))
        .execute(conn)
    }
}
