//! SCIM provisioning: the company's settings (on or off, the SCIM secret, the successor) and
//! what the identity provider does to people — create, update, deprovision, reactivate,
//! delete — each in one transaction with its audit record. The wire format is `crate::scim`'s.
//!
//! Deprovisioning (`active: false`, or DELETE) is the console's offboarding to the configured
//! successor, inside the same transaction as any attribute change of the same request.
//! Reactivation makes the person active again with nothing restored: their tokens stay
//! revoked, their work stays with whoever received it.

use std::sync::Arc;

use chrono::NaiveDateTime;
use secrecy::ExposeSecret;

use crate::auth::keys::Keys;
use crate::auth::tokens::{self, Issued};
use crate::authz::{authorize, Action, Actor};
use crate::db::models::{ScimConfig, ScimMatch, ScimPerson, ScimUser, User};
use crate::db::{Db, Tx};
use crate::domain::{CompanyId, Email, Label, Role, ScimSecretId, UserId, UserStatus};
use crate::error::{AppError, Refusal, RefusalKind};
use crate::services::audit::{self, AuditKind, Event, Origin, Source, Subject};
use crate::services::joining::{self, NewAccount};
use crate::services::meeting_types;
use crate::services::offboarding::{self, Handover, Offboarding, OffboardingReport, Requester};
use crate::services::team::{current_actor, denied, event};
use crate::services::Acting;

/// The field a taken email is reported on; the protocol answers it with `uniqueness`.
pub const USER_NAME: &str = "userName";
pub const EMAIL_TAKEN: &str = "An account with this email already exists.";
const NAME_MAX: usize = 100;
const EXTERNAL_ID_MAX: usize = 255;

// ---------------------------------------------------------------------------------------------
// Settings → Provisioning

/// What the settings page shows.
pub struct Provisioning {
    pub config: ScimConfig,
    /// Who may be chosen as successor: the company's active members.
    pub candidates: Vec<User>,
    /// Who receives a deprovisioned person's work now (the chosen one, or the owner).
    pub successor: Option<User>,
}

pub async fn provisioning(
    db: &Db,
    company: CompanyId,
    now: NaiveDateTime,
) -> Result<Provisioning, AppError> {
    db.run(move |conn| {
        let config =
            ScimConfig::find(conn, &company)?.unwrap_or_else(|| ScimConfig::off(&company, now));
        let candidates = User::active_in_company(conn, &company)?;
        let chosen = config
            .successor_id
            .as_ref()
            .and_then(|id| candidates.iter().find(|u| u.id == *id).cloned());
        let successor = match chosen {
            Some(u) => Some(u),
            None => candidates.iter().find(|u| u.role() == Role::Owner).cloned(),
        };
        Ok::<_, AppError>(Provisioning {
            config,
            candidates,
            successor,
        })
    })
    .await
}

fn admin(conn: &mut Tx<'_>, by: &Acting) -> Result<User, AppError> {
    let actor = current_actor(conn, &by.user)?;
    authorize(Actor::Member(&actor), Action::ManageProvisioning).map_err(denied)?;
    Ok(actor)
}

/// The company's configuration (as it is before anyone turned SCIM on, if so), its row held
/// for the rest of the transaction.
fn config_of(conn: &mut Tx<'_>, admin: &User, now: NaiveDateTime) -> Result<ScimConfig, AppError> {
    ScimConfig::hold(conn, &admin.company_id)?;
    Ok(ScimConfig::find(conn, &admin.company_id)?
        .unwrap_or_else(|| ScimConfig::off(&admin.company_id, now)))
}

/// Turns SCIM on or off and chooses the successor (`None`: the owner).
pub async fn save_settings(
    db: &Db,
    by: Acting,
    enabled: bool,
    successor: Option<UserId>,
) -> Result<(), AppError> {
    db.transaction(move |conn| {
        let admin = admin(conn, &by)?;
        let successor = match successor {
            Some(id) => Some(
                User::find_in_company(conn, &admin.company_id, &id)?
                    .filter(User::is_active)
                    .ok_or_else(|| {
                        Refusal::field("scim_successor", "Choose an active member of your company.")
                    })?,
            ),
            None => None,
        };
        let mut config = config_of(conn, &admin, by.now)?;
        config.enabled = enabled;
        config.successor_id = successor.as_ref().map(|u| u.id.clone());
        config.updated_at = by.now;
        config.save(conn)?;
        let to = successor.map_or_else(|| "the owner".to_owned(), |u| u.email);
        audit::record(
            conn,
            &by.origin,
            event(AuditKind::ScimSettingsChanged, &admin)
                .detail(format!("enabled {enabled}; successor {to}")),
        )?;
        Ok(())
    })
    .await
}

