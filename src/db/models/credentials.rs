use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{personal_access_tokens as pats, platform_api_keys as keys, users};
use crate::db::{load_native, DbConnection};
use crate::domain::{ApiKeyId, CompanyId, Role, TokenId, UserId, UserStatus};

use super::User;

/// What a credential's list row says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialStatus {
    Active,
    Expired,
    Deactivated,
    Revoked,
    /// Regenerated, and past its cut-over: the successor's first use or the end of the grace.
    Replaced,
}

impl CredentialStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Deactivated => "deactivated",
            Self::Revoked => "revoked",
            Self::Replaced => "replaced",
        }
    }
}

/// "Last used" is written at most once a minute per credential (or when the IP changes),
/// so the request path rarely writes.
pub const LAST_USED_RESOLUTION_SECS: i64 = 60;

pub fn last_used_is_stale(
    at: Option<NaiveDateTime>,
    ip: Option<&str>,
    now: NaiveDateTime,
    new_ip: &str,
) -> bool {
    match at {
        None => true,
        Some(at) => (now - at).num_seconds() >= LAST_USED_RESOLUTION_SECS || ip != Some(new_ip),
    }
}

/// A regenerated credential stops at its cut-over (`superseded_at`).
pub fn is_cut_over(superseded_at: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    superseded_at.is_some_and(|at| at <= now)
}

/// At most one "used after rotation" alert per credential in this many seconds.
pub const ROTATION_ALERT_EVERY_SECS: i64 = 3600;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = pats)]
pub struct PersonalAccessToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub token_hash: String,
    pub prefix: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
    /// The token this one was regenerated from.
    pub replaces: Option<TokenId>,
    /// The token regenerated from this one.
    pub replaced_by: Option<TokenId>,
    /// When this token stops because it was regenerated (see `is_cut_over`).
    pub superseded_at: Option<NaiveDateTime>,
    pub rotation_alerted_at: Option<NaiveDateTime>,
    /// The owner's own words about it (what uses it, who to ask).
    pub note: Option<String>,
}

