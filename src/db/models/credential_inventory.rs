//! The credentials inventory: every member's PATs and the company's API keys in one list,
//! filtered and sorted by the database.
//!
//! The two kinds live in two tables. Each is filtered, sorted and cut in SQL to the rows the
//! requested page can need (`offset + limit`); the two sorted lists are then merged here and
//! the page is taken from the merge. Merging prefixes gives a prefix of the full merge, so
//! pages never overlap or skip, and nothing beyond the page's depth is loaded. Text is sorted
//! bytewise on both backends (`COLLATE "C"` on PostgreSQL, SQLite's default), which is also
//! Rust's order, so the merge agrees with each database's order.

use std::cmp::Ordering;

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::db::schema::{personal_access_tokens as pats, platform_api_keys as keys, users};
use crate::db::DbConnection;
use crate::domain::{CompanyId, UserId};

use super::{CredentialStatus, PersonalAccessToken, PlatformApiKey, User};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Pat,
    ApiKey,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pat => "pat",
            Self::ApiKey => "api_key",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pat" => Some(Self::Pat),
            "api_key" => Some(Self::ApiKey),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InventorySort {
    #[default]
    Created,
    Expires,
    LastUsed,
    Name,
    Owner,
}

impl InventorySort {
    pub const ALL: [Self; 5] = [
        Self::Created,
        Self::Expires,
        Self::LastUsed,
        Self::Name,
        Self::Owner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Expires => "expires",
            Self::LastUsed => "last_used",
            Self::Name => "name",
            Self::Owner => "owner",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// What the inventory shows; every field narrows the list.
#[derive(Debug, Clone)]
pub struct InventoryFilter {
    /// The PAT's owner or the key's creator.
    pub person: Option<UserId>,
    pub kind: Option<CredentialKind>,
    pub status: Option<CredentialStatus>,
    /// Not revoked, and expiring after `now` but no later than this.
    pub expiring_by: Option<NaiveDateTime>,
    /// Last used no later than this, or never used and created no later than this.
    pub unused_since: Option<NaiveDateTime>,
    pub sort: InventorySort,
    pub descending: bool,
    pub now: NaiveDateTime,
}

/// One row of the inventory: a PAT with its owner, or an API key with its creator.
#[derive(Debug, Clone)]
pub struct InventoryItem {
    pub kind: CredentialKind,
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub last_used_ip: Option<String>,
    pub status: CredentialStatus,
    pub person: User,
}

impl InventoryItem {
    fn from_pat(t: PersonalAccessToken, owner: User, now: NaiveDateTime) -> Self {
        Self {
            kind: CredentialKind::Pat,
            status: t.status(now),
            id: t.id.to_string(),
            name: t.name,
            prefix: t.prefix,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            last_used_ip: t.last_used_ip,
            person: owner,
        }
    }

    fn from_key(k: PlatformApiKey, creator: User, now: NaiveDateTime) -> Self {
        Self {
            kind: CredentialKind::ApiKey,
            status: k.status(now),
            id: k.id.to_string(),
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            expires_at: Some(k.expires_at),
            last_used_at: k.last_used_at,
            last_used_ip: k.last_used_ip,
            person: creator,
        }
    }

    /// The order the database sorted each kind in: missing times last in either direction,
    /// then the id as a tie-break.
    fn compare(&self, other: &Self, sort: InventorySort, descending: bool) -> Ordering {
        fn times(a: Option<NaiveDateTime>, b: Option<NaiveDateTime>, desc: bool) -> Ordering {
            match (a, b) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) if desc => b.cmp(&a),
                (Some(a), Some(b)) => a.cmp(&b),
            }
        }
        let directed = |o: Ordering| if descending { o.reverse() } else { o };
        let primary = match sort {
            InventorySort::Created => directed(self.created_at.cmp(&other.created_at)),
            InventorySort::Expires => times(self.expires_at, other.expires_at, descending),
            InventorySort::LastUsed => times(self.last_used_at, other.last_used_at, descending),
            InventorySort::Name => directed(
                self.name
                    .to_ascii_lowercase()
                    .cmp(&other.name.to_ascii_lowercase()),
            ),
            InventorySort::Owner => directed(
                self.person
                    .name
                    .to_ascii_lowercase()
                    .cmp(&other.person.name.to_ascii_lowercase()),
            ),
        };
        primary.then_with(|| directed(self.id.cmp(&other.id)))
    }
}

/// A text column in bytewise order, lower-cased (ASCII), the same on both backends.
fn text_order(
    conn: &DbConnection,
    column: &str,
    lower: bool,
) -> diesel::expression::SqlLiteral<Text> {
    let expr = if lower {
        format!("lower({column})")
    } else {
        column.to_owned()
    };
    match conn {
        DbConnection::Postgres(_) => sql::<Text>(&format!("{expr} COLLATE \"C\"")),
        DbConnection::Sqlite(_) => sql::<Text>(&expr),
    }
}

