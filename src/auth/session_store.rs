//! Browser sessions kept in the database, so logout, offboarding and "sign out everywhere"
//! end a session at once on every instance. The table keeps a SHA-256 of the session key,
//! never the key the cookie carries.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::models::now;
use crate::db::schema::sessions;
use crate::db::Db;

pub const USER_ID_KEY: &str = "user_id";
use super::session::{IP_KEY, USER_AGENT_KEY};
/// How the session was started (`session::SignInMethod`), kept in its own column too.
pub const METHOD_KEY: &str = "method";

#[derive(Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn row_id(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn new_key() -> String {
    crate::auth::keys::random_hex(32)
}

fn expiry(ttl: &Duration) -> NaiveDateTime {
    now() + chrono::Duration::seconds(ttl.whole_seconds().max(1))
}

/// The signed-in user's id, kept in its own column so all of a user's sessions can be ended.
fn user_of(state: &HashMap<String, String>) -> Option<String> {
    text_of(state, USER_ID_KEY)
}

/// A text value of the state (stored JSON-encoded), for the account page's columns.
fn text_of(state: &HashMap<String, String>, key: &str) -> Option<String> {
    state
        .get(key)
        .and_then(|v| serde_json::from_str::<String>(v).ok())
        .map(|s| s.chars().take(256).collect())
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let id = row_id(key.as_ref());
        let state: Option<String> = self
            .db
            .run(move |conn| {
                sessions::table
                    .filter(sessions::id.eq(id))
                    .filter(sessions::expires_at.gt(now()))
                    .select(sessions::state)
                    // The id is the primary key. No `.first()`: its bound LIMIT makes SQLite
                    // re-prepare the cached statement on every call.
                    .load::<String>(conn)
                    .map(|rows| rows.into_iter().next())
            })
            .await
            .map_err(|e| LoadError::Other(anyhow::anyhow!("{e}")))?;
        state
            .map(|s| serde_json::from_str(&s).map_err(|e| LoadError::Deserialization(e.into())))
            .transpose()
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        let key = new_key();
        let id = row_id(&key);
        let user_id = user_of(&state);
        let (agent, ip) = (text_of(&state, USER_AGENT_KEY), text_of(&state, IP_KEY));
        let method = text_of(&state, METHOD_KEY);
        let body = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let expires_at = expiry(ttl);
        // Creating or extending a session is bookkeeping (`Db::run_bookkeeping`): lost in a
        // database crash, it costs a sign-in. Deleting one (`delete`) is flushed.
        self.db
            .run_bookkeeping(move |conn| {
                diesel::insert_into(sessions::table)
                    .values((
                        sessions::id.eq(id),
                        sessions::user_id.eq(user_id),
                        sessions::method.eq(method),
                        sessions::state.eq(body),
                        sessions::created_at.eq(now()),
                        sessions::expires_at.eq(expires_at),
                        sessions::user_agent.eq(agent),
                        sessions::ip.eq(ip),
                        sessions::last_seen_at.eq(now()),
                    ))
                    .execute(conn)
            })
            .await
            .map_err(|e| SaveError::Other(anyhow::anyhow!("{e}")))?;
        SessionKey::try_from(key).map_err(|e| SaveError::Other(e.into()))
    }

    async fn update(
        &self,
        key: SessionKey,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let id = row_id(key.as_ref());
        let user_id = user_of(&state);
        let (agent, ip) = (text_of(&state, USER_AGENT_KEY), text_of(&state, IP_KEY));
        let method = text_of(&state, METHOD_KEY);
        let body =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let expires_at = expiry(ttl);
        let updated = self
            .db
            .run_bookkeeping(move |conn| {
                // A session deleted meanwhile (logout elsewhere, offboarding) stays deleted.
                diesel::update(
                    sessions::table
                        .filter(sessions::id.eq(id))
                        .filter(sessions::expires_at.gt(now())),
                )
                .set((
                    sessions::user_id.eq(user_id),
                    sessions::method.eq(method),
                    sessions::state.eq(body),
                    sessions::expires_at.eq(expires_at),
                    sessions::user_agent.eq(agent),
                    sessions::ip.eq(ip),
                    sessions::last_seen_at.eq(now()),
                ))
                .execute(conn)
            })
            .await
            .map_err(|e| UpdateError::Other(anyhow::anyhow!("{e}")))?;
        if updated == 0 {
            return Err(UpdateError::Other(anyhow::anyhow!(
                "session no longer exists"
            )));
        }
        Ok(key)
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        let id = row_id(key.as_ref());
        let expires_at = expiry(ttl);
        self.db
            .run_bookkeeping(move |conn| {
                diesel::update(sessions::table.filter(sessions::id.eq(id)))
                    .set((
                        sessions::expires_at.eq(expires_at),
                        sessions::last_seen_at.eq(now()),
                    ))
                    .execute(conn)
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        let id = row_id(key.as_ref());
        self.db
            .run(move |conn| {
                diesel::delete(sessions::table.filter(sessions::id.eq(id))).execute(conn)
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    }
}

/// Removes expired rows; called now and then by a background task.
pub fn purge_expired(conn: &mut crate::db::DbConnection) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now()))).execute(conn)
}

/// actix-session answers a bare 500 when the store fails. A store failure because the database
/// is unreachable is an outage, not a bug: answer the 503 page (with Retry-After) instead, so
/// pages behave like every other route while the database is down.
pub async fn outage_is_unavailable(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    match next.call(req).await {
        // The store's errors carry `AppError`'s text; an unreachable database is the
        // `Unavailable` variant ("database unavailable: …").
        Err(e) if format!("{e:?}").contains(DATABASE_UNAVAILABLE) => {
            Err(crate::error::AppError::Unavailable(format!("session store: {e}")).into())
        }
        other => other,
    }
}

const DATABASE_UNAVAILABLE: &str = "database unavailable";