impl PersonalAccessToken {
    pub fn status(&self, now: NaiveDateTime) -> CredentialStatus {
        if self.revoked_at.is_some() {
            CredentialStatus::Revoked
        } else if is_cut_over(self.superseded_at, now) {
            CredentialStatus::Replaced
        } else if self.expires_at.is_some_and(|e| e <= now) {
            CredentialStatus::Expired
        } else {
            CredentialStatus::Active
        }
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(pats::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    /// The token with this hash and its owner: the one indexed lookup per API request.
    ///
    /// Loaded without `.first()`: `token_hash` is UNIQUE, so there is at most one row, and
    /// the bound `LIMIT ?` that `.first()` adds makes recent SQLite (the bundled 3.53; 3.50
    /// already) treat the LIMIT value as a planner input, so re-binding it expires the cached
    /// statement and every execution compiles the SQL again.
    pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<(Self, User)>> {
        let rows: Vec<(Self, User)> = load_native!(
            conn,
            pats::table
                .inner_join(users::table)
                .filter(pats::token_hash.eq(hash))
                .select((Self::as_select(), User::as_select()))
        )?;
        Ok(rows.into_iter().next())
    }

    pub fn list_for_user(conn: &mut DbConnection, user: &UserId) -> QueryResult<Vec<Self>> {
        pats::table
            .filter(pats::user_id.eq(user))
            .order((pats::revoked_at.is_null().desc(), pats::created_at.desc()))
            .load(conn)
    }

    pub fn find_for_user(
        conn: &mut DbConnection,
        user: &UserId,
        id: &TokenId,
    ) -> QueryResult<Option<Self>> {
        pats::table
            .filter(pats::id.eq(id))
            .filter(pats::user_id.eq(user))
            .first(conn)
            .optional()
    }

    pub fn name_taken(conn: &mut DbConnection, user: &UserId, name: &str) -> QueryResult<bool> {
        let n: i64 = pats::table
            .filter(pats::user_id.eq(user))
            .filter(pats::name.eq(name))
            .filter(pats::revoked_at.is_null())
            .filter(pats::replaced_by.is_null())
            .count()
            .get_result(conn)?;
        Ok(n > 0)
    }

    /// A new name and note; the caller has checked both.
    pub fn describe(
        conn: &mut DbConnection,
        id: &TokenId,
        name: &str,
        note: Option<&str>,
    ) -> QueryResult<usize> {
        diesel::update(pats::table.find(id))
            .set((pats::name.eq(name), pats::note.eq(note)))
            .execute(conn)
    }

    pub fn revoke(conn: &mut DbConnection, id: &TokenId) -> QueryResult<usize> {
        diesel::update(pats::table.find(id).filter(pats::revoked_at.is_null()))
            .set(pats::revoked_at.eq(super::now()))
            .execute(conn)
    }

    pub fn revoke_all_of(conn: &mut DbConnection, user: &UserId) -> QueryResult<usize> {
        diesel::update(
            pats::table
                .filter(pats::user_id.eq(user))
                .filter(pats::revoked_at.is_null()),
        )
        .set(pats::revoked_at.eq(super::now()))
        .execute(conn)
    }

    pub fn count_active_of(
        conn: &mut DbConnection,
        user: &UserId,
        now: NaiveDateTime,
    ) -> QueryResult<i64> {
        pats::table
            .filter(pats::user_id.eq(user))
            .filter(pats::revoked_at.is_null())
            .filter(pats::expires_at.is_null().or(pats::expires_at.gt(now)))
            .filter(
                pats::superseded_at
                    .is_null()
                    .or(pats::superseded_at.gt(now)),
            )
            .count()
            .get_result(conn)
    }

    /// Active token counts for these users, in one query.
    pub fn active_counts(
        conn: &mut DbConnection,
        users: &[UserId],
        now: NaiveDateTime,
    ) -> QueryResult<std::collections::HashMap<UserId, i64>> {
        let rows: Vec<(UserId, i64)> = pats::table
            .filter(pats::user_id.eq_any(users))
            .filter(pats::revoked_at.is_null())
            .filter(pats::expires_at.is_null().or(pats::expires_at.gt(now)))
            .filter(
                pats::superseded_at
                    .is_null()
                    .or(pats::superseded_at.gt(now)),
            )
            .group_by(pats::user_id)
            .select((pats::user_id, diesel::dsl::count_star()))
            .load(conn)?;
        Ok(rows.into_iter().collect())
    }

    /// The user's tokens that still work.
    pub fn active_of(
        conn: &mut DbConnection,
        user: &UserId,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<Self>> {
        pats::table
            .filter(pats::user_id.eq(user))
            .filter(pats::revoked_at.is_null())
            .filter(pats::expires_at.is_null().or(pats::expires_at.gt(now)))
            .filter(
                pats::superseded_at
                    .is_null()
                    .or(pats::superseded_at.gt(now)),
            )
            .order(pats::created_at.desc())
            .load(conn)
    }

    /// Marks a live token as regenerated: `successor` replaces it, and it stops at `cut_over`
    /// at the latest. Only a token not yet replaced, revoked or expired: of several
    /// regenerations at once exactly one gets the row.
    pub fn mark_replaced(
        conn: &mut DbConnection,
        id: &TokenId,
        successor: &TokenId,
        cut_over: NaiveDateTime,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            pats::table
                .find(id)
                .filter(pats::replaced_by.is_null())
                .filter(pats::revoked_at.is_null())
                .filter(pats::expires_at.is_null().or(pats::expires_at.gt(now))),
        )
        .set((
            pats::replaced_by.eq(successor),
            pats::superseded_at.eq(cut_over),
        ))
        .execute(conn)
    }

    /// The successor's first use: its predecessor stops now, if it has not already.
    pub fn cut_over(
        conn: &mut DbConnection,
        id: &TokenId,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        let n = diesel::update(pats::table.find(id).filter(pats::superseded_at.gt(now)))
            .set(pats::superseded_at.eq(now))
            .execute(conn)?;
        // Not audited, yet the predecessor may be cached with its later cut-over.
        if n > 0 {
            crate::auth::credential_cache::principals_changed(conn)?;
        }
        Ok(n)
    }

    /// True for the one use after rotation an hour that is alerted (all instances agree).
    pub fn claim_rotation_alert(
        conn: &mut DbConnection,
        id: &TokenId,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let before = now - chrono::Duration::seconds(ROTATION_ALERT_EVERY_SECS);
        diesel::update(
            pats::table.find(id).filter(
                pats::rotation_alerted_at
                    .is_null()
                    .or(pats::rotation_alerted_at.le(before)),
            ),
        )
        .set(pats::rotation_alerted_at.eq(now))
        .execute(conn)
        .map(|n| n > 0)
    }

    /// The tokens with any of these hashes, and their owners, in one query.
    pub fn find_by_hashes(
        conn: &mut DbConnection,
        hashes: &[String],
    ) -> QueryResult<Vec<(Self, User)>> {
        pats::table
            .inner_join(users::table)
            .filter(pats::token_hash.eq_any(hashes))
            .select((Self::as_select(), User::as_select()))
            .load(conn)
    }

    /// Revokes these tokens (those not revoked yet); returns how many.
    pub fn revoke_many(
        conn: &mut DbConnection,
        ids: &[TokenId],
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            pats::table
                .filter(pats::id.eq_any(ids))
                .filter(pats::revoked_at.is_null()),
        )
        .set(pats::revoked_at.eq(now))
        .execute(conn)
    }

    /// The company's working tokens that live past `limit` (or forever), with their owners.
    pub fn outliving(
        conn: &mut DbConnection,
        company: &CompanyId,
        limit: NaiveDateTime,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<(Self, User)>> {
        pats::table
            .inner_join(users::table)
            .filter(users::company_id.eq(company))
            .filter(pats::revoked_at.is_null())
            .filter(pats::expires_at.is_null().or(pats::expires_at.gt(limit)))
            .filter(
                pats::superseded_at
                    .is_null()
                    .or(pats::superseded_at.gt(now)),
            )
            .select((Self::as_select(), User::as_select()))
            .load(conn)
    }

    /// Sets these tokens' expiry to `at`.
    pub fn set_expiry(
        conn: &mut DbConnection,
        ids: &[TokenId],
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(pats::table.filter(pats::id.eq_any(ids)))
            .set(pats::expires_at.eq(Some(at)))
            .execute(conn)
    }

    /// Working tokens of the company's members (role member).
    pub fn count_active_of_members(
        conn: &mut DbConnection,
        company: &CompanyId,
        now: NaiveDateTime,
    ) -> QueryResult<i64> {
        pats::table
            .inner_join(users::table)
            .filter(users::company_id.eq(company))
            .filter(users::role.eq(Role::Member))
            .filter(users::status.eq(UserStatus::Active))
            .filter(pats::revoked_at.is_null())
            .filter(pats::expires_at.is_null().or(pats::expires_at.gt(now)))
            .filter(
                pats::superseded_at
                    .is_null()
                    .or(pats::superseded_at.gt(now)),
            )
            .count()
            .get_result(conn)
    }

    pub fn touch(&self, conn: &mut DbConnection, now: NaiveDateTime, ip: &str) -> QueryResult<()> {
        if last_used_is_stale(self.last_used_at, self.last_used_ip.as_deref(), now, ip) {
            diesel::update(pats::table.find(&self.id))
                .set((pats::last_used_at.eq(now), pats::last_used_ip.eq(ip)))
                .execute(conn)?;
        }
        Ok(())
    }
}

/// Which user a Platform API Key request acts as, looked up with the key.
#[derive(Debug, Clone, Copy)]
pub enum KeyActsAs<'a> {
    /// The company's active owner (no user header, on endpoints that allow it).
    Owner,
    /// The user named in the header, if they belong to the key's company.
    User(&'a UserId),
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = keys)]
pub struct PlatformApiKey {
    pub id: ApiKeyId,
    pub company_id: CompanyId,
    pub name: String,
    pub secret_hash: String,
    pub prefix: String,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub last_used_ip: Option<String>,
    pub deactivated_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    /// The key this one was regenerated from.
    pub replaces: Option<ApiKeyId>,
    /// The key regenerated from this one.
    pub replaced_by: Option<ApiKeyId>,
    /// When this key stops because it was regenerated (see `is_cut_over`).
    pub superseded_at: Option<NaiveDateTime>,
    pub rotation_alerted_at: Option<NaiveDateTime>,
    /// The owner's own words about it (what uses it, who to ask).
    pub note: Option<String>,
}

impl PlatformApiKey {
    /// A new name and note; the caller has checked both.
    pub fn describe(
        conn: &mut DbConnection,
        id: &ApiKeyId,
        name: &str,
        note: Option<&str>,
    ) -> QueryResult<usize> {
        diesel::update(keys::table.find(id))
            .set((keys::name.eq(name), keys::note.eq(note)))
            .execute(conn)
    }

