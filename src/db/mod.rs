//! The database: one connection type over SQLite and PostgreSQL, its pool and its migrations.

pub mod models;
pub mod schema;

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

/// The application's handle on the database. Every query runs on the blocking thread pool,
/// never on an async worker.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: &'static str,
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

    /// Runs `f` with a pooled connection on the blocking pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<AppError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let outcome = actix_web::web::block(move || {
            let mut conn = pool
                .get()
                .map_err(|e| AppError::Unavailable(e.to_string()))?;
            f(&mut conn).map_err(Into::into)
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking pool: {e}")))?;
        outcome
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