/// Issues a new SCIM secret (the old one, if any, stops at once) and turns SCIM on. The clear
/// value is returned for the one page that shows it; only its HMAC is stored.
pub async fn generate_secret(db: &Db, keys: Arc<Keys>, by: Acting) -> Result<Issued, AppError> {
    db.transaction(move |conn| {
        let admin = admin(conn, &by)?;
        let mut config = config_of(conn, &admin, by.now)?;
        let replaced = config.secret_prefix.clone();
        let issued = tokens::issue_scim_secret();
        let id = ScimSecretId::new();
        config.enabled = true;
        config.secret_hash = Some(keys.credential_hash(issued.clear.expose_secret()));
        config.secret_prefix = Some(issued.display_prefix.clone());
        config.secret_created_at = Some(by.now);
        config.secret_last_used_at = None;
        config.secret_id = Some(id.clone());
        config.updated_at = by.now;
        config.save(conn)?;
        let detail = match replaced {
            Some(old) => format!("{}; replaces {old}, which stopped", issued.display_prefix),
            None => issued.display_prefix.clone(),
        };
        audit::record(
            conn,
            &by.origin,
            event(AuditKind::ScimSecretGenerated, &admin)
                .credential(id.as_str())
                .detail(detail),
        )?;
        Ok(issued)
    })
    .await
}

/// Revokes the SCIM secret: the identity provider can no longer call.
pub async fn revoke_secret(db: &Db, by: Acting) -> Result<(), AppError> {
    db.transaction(move |conn| {
        let admin = admin(conn, &by)?;
        let mut config = config_of(conn, &admin, by.now)?;
        let (Some(id), Some(prefix)) = (config.secret_id.take(), config.secret_prefix.take())
        else {
            return Err(
                Refusal::new(RefusalKind::Gone, "There is no SCIM secret to revoke.").into(),
            );
        };
        config.secret_hash = None;
        config.secret_created_at = None;
        config.secret_last_used_at = None;
        config.updated_at = by.now;
        config.save(conn)?;
        audit::record(
            conn,
            &by.origin,
            event(AuditKind::ScimSecretRevoked, &admin)
                .credential(id.as_str())
                .detail(prefix),
        )?;
        Ok(())
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Authentication

/// The identity provider of one company, authenticated by its SCIM secret.
#[derive(Debug, Clone)]
pub struct ScimCaller {
    pub company: CompanyId,
    pub secret_id: ScimSecretId,
    pub origin: Origin,
    pub now: NaiveDateTime,
}

/// Why a SCIM request was not let in (all answered 401 but for `Disabled`, said apart for
/// the identity provider's admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotLetIn {
    Unknown,
    Disabled,
}

/// The configuration whose secret has `hash`, if SCIM is on for it and (with Basic
/// authentication) it is the named company's. Records the use.
pub fn authenticate(
    conn: &mut crate::db::DbConnection,
    hash: &str,
    company: Option<&str>,
    now: NaiveDateTime,
) -> diesel::QueryResult<Result<(CompanyId, ScimSecretId), NotLetIn>> {
    let Some(config) = ScimConfig::find_by_hash(conn, hash)? else {
        return Ok(Err(NotLetIn::Unknown));
    };
    let secret = match &config.secret_id {
        Some(id) if company.is_none_or(|c| c == config.company_id.as_str()) => id.clone(),
        _ => return Ok(Err(NotLetIn::Unknown)),
    };
    if !config.enabled {
        return Ok(Err(NotLetIn::Disabled));
    }
    config.touch(conn, now)?;
    Ok(Ok((config.company_id, secret)))
}

// ---------------------------------------------------------------------------------------------
// People

/// Attribute changes the identity provider asks for; `None` leaves a value as it is, and
/// `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// `userName` (the console's email), or the primary/work email when no userName is given.
    pub email: Option<String>,
    pub given_name: Option<Option<String>>,
    pub family_name: Option<Option<String>>,
    /// `name.formatted` or `displayName`: the whole name when the IdP sends it.
    pub formatted: Option<Option<String>>,
    pub external_id: Option<Option<String>>,
    pub active: Option<bool>,
}

/// A page of people, and how many there are in all.
pub struct Page {
    pub people: Vec<ScimPerson>,
    pub total: i64,
}

/// People SCIM shows, `offset`/`limit` as asked. A userName match prefers the live account
/// over removed ones with the same address.
pub async fn list(
    db: &Db,
    company: CompanyId,
    matching: ScimMatch,
    offset: i64,
    limit: i64,
) -> Result<Page, AppError> {
    db.run(move |conn| {
        let (mut people, mut total) = ScimUser::people(conn, &company, &matching, offset, limit)?;
        if matches!(matching, ScimMatch::Email(_)) && people.iter().any(|(u, _)| u.is_active()) {
            people.retain(|(u, _)| u.status() != UserStatus::Removed);
            total = i64::try_from(people.len()).unwrap_or(total);
        }
        Ok::<_, AppError>(Page { people, total })
    })
    .await
}

pub async fn get(db: &Db, company: CompanyId, id: UserId) -> Result<ScimPerson, AppError> {
    db.run(move |conn| ScimUser::person(conn, &company, &id)?.ok_or(AppError::NotFound))
        .await
}

fn invalid(e: crate::domain::FieldError) -> AppError {
    Refusal::field(e.field, e.message).into()
}

fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The one name the console keeps, from what the IdP sent.
fn name_of(
    formatted: Option<&str>,
    given: Option<&str>,
    family: Option<&str>,
    fallback: &str,
) -> Result<Label, AppError> {
    let joined = [given.unwrap_or_default(), family.unwrap_or_default()]
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let raw = match formatted.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => f.to_owned(),
        None if !joined.is_empty() => joined,
        None => fallback.to_owned(),
    };
    Label::parse("name", "name", &raw, NAME_MAX).map_err(invalid)
}

