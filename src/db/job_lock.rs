//! PostgreSQL advisory locks that make periodic work run on one instance at a time. Every lock
//! id the console uses is here, so two jobs can never share one by accident.

use diesel::prelude::*;

use super::DbConnection;

/// A piece of work that one instance at a time may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobLock {
    /// Migrating the schema at start-up (waited for, not skipped).
    Migration,
    /// Claiming due expiry reminders.
    Reminders,
    /// Purging expired sessions, SSO requests and long-expired invitations.
    Housekeeping,
}

impl JobLock {
    /// Arbitrary but fixed and distinct ("meetergo", "meetremi", "meethous" in ASCII).
    pub const fn id(self) -> i64 {
        match self {
            Self::Migration => 0x6d65_6574_6572_676f,
            Self::Reminders => 0x6d65_6574_7265_6d69,
            Self::Housekeeping => 0x6d65_6574_686f_7573,
        }
    }

    /// Takes the lock for the rest of the current transaction if no other instance holds it;
    /// false when one does (that instance is doing the work: skip it, don't wait). SQLite has
    /// one instance, and its write transaction already admits one writer at a time.
    pub fn try_take_for_transaction(self, conn: &mut DbConnection) -> QueryResult<bool> {
        match conn {
            DbConnection::Postgres(c) => diesel::select(
                diesel::dsl::sql::<diesel::sql_types::Bool>("pg_try_advisory_xact_lock(")
                    .bind::<diesel::sql_types::BigInt, _>(self.id())
                    .sql(")"),
            )
            .get_result(c),
            DbConnection::Sqlite(_) => Ok(true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::JobLock;

    #[test]
    fn every_lock_has_its_own_id() {
        let all = [
            JobLock::Migration,
            JobLock::Reminders,
            JobLock::Housekeeping,
        ];
        let ids: std::collections::BTreeSet<i64> = all.iter().map(|l| l.id()).collect();
        assert_eq!(ids.len(), all.len());
    }
}
