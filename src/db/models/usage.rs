//! Per-credential API usage: requests per UTC day and outcome, and the addresses each
//! credential was used from. Written in batches by `services::usage`, read by the detail pages
//! and the offboarding preview.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::schema::{credential_ips as ips, credential_usage_daily as daily};
use crate::db::DbConnection;

/// Runs an `INSERT ... ON CONFLICT` on the backend's own connection: the `MultiConnection`
/// has no ON CONFLICT clause, while both SQLite and PostgreSQL write the same SQL for it.
macro_rules! execute_native {
    ($conn:expr, $query:expr $(,)?) => {
        match $conn {
            DbConnection::Sqlite(c) => diesel::RunQueryDsl::execute($query, c),
            DbConnection::Postgres(c) => diesel::RunQueryDsl::execute($query, c),
        }
    };
}

/// Adds `requests` to the day's count for this credential and outcome. Adding (never
/// overwriting) is what lets several instances flush into one database.
pub fn add_requests(
    conn: &mut DbConnection,
    credential: &str,
    day: NaiveDate,
    outcome: &str,
    requests: i64,
) -> QueryResult<()> {
    execute_native!(
        conn,
        diesel::insert_into(daily::table)
            .values((
                daily::credential_id.eq(credential),
                daily::day.eq(day),
                daily::outcome.eq(outcome),
                daily::requests.eq(requests),
            ))
            .on_conflict((daily::credential_id, daily::day, daily::outcome))
            .do_update()
            .set(daily::requests.eq(daily::requests + excluded(daily::requests))),
    )
    .map(|_| ())
}

/// Records that `credential` was used from `ip` between `first` and `last`: the stored
/// first sighting only moves earlier, the last only later (whichever instance flushes first).
pub fn ip_seen(
    conn: &mut DbConnection,
    credential: &str,
    ip: &str,
    first: NaiveDateTime,
    last: NaiveDateTime,
) -> QueryResult<()> {
    let inserted = execute_native!(
        conn,
        diesel::insert_into(ips::table)
            .values((
                ips::credential_id.eq(credential),
                ips::ip.eq(ip),
                ips::first_seen.eq(first),
                ips::last_seen.eq(last),
            ))
            .on_conflict((ips::credential_id, ips::ip))
            .do_nothing(),
    )?;
    if inserted == 0 {
        let row = ips::table
            .filter(ips::credential_id.eq(credential))
            .filter(ips::ip.eq(ip));
        diesel::update(row.filter(ips::last_seen.lt(last)))
            .set(ips::last_seen.eq(last))
            .execute(conn)?;
        diesel::update(row.filter(ips::first_seen.gt(first)))
            .set(ips::first_seen.eq(first))
            .execute(conn)?;
    }
    Ok(())
}

/// (day, outcome, requests) for one credential from `since` on.
pub fn daily_since(
    conn: &mut DbConnection,
    credential: &str,
    since: NaiveDate,
) -> QueryResult<Vec<(NaiveDate, String, i64)>> {
    daily::table
        .filter(daily::credential_id.eq(credential))
        .filter(daily::day.ge(since))
        .select((daily::day, daily::outcome, daily::requests))
        .load(conn)
}

/// An address a credential was used from.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ips)]
pub struct CredentialIp {
    pub credential_id: String,
    pub ip: String,
    pub first_seen: NaiveDateTime,
    pub last_seen: NaiveDateTime,
}

impl CredentialIp {
    /// The `limit` addresses a credential was used from most recently, latest first.
    pub fn recent(conn: &mut DbConnection, credential: &str, limit: i64) -> QueryResult<Vec<Self>> {
        ips::table
            .filter(ips::credential_id.eq(credential))
            .order((ips::last_seen.desc(), ips::ip.asc()))
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// Every address these credentials were used from since `since`, latest first.
    pub fn seen_since(
        conn: &mut DbConnection,
        credentials: &[String],
        since: NaiveDateTime,
    ) -> QueryResult<Vec<Self>> {
        ips::table
            .filter(ips::credential_id.eq_any(credentials))
            .filter(ips::last_seen.ge(since))
            .order((ips::last_seen.desc(), ips::ip.asc()))
            .select(Self::as_select())
            .load(conn)
    }
}

/// Drops daily counts before `day` and addresses not seen since `before`.
pub fn purge_usage(
    conn: &mut DbConnection,
    day: NaiveDate,
    before: NaiveDateTime,
) -> QueryResult<usize> {
    let days = diesel::delete(daily::table.filter(daily::day.lt(day))).execute(conn)?;
    let addresses = diesel::delete(ips::table.filter(ips::last_seen.lt(before))).execute(conn)?;
    Ok(days + addresses)
}