fn external_id(value: Option<String>) -> Result<Option<String>, AppError> {
    let value = clean(value);
    if value
        .as_ref()
        .is_some_and(|v| v.chars().count() > EXTERNAL_ID_MAX || v.chars().any(char::is_control))
    {
        return Err(Refusal::field(
            "externalId",
            "Use at most 255 characters, no control characters.",
        )
        .into());
    }
    Ok(value)
}

fn ensure_email_free(
    conn: &mut Tx<'_>,
    email: &Email,
    except: Option<&UserId>,
) -> Result<(), AppError> {
    match User::find_by_email(conn, email)? {
        Some(other) if Some(&other.id) != except => Err(Refusal::field(USER_NAME, EMAIL_TAKEN)
            .with_kind(RefusalKind::Conflict)
            .into()),
        _ => Ok(()),
    }
}

fn scim_event(kind: AuditKind, by: &ScimCaller, user: &User) -> Event {
    Event::new(kind)
        .company(&by.company)
        .credential(by.secret_id.as_str())
        .target(format!("{} ({})", user.email, user.id))
}

/// Creates a member of the caller's company (whatever Require Invitation says: the IdP is
/// authoritative), with the default meeting type; `active: false` creates them deprovisioned.
pub async fn create(db: &Db, by: ScimCaller, new: Changes) -> Result<ScimPerson, AppError> {
    db.transaction(move |conn| {
        authorize(
            Actor::Scim {
                company: &by.company,
            },
            Action::CreateUser,
        )
        .map_err(denied)?;
        let raw_email = new.email.as_deref().ok_or_else(|| {
            Refusal::field(USER_NAME, "userName (the person's email) is required.")
        })?;
        let email = Email::parse(USER_NAME, raw_email).map_err(invalid)?;
        ensure_email_free(conn, &email, None)?;
        let (given, family) = (
            clean(new.given_name.clone().flatten()),
            clean(new.family_name.clone().flatten()),
        );
        let local = email
            .as_str()
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned();
        let name = name_of(
            new.formatted.clone().flatten().as_deref(),
            given.as_deref(),
            family.as_deref(),
            &local,
        )?;
        let account = NewAccount {
            name,
            email,
            password_hash: None,
            email_verified_at: Some(by.now),
        };
        let user = joining::add_member(conn, &by.company, account, Role::Member)?;
        meeting_types::provision_default(conn, &user.id)?;
        ScimUser {
            user_id: user.id.clone(),
            company_id: by.company.clone(),
            external_id: external_id(new.external_id.clone().flatten())?,
            given_name: given,
            family_name: family,
            created_at: by.now,
            deleted_at: None,
        }
        .save(conn)?;
        let active = new.active.unwrap_or(true);
        if !active {
            User::set_status(conn, &user.id, UserStatus::Removed)?;
        }
        let event = scim_event(AuditKind::UserCreated, &by, &user)
            .source(Source::Scim)
            .detail(format!(
                "via SCIM{}",
                if active { "" } else { ", deprovisioned" }
            ));
        // Someone the IdP creates already deprovisioned (`active: false`) did not join.
        let event = match active {
            true => event.subject(Subject::Person(user.id.clone())),
            false => event,
        };
        audit::record(conn, &by.origin, event)?;
        ScimUser::person(conn, &by.company, &user.id)?.ok_or(AppError::NotFound)
    })
    .await
    .map_err(taken_meanwhile)
}

