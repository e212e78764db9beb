//! The database: one connection type over SQLite and PostgreSQL, its pool and its migrations.

pub mod models;
pub mod schema;

mod executor;
pub mod job_lock;
mod pool;

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::auth::credential_cache::{self, CredentialCache};
use crate::error::AppError;
use executor::{Executor, Tuning};
pub use pool::PooledConnection;
use pool::{Durability, Health, Manager, Pool};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a write that changed principals waits to hear its own NOTIFY back.
const ECHO_WAIT: Duration = Duration::from_secs(1);
/// Every instance takes this advisory lock before migrating PostgreSQL.
const MIGRATION_LOCK_ID: i64 = job_lock::JobLock::Migration.id();

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// Loads a query on the backend's own connection type instead of through the
/// `MultiConnection`: `load_native!(conn, query)` is `query.load(conn)`.
///
/// For the per-request lookups: the `MultiConnection` wraps every query in one that renders
/// the whole SQL text again on each execution (even when the prepared statement is cached),
/// which cost about as much as running the query itself. On the native connection a cached
/// statement is found by the query's type and only its bind values are collected. A macro
/// because the query is typed per backend (`as_select()`), so it is built once in each arm.
macro_rules! load_native {
    ($conn:expr, $query:expr $(,)?) => {
        match $conn {
            $crate::db::DbConnection::Sqlite(c) => diesel::RunQueryDsl::load($query, c),
            $crate::db::DbConnection::Postgres(c) => diesel::RunQueryDsl::load($query, c),
        }
    };
}
pub(crate) use load_native;

/// Which backend a `DATABASE_URL` names. Chosen from the URL's scheme, never by trial:
/// SQLite would accept almost any string as a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Self {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Self::Postgres(raw.to_owned())
        } else {
            let path = raw
                .strip_prefix("sqlite://")
                .or_else(|| raw.strip_prefix("sqlite:"))
                .unwrap_or(raw);
            Self::Sqlite(path.to_owned())
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// The application's handle on the database. Every query runs on the database's own small
/// thread pool (`executor::Executor`), never on an async worker.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// PostgreSQL only: connections whose commits do not wait for the disk (`run_bookkeeping`).
    bookkeeping: Option<Pool>,
    health: Arc<Health>,
    backend: &'static str,
    executor: Arc<Executor>,
    /// Invalidated after a job that changed principals (see `auth::credential_cache`).
    credential_cache: Option<Arc<CredentialCache>>,
}