/// Builds `$q.order_by(...)` for one table: primary key of the sort (missing values last),
/// then the id, both in the requested direction.
macro_rules! ordered {
    ($q:expr, $conn:expr, $f:expr, $t:ident, $created:expr, $expires:expr, $last_used:expr) => {{
        let q = $q;
        let desc = $f.descending;
        let id = text_order($conn, concat!(stringify!($t), ".id"), false);
        let name = text_order($conn, concat!(stringify!($t), ".name"), true);
        let owner = text_order($conn, "users.name", true);
        let q = match $f.sort {
            InventorySort::Created if desc => q.order_by($created.desc()),
            InventorySort::Created => q.order_by($created.asc()),
            InventorySort::Expires if desc => {
                q.order_by(($expires.is_null().asc(), $expires.desc()))
            }
            InventorySort::Expires => q.order_by(($expires.is_null().asc(), $expires.asc())),
            InventorySort::LastUsed if desc => {
                q.order_by(($last_used.is_null().asc(), $last_used.desc()))
            }
            InventorySort::LastUsed => q.order_by(($last_used.is_null().asc(), $last_used.asc())),
            InventorySort::Name if desc => q.order_by(name.desc()),
            InventorySort::Name => q.order_by(name.asc()),
            InventorySort::Owner if desc => q.order_by(owner.desc()),
            InventorySort::Owner => q.order_by(owner.asc()),
        };
        if desc {
            q.then_order_by(id.desc())
        } else {
            q.then_order_by(id.asc())
        }
    }};
}

impl InventoryItem {
    /// A page of the company's credentials matching `filter`, and how many match in all.
    pub fn search(
        conn: &mut DbConnection,
        company: &CompanyId,
        filter: &InventoryFilter,
        limit: i64,
        offset: i64,
    ) -> QueryResult<(Vec<Self>, i64)> {
        let now = filter.now;
        let want_pats = filter.kind != Some(CredentialKind::ApiKey)
            // A PAT is never deactivated.
            && filter.status != Some(CredentialStatus::Deactivated);
        let want_keys = filter.kind != Some(CredentialKind::Pat);
        let depth = offset.saturating_add(limit);

        let pat_query = || {
            let mut q = pats::table
                .inner_join(users::table)
                .filter(users::company_id.eq(company))
                .into_boxed();
            if let Some(person) = &filter.person {
                q = q.filter(pats::user_id.eq(person));
            }
            // In the order `PersonalAccessToken::status` decides: revoked, replaced, expired.
            let not_cut_over = pats::superseded_at
                .is_null()
                .or(pats::superseded_at.gt(now));
            q = match filter.status {
                Some(CredentialStatus::Active) => q
                    .filter(pats::revoked_at.is_null())
                    .filter(not_cut_over)
                    .filter(pats::expires_at.is_null().or(pats::expires_at.gt(now))),
                Some(CredentialStatus::Expired) => q
                    .filter(pats::revoked_at.is_null())
                    .filter(not_cut_over)
                    .filter(pats::expires_at.le(now)),
                Some(CredentialStatus::Replaced) => q
                    .filter(pats::revoked_at.is_null())
                    .filter(pats::superseded_at.le(now)),
                Some(CredentialStatus::Revoked) => q.filter(pats::revoked_at.is_not_null()),
                Some(CredentialStatus::Deactivated) | None => q,
            };
            if let Some(by) = filter.expiring_by {
                q = q
                    .filter(pats::revoked_at.is_null())
                    .filter(pats::expires_at.gt(now))
                    .filter(pats::expires_at.le(by));
            }
            if let Some(since) = filter.unused_since {
                q = q.filter(
                    pats::last_used_at
                        .le(since)
                        .or(pats::last_used_at.is_null().and(pats::created_at.le(since))),
                );
            }
            q
        };
        let key_query = || {
            let mut q = keys::table
                .inner_join(users::table.on(users::id.eq(keys::created_by)))
                .filter(keys::company_id.eq(company))
                .into_boxed();
            if let Some(person) = &filter.person {
                q = q.filter(keys::created_by.eq(person));
            }
            // In the order `PlatformApiKey::status` decides: revoked, replaced, deactivated,
            // expired.
            let not_cut_over = keys::superseded_at
                .is_null()
                .or(keys::superseded_at.gt(now));
            let live = keys::revoked_at
                .is_null()
                .and(not_cut_over)
                .and(keys::deactivated_at.is_null());
            q = match filter.status {
                Some(CredentialStatus::Active) => q.filter(live).filter(keys::expires_at.gt(now)),
                Some(CredentialStatus::Expired) => q.filter(live).filter(keys::expires_at.le(now)),
                Some(CredentialStatus::Replaced) => q
                    .filter(keys::revoked_at.is_null())
                    .filter(keys::superseded_at.le(now)),
                Some(CredentialStatus::Deactivated) => q
                    .filter(keys::revoked_at.is_null())
                    .filter(not_cut_over)
                    .filter(keys::deactivated_at.is_not_null()),
                Some(CredentialStatus::Revoked) => q.filter(keys::revoked_at.is_not_null()),
                None => q,
            };
            if let Some(by) = filter.expiring_by {
                q = q
                    .filter(keys::revoked_at.is_null())
                    .filter(keys::expires_at.gt(now))
                    .filter(keys::expires_at.le(by));
            }
            if let Some(since) = filter.unused_since {
                q = q.filter(
                    keys::last_used_at
                        .le(since)
                        .or(keys::last_used_at.is_null().and(keys::created_at.le(since))),
                );
            }
            q
        };

        let mut total = 0;
        let mut pat_rows = Vec::new();
        if want_pats {
            total += pat_query().count().get_result::<i64>(conn)?;
            let q = ordered!(
                pat_query(),
                conn,
                filter,
                personal_access_tokens,
                pats::created_at,
                pats::expires_at,
                pats::last_used_at
            );
            pat_rows = q
                .select((PersonalAccessToken::as_select(), User::as_select()))
                .limit(depth)
                .load::<(PersonalAccessToken, User)>(conn)?
                .into_iter()
                .map(|(t, u)| Self::from_pat(t, u, now))
                .collect();
        }
        let mut key_rows = Vec::new();
        if want_keys {
            total += key_query().count().get_result::<i64>(conn)?;
            let q = ordered!(
                key_query(),
                conn,
                filter,
                platform_api_keys,
                keys::created_at,
                keys::expires_at.nullable(),
                keys::last_used_at
            );
            key_rows = q
                .select((PlatformApiKey::as_select(), User::as_select()))
                .limit(depth)
                .load::<(PlatformApiKey, User)>(conn)?
                .into_iter()
                .map(|(k, u)| Self::from_key(k, u, now))
                .collect();
        }
        let merged = merge(pat_rows, key_rows, |a, b| {
            a.compare(b, filter.sort, filter.descending)
        });
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let take = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok((merged.into_iter().skip(skip).take(take).collect(), total))
    }
}