    pub fn status(&self, now: NaiveDateTime) -> CredentialStatus {
        if self.revoked_at.is_some() {
            CredentialStatus::Revoked
        } else if is_cut_over(self.superseded_at, now) {
            CredentialStatus::Replaced
        } else if self.deactivated_at.is_some() {
            CredentialStatus::Deactivated
        } else if self.expires_at <= now {
            CredentialStatus::Expired
        } else {
            CredentialStatus::Active
        }
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(keys::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }

    pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<Self>> {
        // No `.first()`: `secret_hash` is UNIQUE; see `PersonalAccessToken::find_by_hash`.
        let rows: Vec<Self> = load_native!(
            conn,
            keys::table
                .filter(keys::secret_hash.eq(hash))
                .select(Self::as_select())
        )?;
        Ok(rows.into_iter().next())
    }

    /// The key with this hash and, in the same indexed lookup, the user it would act as:
    /// the company's active owner, or the named user if they belong to the key's company
    /// (whatever their status; the caller checks it). `None` for the user when there is none.
    pub fn find_by_hash_with_user(
        conn: &mut DbConnection,
        hash: &str,
        acting: KeyActsAs<'_>,
    ) -> QueryResult<Option<(Self, Option<User>)>> {
        let rows: Vec<(Self, Option<User>)> = match acting {
            KeyActsAs::Owner => load_native!(
                conn,
                keys::table
                    .left_join(
                        users::table.on(users::company_id
                            .eq(keys::company_id)
                            .and(users::role.eq(Role::Owner))
                            .and(users::status.eq(UserStatus::Active))),
                    )
                    .filter(keys::secret_hash.eq(hash))
                    .select((Self::as_select(), Option::<User>::as_select())),
            )?,
            KeyActsAs::User(id) => load_native!(
                conn,
                keys::table
                    .left_join(
                        users::table
                            .on(users::company_id.eq(keys::company_id).and(users::id.eq(id))),
                    )
                    .filter(keys::secret_hash.eq(hash))
                    .select((Self::as_select(), Option::<User>::as_select())),
            )?,
        };
        Ok(rows.into_iter().next())
    }

    /// The company's keys with the name of who created each.
    pub fn list_for_company(
        conn: &mut DbConnection,
        company: &CompanyId,
    ) -> QueryResult<Vec<(Self, String)>> {
        keys::table
            .inner_join(users::table.on(users::id.eq(keys::created_by)))
            .filter(keys::company_id.eq(company))
            .order((keys::revoked_at.is_null().desc(), keys::created_at.desc()))
            .select((Self::as_select(), users::name))
            .load(conn)
    }

    pub fn find_in_company(
        conn: &mut DbConnection,
        company: &CompanyId,
        id: &ApiKeyId,
    ) -> QueryResult<Option<Self>> {
        keys::table
            .filter(keys::id.eq(id))
            .filter(keys::company_id.eq(company))
            .first(conn)
            .optional()
    }

    pub fn created_by_user(conn: &mut DbConnection, user: &UserId) -> QueryResult<Vec<Self>> {
        keys::table
            .filter(keys::created_by.eq(user))
            .filter(keys::revoked_at.is_null())
            .order(keys::created_at.desc())
            .load(conn)
    }

    /// Deactivates an active key, or activates a deactivated one; a revoked key stays revoked.
    /// Changes only a key that is not already in the wanted state, so of several requests at
    /// once exactly one gets 1 row and the others 0.
    pub fn set_deactivated(
        conn: &mut DbConnection,
        id: &ApiKeyId,
        deactivated: bool,
    ) -> QueryResult<usize> {
        let live = keys::table.find(id).filter(keys::revoked_at.is_null());
        if deactivated {
            diesel::update(live.filter(keys::deactivated_at.is_null()))
                .set(keys::deactivated_at.eq(Some(super::now())))
                .execute(conn)
        } else {
            diesel::update(live.filter(keys::deactivated_at.is_not_null()))
                .set(keys::deactivated_at.eq(None::<NaiveDateTime>))
                .execute(conn)
        }
    }

    pub fn revoke(conn: &mut DbConnection, id: &ApiKeyId) -> QueryResult<usize> {
        diesel::update(keys::table.find(id).filter(keys::revoked_at.is_null()))
            .set(keys::revoked_at.eq(super::now()))
            .execute(conn)
    }

    /// Marks an active key as regenerated (see `PersonalAccessToken::mark_replaced`).
    pub fn mark_replaced(
        conn: &mut DbConnection,
        id: &ApiKeyId,
        successor: &ApiKeyId,
        cut_over: NaiveDateTime,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            keys::table
                .find(id)
                .filter(keys::replaced_by.is_null())
                .filter(keys::revoked_at.is_null())
                .filter(keys::deactivated_at.is_null())
                .filter(keys::expires_at.gt(now)),
        )
        .set((
            keys::replaced_by.eq(successor),
            keys::superseded_at.eq(cut_over),
        ))
        .execute(conn)
    }

