use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{two_factor_authenticators as auth, two_factor_recovery_codes as codes};
use crate::db::DbConnection;
use crate::domain::UserId;

/// A person's authenticator: pending until its first code confirms it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = auth)]
pub struct Authenticator {
    pub user_id: UserId,
    pub secret_encrypted: String,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub last_used_step: Option<i64>,
}

impl Authenticator {
    pub fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }

    pub fn of_user(conn: &mut DbConnection, user: &UserId) -> QueryResult<Option<Self>> {
        auth::table
            .find(user)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// True when `user` signs in with a second factor.
    pub fn is_enrolled(conn: &mut DbConnection, user: &UserId) -> QueryResult<bool> {
        Ok(Self::of_user(conn, user)?.is_some_and(|a| a.is_confirmed()))
    }

    /// Starts (or restarts) an enrolment with a new secret; a confirmed one is never replaced.
    pub fn start(
        conn: &mut DbConnection,
        user: &UserId,
        secret_encrypted: &str,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::delete(
            auth::table
                .filter(auth::user_id.eq(user))
                .filter(auth::confirmed_at.is_null()),
        )
        .execute(conn)?;
        diesel::insert_into(auth::table)
            .values((
                auth::user_id.eq(user),
                auth::secret_encrypted.eq(secret_encrypted),
                auth::created_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Confirms a pending enrolment with the step its first code was for; 0 when none pends.
    pub fn confirm(
        conn: &mut DbConnection,
        user: &UserId,
        step: i64,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            auth::table
                .filter(auth::user_id.eq(user))
                .filter(auth::confirmed_at.is_null()),
        )
        .set((auth::confirmed_at.eq(now), auth::last_used_step.eq(step)))
        .execute(conn)
    }

    /// Spends `step`: 1 when it is later than every step used before, 0 when it is a replay.
    /// One conditional UPDATE, so two requests with the same code cannot both succeed.
    pub fn use_step(conn: &mut DbConnection, user: &UserId, step: i64) -> QueryResult<usize> {
        diesel::update(
            auth::table
                .filter(auth::user_id.eq(user))
                .filter(auth::confirmed_at.is_not_null())
                .filter(
                    auth::last_used_step
                        .is_null()
                        .or(auth::last_used_step.lt(step)),
                ),
        )
        .set(auth::last_used_step.eq(step))
        .execute(conn)
    }

    /// Removes the authenticator and its recovery codes.
    pub fn remove(conn: &mut DbConnection, user: &UserId) -> QueryResult<usize> {
        diesel::delete(codes::table.filter(codes::user_id.eq(user))).execute(conn)?;
        diesel::delete(auth::table.filter(auth::user_id.eq(user))).execute(conn)
    }
}

/// Single-use recovery codes, stored as keyed hashes.
pub struct RecoveryCodes;

impl RecoveryCodes {
    /// Replaces every code of `user` with `hashes`.
    pub fn replace(conn: &mut DbConnection, user: &UserId, hashes: &[String]) -> QueryResult<()> {
        diesel::delete(codes::table.filter(codes::user_id.eq(user))).execute(conn)?;
        for hash in hashes {
            diesel::insert_into(codes::table)
                .values((
                    codes::id.eq(uuid::Uuid::new_v4().to_string()),
                    codes::user_id.eq(user),
                    codes::code_hash.eq(hash),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Spends the code with `hash`: 1 when it was unused, 0 otherwise.
    pub fn spend(
        conn: &mut DbConnection,
        user: &UserId,
        hash: &str,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            codes::table
                .filter(codes::user_id.eq(user))
                .filter(codes::code_hash.eq(hash))
                .filter(codes::used_at.is_null()),
        )
        .set(codes::used_at.eq(now))
        .execute(conn)
    }

    pub fn unused(conn: &mut DbConnection, user: &UserId) -> QueryResult<i64> {
        codes::table
            .filter(codes::user_id.eq(user))
            .filter(codes::used_at.is_null())
            .count()
            .get_result(conn)
    }
}