/// Merges two lists each sorted by `cmp` into one sorted list.
fn merge<T>(a: Vec<T>, b: Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => cmp(x, y) != Ordering::Greater,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_a { a.next() } else { b.next() };
        out.extend(next);
    }
    out
}

impl PersonalAccessToken {
    /// The token `id` if its owner belongs to `company`, with that owner.
    pub fn find_in_company(
        conn: &mut DbConnection,
        company: &CompanyId,
        id: &crate::domain::TokenId,
    ) -> QueryResult<Option<(Self, User)>> {
        pats::table
            .inner_join(users::table)
            .filter(pats::id.eq(id))
            .filter(users::company_id.eq(company))
            .select((Self::as_select(), User::as_select()))
            .first(conn)
            .optional()
    }

    /// Revokes the token at `at` unless it is revoked already: of several revocations at
    /// once exactly one gets 1 row.
    pub fn revoke_at(
        conn: &mut DbConnection,
        id: &crate::domain::TokenId,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(pats::table.find(id).filter(pats::revoked_at.is_null()))
            .set(pats::revoked_at.eq(at))
            .execute(conn)
    }

    /// The user's working tokens that expire after `now` and no later than `by`, soonest first.
    pub fn expiring_of(
        conn: &mut DbConnection,
        user: &UserId,
        now: NaiveDateTime,
        by: NaiveDateTime,
    ) -> QueryResult<Vec<Self>> {
        pats::table
            .filter(pats::user_id.eq(user))
            .filter(pats::revoked_at.is_null())
            .filter(pats::expires_at.gt(now))
            .filter(pats::expires_at.le(by))
            .order((pats::expires_at.asc(), pats::created_at.asc()))
            .load(conn)
    }
}

impl PlatformApiKey {
    /// The company's working keys that expire after `now` and no later than `by`, soonest first.
    pub fn expiring_in_company(
        conn: &mut DbConnection,
        company: &CompanyId,
        now: NaiveDateTime,
        by: NaiveDateTime,
    ) -> QueryResult<Vec<Self>> {
        keys::table
            .filter(keys::company_id.eq(company))
            .filter(keys::revoked_at.is_null())
            .filter(keys::deactivated_at.is_null())
            .filter(keys::expires_at.gt(now))
            .filter(keys::expires_at.le(by))
            .order((keys::expires_at.asc(), keys::created_at.asc()))
            .load(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::merge;

    #[test]
    fn merging_keeps_the_order() {
        assert_eq!(
            merge(vec![1, 4, 9], vec![2, 3, 10], |a, b| a.cmp(b)),
            vec![1, 2, 3, 4, 9, 10]
        );
        assert_eq!(merge(vec![], vec![2], |a: &i32, b| a.cmp(b)), vec![2]);
    }
}
