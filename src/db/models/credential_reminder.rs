use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{credential_reminders as reminders, personal_access_tokens as pats};
use crate::db::schema::{platform_api_keys as keys, users};
use crate::db::DbConnection;
use crate::domain::{CompanyId, CredentialKind, Role, UserId, UserStatus};

use super::{PersonalAccessToken, PlatformApiKey, User};

/// One expiry reminder of one credential: claimed (the row exists), then sent, or skipped.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reminders)]
pub struct CredentialReminder {
    pub credential_id: String,
    /// Days before expiry: 14, 7, 1, or 0 for the expiry itself.
    pub threshold_days: i32,
    pub credential_kind: CredentialKind,
    pub claimed_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// The threshold had passed before the credential could be reminded of it: never mailed.
    pub skipped: bool,
}

impl CredentialReminder {
    /// Inserts the row unless one exists for (credential, threshold); true if this call
    /// inserted it, which is what "claims" the mail. Several instances may try at once: the
    /// primary key lets exactly one through, and the others are not aborted (`ON CONFLICT DO
    /// NOTHING`, not a caught unique violation, which would abort a PostgreSQL transaction).
    pub fn claim(&self, conn: &mut DbConnection) -> QueryResult<bool> {
        let insert = diesel::insert_into(reminders::table)
            .values(self)
            .on_conflict_do_nothing();
        let inserted = match conn {
            DbConnection::Sqlite(c) => insert.execute(c)?,
            DbConnection::Postgres(c) => insert.execute(c)?,
        };
        Ok(inserted == 1)
    }

    /// Takes over a claim whose mail was never confirmed sent and that was made before
    /// `stale_before` (its instance died between claim and mail); true if this call took it.
    pub fn reclaim_stale(
        conn: &mut DbConnection,
        credential_id: &str,
        threshold_days: i32,
        stale_before: NaiveDateTime,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let n = diesel::update(
            reminders::table
                .find((credential_id, threshold_days))
                .filter(reminders::sent_at.is_null())
                .filter(reminders::skipped.eq(false))
                .filter(reminders::claimed_at.le(stale_before)),
        )
        .set(reminders::claimed_at.eq(now))
        .execute(conn)?;
        Ok(n == 1)
    }

    pub fn mark_sent(
        conn: &mut DbConnection,
        credential_id: &str,
        threshold_days: i32,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(reminders::table.find((credential_id, threshold_days)))
            .set(reminders::sent_at.eq(Some(now)))
            .execute(conn)
    }

    /// Gives a claim back after its mail could not be sent to anyone, so a later run retries.
    pub fn release(
        conn: &mut DbConnection,
        credential_id: &str,
        threshold_days: i32,
    ) -> QueryResult<usize> {
        diesel::delete(
            reminders::table
                .find((credential_id, threshold_days))
                .filter(reminders::sent_at.is_null()),
        )
        .execute(conn)
    }

    /// The reminder rows of these credentials.
    pub fn of(conn: &mut DbConnection, credential_ids: &[String]) -> QueryResult<Vec<Self>> {
        reminders::table
            .filter(reminders::credential_id.eq_any(credential_ids))
            .select(Self::as_select())
            .load(conn)
    }

    /// Personal access tokens, with their owners, that expire between `from` and `to` and
    /// could still be used until then: not revoked, owner active.
    pub fn pats_expiring(
        conn: &mut DbConnection,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> QueryResult<Vec<(PersonalAccessToken, User)>> {
        pats::table
            .inner_join(users::table)
            .filter(pats::revoked_at.is_null())
            .filter(pats::expires_at.gt(from))
            .filter(pats::expires_at.le(to))
            .filter(users::status.eq(UserStatus::Active))
            .select((PersonalAccessToken::as_select(), User::as_select()))
            .load(conn)
    }

    /// Platform API keys that expire between `from` and `to`, neither revoked nor deactivated.
    pub fn api_keys_expiring(
        conn: &mut DbConnection,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> QueryResult<Vec<PlatformApiKey>> {
        keys::table
            .filter(keys::revoked_at.is_null())
            .filter(keys::deactivated_at.is_null())
            .filter(keys::expires_at.gt(from))
            .filter(keys::expires_at.le(to))
            .select(PlatformApiKey::as_select())
            .load(conn)
    }

    /// Who hears about a company's API key: its creator and every owner and admin, if active.
    pub fn api_key_recipients(
        conn: &mut DbConnection,
        company: &CompanyId,
        creator: &UserId,
    ) -> QueryResult<Vec<String>> {
        users::table
            .filter(users::company_id.eq(company))
            .filter(users::status.eq(UserStatus::Active))
            .filter(
                users::role
                    .eq_any([Role::Owner, Role::Admin])
                    .or(users::id.eq(creator)),
            )
            .order(users::email.asc())
            .select(users::email)
            .load(conn)
    }
}
