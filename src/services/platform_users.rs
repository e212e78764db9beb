//! Creating a user through the API (meetergo's "platform users"): the account, their time
//! zone and the default 30-minute meeting type, in one transaction.

use chrono_tz::Tz;
use diesel::prelude::*;

use crate::db::models::{now, MeetingType, User};
use crate::db::schema::users;
use crate::db::{Db, Tx};
use crate::domain::{CompanyId, FieldError, Label, Role};
use crate::error::AppError;
use crate::services::audit::{self, AuditKind, Event, Origin, Subject};
use crate::services::joining::{self, NewAccount};
use crate::services::meeting_types;

/// An IANA time zone name that the tz database knows (`Europe/Berlin`, `UTC`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZone(String);

impl TimeZone {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        raw.parse::<Tz>()
            .map(|tz| Self(tz.name().to_owned()))
            .map_err(|_| {
                FieldError::new(
                    field,
                    "Use an IANA time zone name, like Europe/Berlin or UTC.",
                )
            })
    }

    pub fn utc() -> Self {
        Self("UTC".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Every name `parse` accepts.
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }
}

pub struct NewPlatformUser {
    pub account: NewAccount,
    pub role: Role,
    pub timezone: TimeZone,
}

pub struct Provisioned {
    pub user: User,
    pub meeting_type: MeetingType,
}

/// Who calls the user API: a credential of `company`, acting as `actor` when it names one.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub company: CompanyId,
    pub credential: String,
    pub actor: Option<crate::domain::UserId>,
    pub origin: Origin,
}

/// Creates the user in the caller's company, with the default meeting type.
pub async fn create(db: &Db, by: ApiCaller, new: NewPlatformUser) -> Result<Provisioned, AppError> {
    db.transaction(move |conn| create_in(conn, &by.company, new, &by.credential, &by.origin))
        .await
}

/// Renames a user of the caller's company.
pub async fn rename(db: &Db, by: ApiCaller, target: User, name: Label) -> Result<User, AppError> {
    db.transaction(move |conn| {
        diesel::update(users::table.find(&target.id))
            .set((users::name.eq(name.as_str()), users::updated_at.eq(now())))
            .execute(&mut **conn)?;
        let mut event = Event::new(AuditKind::UserUpdated)
            .company(&target.company_id)
            .credential(&by.credential)
            .target(target.id.to_string());
        event.actor = by.actor.clone();
        audit::record(conn, &by.origin, event)?;
        User::find(conn, &target.id)?.ok_or(AppError::NotFound)
    })
    .await
}

fn create_in(
    conn: &mut Tx<'_>,
    company: &CompanyId,
    new: NewPlatformUser,
    credential: &str,
    origin: &Origin,
) -> Result<Provisioned, AppError> {
    let mut user = joining::add_member(conn, company, new.account, new.role)?;
    diesel::update(users::table.find(&user.id))
        .set(users::timezone.eq(new.timezone.as_str()))
        .execute(&mut **conn)?;
    user.timezone = new.timezone.as_str().to_owned();
    let meeting_type = meeting_types::provision_default(conn, &user.id)?;
    audit::record(
        conn,
        origin,
        Event::new(AuditKind::UserCreated)
            .company(company)
            .credential(credential)
            .subject(Subject::Person(user.id.clone()))
            .target(format!("{} ({})", user.email, user.id)),
    )?;
    Ok(Provisioned { user, meeting_type })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            TimeZone::parse("timezone", "Europe/Berlin").map(|t| t.0),
            Ok("Europe/Berlin".to_owned())
        );
        assert!(TimeZone::parse("timezone", "UTC").is_ok());
        for bad in [
            "",
            "europe/berlin",
            "Mars/Olympus",
            "+02:00",
            "Europe/Berlin ",
        ] {
            assert_eq!(
                TimeZone::parse("timezone", bad).map_err(|e| e.field),
                Err("timezone"),
                "{bad}"
            );
        }
        assert!(TimeZone::all_names().any(|n| n == "America/New_York"));
        assert!(TimeZone::all_names().all(|n| TimeZone::parse("tz", n).is_ok()));
    }
}