    /// The successor's first use: its predecessor stops now, if it has not already.
    pub fn cut_over(
        conn: &mut DbConnection,
        id: &ApiKeyId,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        let n = diesel::update(keys::table.find(id).filter(keys::superseded_at.gt(now)))
            .set(keys::superseded_at.eq(now))
            .execute(conn)?;
        // Not audited, yet the predecessor may be cached with its later cut-over.
        if n > 0 {
            crate::auth::credential_cache::principals_changed(conn)?;
        }
        Ok(n)
    }

    /// True for the one use after rotation an hour that is alerted.
    pub fn claim_rotation_alert(
        conn: &mut DbConnection,
        id: &ApiKeyId,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let before = now - chrono::Duration::seconds(ROTATION_ALERT_EVERY_SECS);
        diesel::update(
            keys::table.find(id).filter(
                keys::rotation_alerted_at
                    .is_null()
                    .or(keys::rotation_alerted_at.le(before)),
            ),
        )
        .set(keys::rotation_alerted_at.eq(now))
        .execute(conn)
        .map(|n| n > 0)
    }

    /// The keys with any of these hashes, in one query.
    pub fn find_by_hashes(conn: &mut DbConnection, hashes: &[String]) -> QueryResult<Vec<Self>> {
        keys::table
            .filter(keys::secret_hash.eq_any(hashes))
            .select(Self::as_select())
            .load(conn)
    }

    /// Revokes these keys (those not revoked yet); returns how many.
    pub fn revoke_many(
        conn: &mut DbConnection,
        ids: &[ApiKeyId],
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            keys::table
                .filter(keys::id.eq_any(ids))
                .filter(keys::revoked_at.is_null()),
        )
        .set(keys::revoked_at.eq(now))
        .execute(conn)
    }

    pub fn touch(&self, conn: &mut DbConnection, now: NaiveDateTime, ip: &str) -> QueryResult<()> {
        if last_used_is_stale(self.last_used_at, self.last_used_ip.as_deref(), now, ip) {
            diesel::update(keys::table.find(&self.id))
                .set((keys::last_used_at.eq(now), keys::last_used_ip.eq(ip)))
                .execute(conn)?;
        }
        Ok(())
    }
}