/// Two creations of one email at once: the second finds the first's account when the joining
/// rule checks again, or fails on the unique index of live emails; either is the same refusal
/// as the check before them.
fn taken_meanwhile(e: AppError) -> AppError {
    use diesel::result::{DatabaseErrorKind, Error};
    let taken = || -> AppError {
        Refusal::field(USER_NAME, EMAIL_TAKEN)
            .with_kind(RefusalKind::Conflict)
            .into()
    };
    match &e {
        AppError::Refused(r) if r.kind == RefusalKind::Conflict && r.field == Some("email") => {
            taken()
        }
        AppError::Internal(inner)
            if matches!(
                inner.downcast_ref::<Error>(),
                Some(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
            ) =>
        {
            taken()
        }
        _ => e,
    }
}

/// What an update did besides attributes: the offboarding report when it deprovisioned.
pub struct Updated {
    pub person: ScimPerson,
    pub offboarded: Option<OffboardingReport>,
}

/// PUT and PATCH: attribute changes, then deprovisioning or reactivation, in one transaction.
pub async fn update(
    db: &Db,
    by: ScimCaller,
    id: UserId,
    changes: Changes,
) -> Result<Updated, AppError> {
    db.transaction(move |conn| {
        User::hold(conn, &id)?;
        let (user, row) = ScimUser::person(conn, &by.company, &id)?.ok_or(AppError::NotFound)?;
        authorize(
            Actor::Scim {
                company: &by.company,
            },
            Action::UpdateUser(&user),
        )
        .map_err(denied)?;
        let user = apply_attributes(conn, &by, user, row, &changes)?;
        let offboarded = match changes.active {
            Some(false) if user.status() != UserStatus::Removed => {
                Some(deprovision(conn, &by, user)?)
            }
            Some(true) if !user.is_active() => {
                reactivate(conn, &by, &user)?;
                None
            }
            _ => None,
        };
        let person = ScimUser::person(conn, &by.company, &id)?.ok_or(AppError::NotFound)?;
        Ok(Updated { person, offboarded })
    })
    .await
}

/// DELETE: deprovisions the person (unless already done) and hides them from SCIM.
pub async fn delete(
    db: &Db,
    by: ScimCaller,
    id: UserId,
) -> Result<Option<OffboardingReport>, AppError> {
    db.transaction(move |conn| {
        User::hold(conn, &id)?;
        let (user, row) = ScimUser::person(conn, &by.company, &id)?.ok_or(AppError::NotFound)?;
        authorize(
            Actor::Scim {
                company: &by.company,
            },
            Action::DeleteUser(&user),
        )
        .map_err(denied_as_refusal)?;
        let mut row = row.unwrap_or_else(|| unmanaged(&by, &user));
        let report = if user.status() == UserStatus::Removed {
            None
        } else {
            Some(deprovision(conn, &by, user)?)
        };
        row.deleted_at = Some(by.now);
        row.save(conn)?;
        Ok(report)
    })
    .await
}

/// The SCIM row of a person SCIM did not create (an existing member the IdP took over).
fn unmanaged(by: &ScimCaller, user: &User) -> ScimUser {
    ScimUser {
        user_id: user.id.clone(),
        company_id: by.company.clone(),
        created_at: by.now,
        ..ScimUser::default()
    }
}

fn denied_as_refusal(e: crate::authz::Denied) -> AppError {
    Refusal::forbidden(e.0).into()
}

fn apply_attributes(
    conn: &mut Tx<'_>,
    by: &ScimCaller,
    user: User,
    row: Option<ScimUser>,
    changes: &Changes,
) -> Result<User, AppError> {
    let mut row = row.unwrap_or_else(|| unmanaged(by, &user));
    let before = row.clone();
    if let Some(given) = &changes.given_name {
        row.given_name = clean(given.clone());
    }
    if let Some(family) = &changes.family_name {
        row.family_name = clean(family.clone());
    }
    if let Some(external) = &changes.external_id {
        row.external_id = external_id(external.clone())?;
    }
    let email = match &changes.email {
        Some(raw) => {
            let email = Email::parse(USER_NAME, raw).map_err(invalid)?;
            if email.as_str() != user.email {
                ensure_email_free(conn, &email, Some(&user.id))?;
            }
            email.as_str().to_owned()
        }
        None => user.email.clone(),
    };
    let name_changed = changes.formatted.is_some()
        || row.given_name != before.given_name
        || row.family_name != before.family_name;
    let name = if name_changed {
        name_of(
            changes.formatted.clone().flatten().as_deref(),
            row.given_name.as_deref(),
            row.family_name.as_deref(),
            &user.name,
        )?
        .into_string()
    } else {
        user.name.clone()
    };
    let mut what = Vec::new();
    if name != user.name {
        what.push("name");
    }
    if email != user.email {
        what.push("email");
    }
    if row.external_id != before.external_id {
        what.push("externalId");
    }
    if !what.is_empty() {
        User::set_name_and_email(conn, &user.id, &name, &email, by.now)?;
        audit::record(
            conn,
            &by.origin,
            scim_event(AuditKind::UserUpdated, by, &user)
                .detail(format!("via SCIM: {}", what.join(", "))),
        )?;
    }
    row.save(conn)?;
    User::find(conn, &user.id)?.ok_or(AppError::NotFound)
}

/// The console's offboarding to the configured successor (the owner when none is chosen, or
/// the chosen one is the leaver or no longer active).
fn deprovision(
    conn: &mut Tx<'_>,
    by: &ScimCaller,
    leaver: User,
) -> Result<OffboardingReport, AppError> {
    authorize(
        Actor::Scim {
            company: &by.company,
        },
        Action::Offboard(&leaver),
    )
    .map_err(denied_as_refusal)?;
    let successor = ScimConfig::find(conn, &by.company)?.and_then(|c| c.successor_id);
    let receiver = match successor {
        Some(id) if id != leaver.id => User::find_in_company(conn, &by.company, &id)?
            .filter(User::is_active)
            .map(|u| u.id),
        _ => None,
    };
    offboarding::offboard_in(
        conn,
        &Offboarding {
            leaver,
            receiver,
            handover: Handover::default(),
            requester: Requester::Scim(by.secret_id.to_string()),
            origin: by.origin.clone(),
            now: by.now,
        },
    )
}

/// `active: true` on a deprovisioned person. They come back as a member: an admin role is not
/// given back by the identity provider (which manages people, not roles); an owner in
/// the console gives it again if wanted. The owner keeps their role (SCIM never deprovisions
/// the owner, and a company is never left without one).
fn reactivate(conn: &mut Tx<'_>, by: &ScimCaller, user: &User) -> Result<(), AppError> {
    let email = Email::parse(USER_NAME, &user.email).map_err(invalid)?;
    ensure_email_free(conn, &email, Some(&user.id))?;
    let role = match user.role() {
        Role::Owner => Role::Owner,
        Role::Admin | Role::Member => Role::Member,
    };
    User::reactivate(conn, &user.id, role, by.now)?;
    let detail = if role == user.role() {
        format!("via SCIM as {role}; no tokens, nothing moved back")
    } else {
        format!(
            "via SCIM as {role} (was {}); no tokens, nothing moved back",
            user.role()
        )
    };
    audit::record(
        conn,
        &by.origin,
        scim_event(AuditKind::UserReactivated, by, user).detail(detail),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_comes_from_formatted_then_parts_then_the_fallback() {
        let name = |f, g, fam| name_of(f, g, fam, "ada").map(Label::into_string).ok();
        assert_eq!(
            name(Some("Ada L."), Some("Ada"), None),
            Some("Ada L.".into())
        );
        assert_eq!(
            name(None, Some("Ada"), Some("Lovelace")),
            Some("Ada Lovelace".into())
        );
        assert_eq!(
            name(Some("  "), None, Some("Lovelace")),
            Some("Lovelace".into())
        );
        assert_eq!(name(None, None, None), Some("ada".into()));
        assert_eq!(name(Some("a\u{202e}b"), None, None), None);
    }
}