impl Db {
    pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<Self, AppError> {
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(parent) = std::path::Path::new(path).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        AppError::Internal(anyhow::anyhow!("creating {parent:?}: {e}"))
                    })?;
                }
            }
        }
        let health = Arc::new(Health::default());
        // No test on checkout: `pool::checkout` pings only connections that sat idle, and
        // `run` checks one after a failed job, so a hot connection costs no extra round trip.
        let build = |size: u32, durability: Durability| {
            r2d2::Pool::builder()
                .max_size(size)
                .min_idle(Some(0))
                .connection_timeout(Duration::from_secs(3))
                .test_on_check_out(false)
                .error_handler(Box::new(pool::LogAsWarning))
                .build_unchecked(Manager::new(url.clone(), Arc::clone(&health), durability))
        };
        let pool = build(max_size, Durability::Flushed);
        // SQLite in WAL mode with `synchronous = NORMAL` never waits for the disk on commit.
        let bookkeeping = match url {
            DatabaseUrl::Postgres(_) => Some(build((max_size / 2).max(1), Durability::Relaxed)),
            DatabaseUrl::Sqlite(_) => None,
        };
        Ok(Self {
            pool,
            bookkeeping,
            health,
            backend: url.backend_name(),
            executor: Arc::new(Executor::new(Tuning::for_backend(url, max_size))),
            credential_cache: None,
        })
    }

    /// This handle (and its clones) invalidates `cache` after every job that changed a
    /// principal, once its transaction is committed.
    #[must_use]
    pub fn invalidating(mut self, cache: Arc<CredentialCache>) -> Self {
        self.credential_cache = Some(cache);
        self
    }

    /// The cache this handle invalidates (`Db::invalidating`), if any.
    pub fn credential_cache(&self) -> Option<Arc<CredentialCache>> {
        self.credential_cache.clone()
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// A connection for synchronous code (CLI commands, benchmarks, tests).
    /// What it writes is not seen by `Db::run`, so the credential cache is invalidated when
    /// the connection is given back.
    pub fn conn(&self) -> Result<PooledConnection, AppError> {
        let mut conn = pool::checkout(&self.pool, &self.health)?;
        conn.1 = self.credential_cache.clone();
        Ok(conn)
    }

    /// Runs `f` with a pooled connection on the database threads.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<AppError> + Send + 'static,
    {
        self.run_on(self.pool.clone(), f).await
    }

    /// Like `run`, for bookkeeping that may be lost in a database crash at the cost of at most
    /// a sign-in: creating and extending sessions, and recording a successful sign-in. On
    /// PostgreSQL its commits do not wait for their WAL flush (each would, on every sign-in
    /// and page view). Nothing durable depends on such a write without flushing it: any later
    /// ordinary commit flushes the WAL written before it, so a session that survives a crash
    /// always has its sign-in recorded. Never for what revokes access (deleting sessions,
    /// offboarding) or for anything else the audit log must keep.
    pub async fn run_bookkeeping<T, E, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<AppError> + Send + 'static,
    {
        let pool = self.bookkeeping.as_ref().unwrap_or(&self.pool).clone();
        self.run_on(pool, f).await
    }

    async fn run_on<T, E, F>(&self, pool: Pool, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<AppError> + Send + 'static,
    {
        let health = Arc::clone(&self.health);
        let cache = self.credential_cache.clone();
        let (done, outcome) = tokio::sync::oneshot::channel();
        self.executor.submit(Box::new(move || {
            credential_cache::take_changes();
            let outcome = pool::checkout(&pool, &health).and_then(|mut conn| {
                let outcome = f(&mut conn).map_err(Into::into);
                if matches!(
                    outcome,
                    Err(AppError::Internal(_) | AppError::Unavailable(_))
                ) {
                    conn.check_after_failure(&health);
                }
                outcome
            });
            // After the closure, so after its commit: invalidating inside the transaction
            // would let a concurrent lookup cache the state from before it.
            let changes = credential_cache::take_changes();
            if changes.changed {
                if let Some(cache) = &cache {
                    cache.invalidate(credential_cache::Invalidation::Local);
                }
            }
            let echo = changes.echo.filter(|_| outcome.is_ok());
            // The caller may have gone (a dropped request); nothing to do then.
            let _ = done.send((outcome, echo));
        }))?;
        let mut outcome = std::pin::pin!(outcome);
        let outcome = match self.executor.tuning.stall {
            Some(stall) => match tokio::time::timeout(stall, &mut outcome).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    self.executor.nudge()?;
                    outcome.await
                }
            },
            None => outcome.await,
        };
        let (outcome, echo) =
            outcome.map_err(|_| AppError::Internal(anyhow::anyhow!("a database job panicked")))?;
        // A committed write that changed principals answers once this instance has heard its
        // own NOTIFY: every other listening instance was told at the same moment.
        if let (Some(echo), Some(cache)) = (echo, &self.credential_cache) {
            if !cache.hear(echo, ECHO_WAIT).await {
                tracing::warn!(
                    "the credential cache's NOTIFY was not heard back within {ECHO_WAIT:?}"
                );
            }
        }
        outcome
    }

    /// Runs `f` inside one write transaction: all of it is written, or none.
    ///
    /// On SQLite it begins IMMEDIATE, taking the write lock up front: a deferred transaction
    /// that reads and then writes cannot wait for the lock when another writer got there
    /// first (SQLITE_BUSY at once, whatever the busy timeout), while an immediate one waits up
    /// to the busy timeout like any single write.
    /// Services receive the transaction as a `Tx`, which nothing else can make: a function
    /// that takes one can only be called inside a transaction.
    pub async fn transaction<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| write_transaction(conn, |conn| f(&mut Tx(conn))))
            .await
    }

    /// How busy the pools are right now (for the metrics).
    pub fn pool_use(&self) -> PoolUse {
        let sample = |name: &'static str, pool: &Pool| {
            let state = pool.state();
            PoolSample {
                name,
                in_use: state.connections.saturating_sub(state.idle_connections),
                idle: state.idle_connections,
            }
        };
        let mut pools = vec![sample("main", &self.pool)];
        if let Some(bookkeeping) = &self.bookkeeping {
            pools.push(sample("bookkeeping", bookkeeping));
        }
        PoolUse {
            pools,
            jobs_waiting: self.executor.queued(),
        }
    }

    pub fn migrate(&self) -> Result<(), AppError> {
        let mut conn = self.conn()?;
        run_migrations(&mut conn)
    }
}

