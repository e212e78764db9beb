//! Closed sets of words stored in TEXT columns (roles, statuses, kinds): one Rust enum each,
//! written and read as exactly the word it has always had in the database. A stored word that
//! is not one of the set fails the query instead of turning silently into some default.

/// `text_enum! { pub enum Role { Member => "member", ... } }` declares the enum with its
/// Diesel (`Text`, both backends of the `MultiConnection`) and serde mappings, `as_str`,
/// `parse`, `Display` and `ALL` (the variants in declaration order).
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$variant_meta:meta])* $variant:ident => $text:literal),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash,
                 diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The word stored in the database and shown in the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<DB: diesel::backend::Backend> diesel::serialize::ToSql<diesel::sql_types::Text, DB>
            for $name
        where
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB: diesel::backend::Backend> diesel::deserialize::FromSql<diesel::sql_types::Text, DB>
            for $name
        where
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let raw = String::from_sql(bytes)?;
                Self::parse(&raw).ok_or_else(|| {
                    format!("{raw:?} is not a known {}", stringify!($name)).into()
                })
            }
        }
    };
}

pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use crate::db::DbConnection;
    use crate::domain::{AuditKind, Role, SsoKind, SsoPurpose, UserStatus};

    diesel::table! {
        words (id) {
            id -> Integer,
            word -> Text,
        }
    }

    /// A `DbConnection` (the same `MultiConnection` the app uses) on a fresh in-memory SQLite.
    fn database() -> DbConnection {
        let sqlite = SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        let mut conn = DbConnection::Sqlite(sqlite);
        conn.batch_execute("CREATE TABLE words (id INTEGER PRIMARY KEY, word TEXT NOT NULL)")
            .expect("table");
        conn
    }

    /// Writes every variant through the enum, then reads each back both as the enum and as
    /// plain text (the stored word must be the one existing rows already hold), and finds it
    /// by the enum in a filter.
    macro_rules! round_trip {
        ($type:ty) => {{
            let mut conn = database();
            for (id, value) in (0..).zip(<$type>::ALL.iter().copied()) {
                diesel::insert_into(words::table)
                    .values((words::id.eq(id), words::word.eq(value)))
                    .execute(&mut conn)
                    .expect("insert");
                let stored: String = words::table
                    .find(id)
                    .select(words::word)
                    .first(&mut conn)
                    .expect("read as text");
                assert_eq!(stored, value.as_str());
                let back: $type = words::table
                    .find(id)
                    .select(words::word)
                    .first(&mut conn)
                    .expect("read as enum");
                assert_eq!(back, value);
                let found: i64 = words::table
                    .filter(words::word.eq(value))
                    .count()
                    .get_result(&mut conn)
                    .expect("filter by enum");
                assert_eq!(found, 1, "{value:?}");
            }
        }};
    }

    #[test]
    fn every_variant_reads_back_as_itself() {
        round_trip!(Role);
        round_trip!(UserStatus);
        round_trip!(AuditKind);
        round_trip!(SsoKind);
        round_trip!(SsoPurpose);
    }

    #[test]
    fn the_stored_words_are_the_existing_ones() {
        let words = |all: &[Role]| all.iter().map(|r| r.as_str()).collect::<Vec<_>>();
        assert_eq!(words(Role::ALL), ["member", "admin", "owner"]);
        let statuses: Vec<_> = UserStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(statuses, ["active", "deactivated", "removed"]);
        let kinds: Vec<_> = SsoKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, ["oidc", "saml"]);
        let purposes: Vec<_> = SsoPurpose::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(purposes, ["signin", "link"]);
        assert_eq!(AuditKind::SignInSucceeded.as_str(), "sign_in.succeeded");
        assert_eq!(AuditKind::SsoConfigChanged.as_str(), "sso.config_changed");
    }

    #[test]
    fn an_unknown_stored_word_is_an_error() {
        let mut conn = database();
        conn.batch_execute("INSERT INTO words (id, word) VALUES (1, 'root'), (2, 'Owner')")
            .expect("insert");
        for id in [1, 2] {
            let read: QueryResult<Role> =
                words::table.find(id).select(words::word).first(&mut conn);
            assert!(
                matches!(read, Err(diesel::result::Error::DeserializationError(_))),
                "{read:?}"
            );
        }
        let status: QueryResult<UserStatus> =
            words::table.find(1).select(words::word).first(&mut conn);
        assert!(status.is_err(), "{status:?}");
    }

    #[test]
    fn every_word_is_distinct_and_parses_back() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(*kind));
        }
        let mut words: Vec<_> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), AuditKind::ALL.len());
        assert_eq!(Role::parse("root"), None);
        assert_eq!(
            serde_json::to_string(&Role::Admin).expect("json"),
            "\"admin\""
        );
    }
}
