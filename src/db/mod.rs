//! The database: one connection type over SQLite and PostgreSQL, its pool and its migrations.

pub mod models;
pub mod schema;

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Arbitrary but fixed: every instance takes this advisory lock before migrating PostgreSQL.
const MIGRATION_LOCK_ID: i64 = 0x6d65_6574_6572_676f;

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

/// Opens connections of the configured backend for r2d2.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; the busy timeout makes a writer wait
                // for the lock instead of failing at once.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// The application's handle on the database. Every query runs on the database's own small
/// thread pool (`Executor`), never on an async worker.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: &'static str,
    executor: Arc<Executor>,
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A small pool of threads for database work only, shared by all async workers.
///
/// Why not `web::block`: tokio's blocking pool starts a thread for every task that finds none
/// idle, so under load it grew to dozens of threads (96 in the benchmark), each put to sleep
/// and woken again for every query; on a small machine those futex wake-ups and context
/// switches cost more than the query. Here jobs go into one queue and a thread that finishes
/// a job takes the next without sleeping, so under load one or two threads run job after job
/// and are hardly ever woken. It is also kept apart from the blocking pool that password
/// hashing and mail use, so an argon2 computation never delays a query (or the reverse).
///
/// Threads start on demand up to a limit and end once the last `Db` handle is dropped.
struct Executor {
    shared: Arc<Shared>,
    tuning: Tuning,
}

/// How eagerly the executor puts more threads to work, per backend.
#[derive(Debug, Clone, Copy)]
struct Tuning {
    max_threads: usize,
    /// Another thread is woken (or started) once more than `backlog` jobs per running
    /// thread are waiting. 0: whenever a job is queued and a thread is free.
    backlog: usize,
    /// A caller whose job has not finished after this long wakes another thread if jobs are
    /// still queued (the running ones are busy with something long). `None` when every job
    /// already gets a free thread at once (`backlog` 0).
    stall: Option<Duration>,
}

impl Tuning {
    /// SQLite work is short and CPU-bound in this process: waking a second thread for a
    /// job that the running one would take a few microseconds later costs a system call and
    /// two context switches, more than the job. So one thread runs until a real backlog
    /// builds up, and a job stuck behind a long one (a big transaction, a writer waiting
    /// for the lock) gets a helper after a millisecond.
    ///
    /// PostgreSQL queries mostly wait for the server, during which the thread sleeps anyway,
    /// so every job gets a free thread at once, up to one per pooled connection.
    fn for_backend(url: &DatabaseUrl, pool_size: u32) -> Self {
        let pool_size = pool_size.max(1) as usize;
        match url {
            DatabaseUrl::Sqlite(_) => Self {
                max_threads: std::thread::available_parallelism()
                    .map_or(4, std::num::NonZeroUsize::get)
                    .max(4)
                    .min(pool_size),
                backlog: 32,
                stall: Some(Duration::from_millis(1)),
            },
            DatabaseUrl::Postgres(_) => Self {
                max_threads: pool_size,
                backlog: 0,
                stall: None,
            },
        }
    }
}

struct Shared {
    state: Mutex<ExecutorState>,
    job_ready: Condvar,
}

#[derive(Default)]
struct ExecutorState {
    jobs: VecDeque<Job>,
    /// Threads started and not ended.
    threads: usize,
    /// Threads asleep that nobody has signalled yet. A signalled thread counts as running
    /// from the moment it is signalled, so that submits arriving before it is scheduled do
    /// not wake more threads for the same work.
    idle: usize,
    /// Signalled threads that have not woken yet.
    signalled: usize,
    shutting_down: bool,
}