/// The connections of each pool, and the database jobs waiting for a thread.
#[derive(Debug, Clone)]
pub struct PoolUse {
    pub pools: Vec<PoolSample>,
    pub jobs_waiting: usize,
}

#[derive(Debug, Clone)]
pub struct PoolSample {
    /// `main`, or `bookkeeping` (PostgreSQL's relaxed-durability pool).
    pub name: &'static str,
    pub in_use: u32,
    pub idle: u32,
}

/// A connection inside an open write transaction (see `Db::transaction`). It derefs to the
/// connection, so models take it as a `&mut DbConnection`.
pub struct Tx<'c>(&'c mut DbConnection);

impl std::ops::Deref for Tx<'_> {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        self.0
    }
}

impl std::ops::DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut DbConnection {
        self.0
    }
}

/// `f` inside a transaction that is meant to write (see `Db::transaction`).
fn write_transaction<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    // A panic in `f` leaves the transaction open; the pool then drops the connection.
    match f(conn) {
        Ok(value) => {
            <DbConnection as TransactionManager<DbConnection>>::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) =
                <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(conn)
            {
                tracing::warn!(error = %rollback, "rolling back a failed transaction failed");
            }
            Err(e)
        }
    }
}

pub fn run_migrations(conn: &mut DbConnection) -> Result<(), AppError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| {
        AppError::Internal(anyhow::anyhow!("migration failed: {e}"))
    };
    match conn {
        DbConnection::Sqlite(c) => {
            // Two instances starting together must not both migrate: the second waits for the
            // write lock (each migration's own transaction becomes a savepoint inside this one),
            // then finds nothing pending.
            c.exclusive_transaction(|c| c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()))
                .map_err(failed)?;
        }
        DbConnection::Postgres(c) => {
            // Two instances starting together must not both migrate: the second waits here.
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_ID})"))?;
            let outcome = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|_| ())
                .map_err(failed);
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_ID})"))?;
            outcome?;
        }
    }
    Ok(())
}

/// True when `e` is a unique-constraint violation, on either backend.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn memory_db(pool_size: u32) -> Result<Db, AppError> {
        Db::connect(&DatabaseUrl::Sqlite(":memory:".into()), pool_size)
    }

    #[tokio::test]
    async fn runs_jobs_and_survives_a_panicking_one() -> Result<(), AppError> {
        let db = memory_db(2)?;
        let n = db
            .run(|conn| {
                conn.batch_execute("SELECT 1")?;
                Ok::<_, diesel::result::Error>(41 + 1)
            })
            .await?;
        assert_eq!(n, 42);
        #[allow(clippy::panic)]
        let failed = db
            .run(|_| -> Result<(), AppError> { panic!("a bug in a query") })
            .await;
        assert!(matches!(failed, Err(AppError::Internal(_))));
        // The thread that ran it is still there.
        for i in 0..20 {
            assert_eq!(db.run(move |_| Ok::<_, AppError>(i)).await?, i);
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_long_job_does_not_hold_up_the_queue() -> Result<(), AppError> {
        let db = memory_db(4)?;
        // Occupies the one running thread; the next job queues behind it without waking
        // anyone, and its caller's stall timer brings in a second thread.
        let long = db.clone();
        let long = tokio::spawn(async move {
            long.run(|_| {
                std::thread::sleep(Duration::from_secs(3));
                Ok::<_, AppError>(())
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        db.run(|conn| conn.batch_execute("SELECT 1")).await?;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a short query waited {:?} behind a long job",
            started.elapsed()
        );
        assert!(matches!(long.await, Ok(Ok(()))));
        Ok(())
    }
}
