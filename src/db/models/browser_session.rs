use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::sessions;
use crate::db::DbConnection;
use crate::domain::UserId;

/// A live browser session as the account page lists it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct BrowserSession {
    /// SHA-256 of the cookie's key (see `auth::session_store`): names the row, opens nothing.
    pub id: String,
    pub state: String,
    pub created_at: NaiveDateTime,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub last_seen_at: Option<NaiveDateTime>,
}

impl BrowserSession {
    /// The live sessions of `user`, most recently used first.
    pub fn of_user(conn: &mut DbConnection, user: &UserId) -> QueryResult<Vec<Self>> {
        sessions::table
            .filter(sessions::user_id.eq(user.as_str()))
            .filter(sessions::expires_at.gt(super::now()))
            .order((sessions::last_seen_at.desc(), sessions::created_at.desc()))
            .select(Self::as_select())
            .load(conn)
    }

    /// The value under `key` in the stored state (values are JSON-encoded strings).
    pub fn state_text(&self, key: &str) -> Option<String> {
        serde_json::from_str::<HashMap<String, String>>(&self.state)
            .ok()?
            .get(key)
            .and_then(|v| serde_json::from_str::<String>(v).ok())
    }

    /// Ends one session of `user`; 0 when it is not theirs or already gone.
    pub fn end(conn: &mut DbConnection, user: &UserId, id: &str) -> QueryResult<usize> {
        diesel::delete(
            sessions::table
                .filter(sessions::id.eq(id))
                .filter(sessions::user_id.eq(user.as_str())),
        )
        .execute(conn)
    }

    /// Ends every session of `user` but `keep`.
    pub fn end_all_but(conn: &mut DbConnection, user: &UserId, keep: &str) -> QueryResult<usize> {
        diesel::delete(
            sessions::table
                .filter(sessions::user_id.eq(user.as_str()))
                .filter(sessions::id.ne(keep)),
        )
        .execute(conn)
    }
}
