//! The connection pool, and how it tells a usable connection from a dead one.
//!
//! r2d2 hands a connection back to the pool unless the manager says it is broken, and hands it
//! out again without a check. So the manager must notice three things: a connection returned
//! while its job panicked, one left inside a transaction (diesel's `is_broken`), and one whose
//! server went away (a PostgreSQL restart). The last is only visible when a query on it fails,
//! so `Db::run` checks the connection after a failed job and flags it; and a connection that sat
//! idle for a while is pinged before it is handed out, since its server may have restarted in
//! the meantime.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};

use super::{DatabaseUrl, DbConnection};
use crate::auth::credential_cache::CredentialCache;
use crate::error::AppError;

/// A connection idle for longer than this is pinged before use.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(2);

/// How long a checkout waits for a connection while the database is known to be down: long
/// enough for a connection attempt, short enough that nobody waits the whole pool timeout.
const CHECKOUT_WAIT_WHILE_DOWN: Duration = Duration::from_millis(500);

/// A pooled connection with what the pool needs to know about it.
pub struct Pooled {
    conn: DbConnection,
    /// Its server went away: never hand it out again.
    dead: bool,
    /// When it was last given back to the pool (or opened).
    returned_at: Instant,
}

/// Opens connections of the configured backend for r2d2.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
    health: Arc<Health>,
    durability: Durability,
}

/// Whether a commit waits until it is on disk (PostgreSQL's `synchronous_commit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every commit is flushed before it returns: the default for all work.
    Flushed,
    /// Commits return before their WAL is flushed (within ~0.6 s it is). For bookkeeping whose
    /// loss in a database crash costs at most a sign-in, see `Db::run_bookkeeping`.
    Relaxed,
}

impl Manager {
    pub(super) fn new(url: DatabaseUrl, health: Arc<Health>, durability: Durability) -> Self {
        Self {
            url,
            health,
            durability,
        }
    }

    fn open(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; the busy timeout makes a writer wait
                // for the lock instead of failing at once (write transactions begin IMMEDIATE
                // so that the wait applies to them too, see `Db::transaction`).
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(&with_connect_timeout(url))
                    .map_err(r2d2::Error::ConnectionError)?;
                if self.durability == Durability::Relaxed {
                    conn.batch_execute("SET synchronous_commit = off")
                        .map_err(r2d2::Error::QueryError)?;
                }
                Ok(DbConnection::Postgres(conn))
            }
        }
    }
}

/// A server that does not answer at all (rather than refusing) must not hold a pool thread
/// for ever: libpq's `connect_timeout`, unless the URL sets one.
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout=3")
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Pooled, r2d2::Error> {
        match self.open() {
            Ok(conn) => {
                self.health.mark_up();
                Ok(Pooled {
                    conn,
                    dead: false,
                    returned_at: Instant::now(),
                })
            }
            Err(e) => {
                self.health.mark_down();
                Err(e)
            }
        }
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), r2d2::Error> {
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// Called when a connection comes back: keep it only if it is still fit for the next job.
    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.returned_at = Instant::now();
        // A panic may have left anything half-done on it; an open transaction (a job that
        // returned early, or panicked inside one) must never be joined by the next job.
        std::thread::panicking() || conn.dead || conn.conn.is_broken()
    }
}

/// Whether the database was reachable at the last attempt, shared by the pool and `Db`.
#[derive(Debug, Default)]
pub struct Health {
    /// Milliseconds since `epoch` when a connection attempt last failed; 0 while up.
    down_since_ms: AtomicU64,
    epoch: EpochInstant,
}

#[derive(Debug)]
struct EpochInstant(Instant);

impl Default for EpochInstant {
    fn default() -> Self {
        Self(Instant::now())
    }
}

impl Health {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.0.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn mark_down(&self) {
        let now = self.now_ms();
        let _ = self
            .down_since_ms
            .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
    }

    fn mark_up(&self) {
        self.down_since_ms.store(0, Ordering::Relaxed);
    }

    pub fn is_down(&self) -> bool {
        self.down_since_ms.load(Ordering::Relaxed) != 0
    }
}

pub(super) type Pool = r2d2::Pool<Manager>;

/// r2d2 logs each failed connection attempt as an error; while the database is down that is
/// an outage to watch (a warning, with the cause), not a bug in the console.
#[derive(Debug)]
pub(super) struct LogAsWarning;

impl r2d2::HandleError<r2d2::Error> for LogAsWarning {
    fn handle_error(&self, error: r2d2::Error) {
        tracing::warn!(%error, "cannot open a database connection");
    }
}

/// A connection checked out of the pool; derefs to the `DbConnection` that queries take.
pub struct PooledConnection(
    r2d2::PooledConnection<Manager>,
    /// For a connection handed to synchronous code (`Db::conn`): whatever it wrote, the
    /// credential cache forgets what it knew when the connection is given back.
    pub(super) Option<Arc<CredentialCache>>,
);

impl Drop for PooledConnection {
    fn drop(&mut self) {
        if let Some(cache) = &self.1 {
            cache.invalidate(crate::auth::credential_cache::Invalidation::Local);
        }
    }
}

impl Deref for PooledConnection {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.0.conn
    }
}

impl DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.0.conn
    }
}

impl PooledConnection {
    /// After a failed job: if the connection no longer answers, the pool drops it instead of
    /// handing it to the next job.
    pub(super) fn check_after_failure(&mut self, health: &Health) {
        if self.0.conn.batch_execute("SELECT 1").is_err() {
            self.0.dead = true;
            health.mark_down();
        }
    }
}

/// A connection from the pool that answers: one idle for a while is pinged first, and dropped
/// if its server went away meanwhile. While the database is down, callers get `Unavailable`
/// quickly instead of each waiting the whole pool timeout.
pub(super) fn checkout(pool: &Pool, health: &Health) -> Result<PooledConnection, AppError> {
    let unavailable = |e: r2d2::PoolError| AppError::Unavailable(e.to_string());
    // Every pooled connection may be stale (after a restart): try each at most once, then
    // one more, which r2d2 opens fresh once the stale ones are gone.
    for _ in 0..=pool.max_size() {
        let mut conn = if health.is_down() {
            pool.get_timeout(CHECKOUT_WAIT_WHILE_DOWN)
        } else {
            pool.get()
        }
        .map_err(unavailable)?;
        if conn.returned_at.elapsed() < PING_WHEN_IDLE_FOR {
            return Ok(PooledConnection(conn, None));
        }
        match conn.conn.batch_execute("SELECT 1") {
            Ok(()) => return Ok(PooledConnection(conn, None)),
            Err(_) => {
                conn.dead = true;
                health.mark_down();
            }
        }
    }
    Err(AppError::Unavailable(
        "no pooled database connection answers".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_timeout_is_added_once() {
        assert_eq!(
            with_connect_timeout("postgres://u@h/db"),
            "postgres://u@h/db?connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?sslmode=disable"),
            "postgres://u@h/db?sslmode=disable&connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?connect_timeout=9"),
            "postgres://u@h/db?connect_timeout=9"
        );
    }
}