fn lock(state: &Mutex<ExecutorState>) -> MutexGuard<'_, ExecutorState> {
    // Jobs run outside the lock and catch their own panics, so a poisoned lock still holds
    // a consistent queue.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Executor {
    fn new(tuning: Tuning) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(ExecutorState::default()),
                job_ready: Condvar::new(),
            }),
            tuning,
        }
    }

    fn submit(&self, job: Job) -> Result<(), AppError> {
        let mut state = lock(&self.shared.state);
        state.jobs.push_back(job);
        // Signalled threads count as running (see `ExecutorState::idle`).
        let running = state.threads - state.idle;
        // A running thread takes the job as soon as it is done with its current one.
        if running == 0 || state.jobs.len() > self.tuning.backlog * running {
            self.add_thread(state)?;
        }
        Ok(())
    }

    /// For a caller whose job has not finished after `stall`: if jobs are still queued, the
    /// running threads are busy with something long, so put another thread to work.
    fn nudge(&self) -> Result<(), AppError> {
        let state = lock(&self.shared.state);
        if state.jobs.is_empty() {
            return Ok(());
        }
        self.add_thread(state)
    }

    /// Wakes an idle thread, or starts one if none is idle and the limit allows.
    fn add_thread(&self, mut state: MutexGuard<'_, ExecutorState>) -> Result<(), AppError> {
        if state.idle > 0 {
            state.idle -= 1;
            state.signalled += 1;
            drop(state);
            self.shared.job_ready.notify_one();
            return Ok(());
        }
        if state.threads >= self.tuning.max_threads {
            return Ok(());
        }
        state.threads += 1;
        drop(state);
        let shared = Arc::clone(&self.shared);
        let spawned = std::thread::Builder::new()
            .name("db".into())
            .spawn(move || run_jobs(&shared));
        if let Err(e) = spawned {
            let mut state = lock(&self.shared.state);
            state.threads -= 1;
            // With no thread at all the queued jobs would wait forever: report it.
            if state.threads == 0 {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "starting a database thread: {e}"
                )));
            }
        }
        Ok(())
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.shutting_down = true;
        // Everyone is woken: count them all as signalled so the accounting stays whole.
        state.signalled += state.idle;
        state.idle = 0;
        drop(state);
        self.shared.job_ready.notify_all();
    }
}

/// A database thread: runs queued jobs, sleeps while there are none, ends at shutdown once
/// the queue is empty.
fn run_jobs(shared: &Shared) {
    let mut state = lock(&shared.state);
    loop {
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            // A panicking job drops its result sender, which its caller sees as an error;
            // the thread carries on.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            state = lock(&shared.state);
        } else if state.shutting_down {
            state.threads -= 1;
            return;
        } else {
            state.idle += 1;
            state = shared
                .job_ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            if state.signalled > 0 {
                // `add_thread` (or `drop`) already moved a thread from idle to signalled.
                state.signalled -= 1;
            } else {
                // A spurious wake-up.
                state.idle -= 1;
            }
        }
    }
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
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(3))
            .test_on_check_out(false)
            .build_unchecked(Manager { url: url.clone() });
        Ok(Self {
            pool,
            backend: url.backend_name(),
            executor: Arc::new(Executor::new(Tuning::for_backend(url, max_size))),
        })
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// A connection for synchronous code (CLI commands, benchmarks).
    pub fn conn(&self) -> Result<PooledConnection, AppError> {
        self.pool
            .get()
            .map_err(|e| AppError::Unavailable(e.to_string()))
    }

    /// Runs `f` with a pooled connection on the database threads.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<AppError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let (done, outcome) = tokio::sync::oneshot::channel();
        self.executor.submit(Box::new(move || {
            let outcome = pool
                .get()
                .map_err(|e| AppError::Unavailable(e.to_string()))
                .and_then(|mut conn| f(&mut conn).map_err(Into::into));
            // The caller may have gone (a dropped request); nothing to do then.
            let _ = done.send(outcome);
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
        outcome.map_err(|_| AppError::Internal(anyhow::anyhow!("a database job panicked")))?
    }

    /// Runs `f` inside one transaction: all of it is written, or none.
    pub async fn transaction<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| conn.transaction::<T, AppError, _>(f))
            .await
    }

    pub fn migrate(&self) -> Result<(), AppError> {
        let mut conn = self.conn()?;
        run_migrations(&mut conn)
    }
}

pub fn run_migrations(conn: &mut DbConnection) -> Result<(), AppError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| {
        AppError::Internal(anyhow::anyhow!("migration failed: {e}"))
    };
    match conn {
        DbConnection::Sqlite(c) => {
            c.run_pending_migrations(SQLITE_MIGRATIONS)
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
