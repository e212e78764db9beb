//! Which changes send which webhook event, in one place. A service that records an audit event
//! names what it is about ([`Subject`]); `services::audit::record` hands the event here, inside
//! the service's transaction, and the matching webhook event is written to the outbox with a
//! payload built from the rows as that transaction sees them. A change that rolls back takes
//! its event with it. Payloads carry ids, names, display prefixes and dates, never a secret or
//! a hash.
//!
//! | audit event | webhook event |
//! |---|---|
//! | invitation accepted, sign-up joining a company, domain join on verification, SCIM or API user created | `new_employee` |
//! | member offboarded (console, SCIM, API) | `employee_offboarded` (and `credential_revoked` per token, from the offboarding) |
//! | PAT or API key created or regenerated | `credential_created` |
//! | PAT revoked by its owner or an admin, API key revoked, leak report | `credential_revoked` |
//!
//! Events are stamped with the system time, like the audit record beside them.
//!
//! `credential_expiring` comes from the expiry reminders (`jobs::reminders`), which claim each
//! reminder in a transaction of their own.

use chrono::{NaiveDateTime, SecondsFormat};
use diesel::prelude::*;
use serde_json::{json, Value};

use super::{outbox, WebhookEventType};
use crate::db::models::{now as system_now, PersonalAccessToken, PlatformApiKey, User};
use crate::db::schema::{personal_access_tokens, platform_api_keys};
use crate::db::DbConnection;
use crate::domain::{ApiKeyId, AuditKind, CompanyId, TokenId, UserId};
use crate::services::audit::Event;

/// What an audit event is about, when a webhook may follow from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Person(UserId),
    Pat(TokenId),
    ApiKey(ApiKeyId),
}

/// Through what someone joined or left, as `new_employee` and `employee_offboarded` say it
/// (`source`). Set by the service that records the audit event; without it the audit kind
/// decides (invitation, domain join, or else the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Invitation,
    Domain,
    Sso,
    Scim,
    Api,
    Console,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Domain => "domain",
            Self::Sso => "sso",
            Self::Scim => "scim",
            Self::Api => "api",
            Self::Console => "console",
        }
    }
}

/// Why a credential was revoked, as `credential_revoked` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokedBecause {
    /// Its owner revoked it (a PAT), or an admin revoked the company's API key.
    Revoked,
    /// An admin revoked a member's PAT from the credentials inventory.
    RevokedByAdmin,
    /// Someone reported it as publicly leaked.
    ReportedLeaked,
    /// Its owner was offboarded.
    Offboarding,
}

impl RevokedBecause {
    fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::RevokedByAdmin => "revoked_by_admin",
            Self::ReportedLeaked => "reported_leaked",
            Self::Offboarding => "offboarding",
        }
    }
}

/// Called by `services::audit::record` for every event it writes, in the same transaction.
pub fn on_audit(conn: &mut DbConnection, event: &Event) -> QueryResult<()> {
    let (Some(subject), Some(company)) = (&event.subject, &event.company) else {
        return Ok(());
    };
    let actor = event.actor.as_ref();
    match (event.kind, subject) {
        (
            AuditKind::InvitationAccepted
            | AuditKind::SignedUp
            | AuditKind::EmailVerified
            | AuditKind::UserCreated,
            Subject::Person(user),
        ) => {
            let source = match (event.source, event.kind) {
                (Some(source), _) => source,
                (None, AuditKind::InvitationAccepted) => Source::Invitation,
                (None, AuditKind::SignedUp | AuditKind::EmailVerified) => Source::Domain,
                (None, _) => Source::Api,
            };
            new_employee(conn, company, user, source.as_str())
        }
        (AuditKind::MemberOffboarded, Subject::Person(user)) => {
            let source = match (event.source, actor) {
                (Some(source), _) => source,
                (None, Some(_)) => Source::Console,
                (None, None) => Source::Api,
            };
            employee_offboarded(conn, company, user, actor, source.as_str())
        }
        (
            AuditKind::PatCreated
            | AuditKind::PatRegenerated
            | AuditKind::ApiKeyCreated
            | AuditKind::ApiKeyRegenerated,
            credential,
        ) => credential_created(conn, company, credential),
        (AuditKind::PatRevoked | AuditKind::ApiKeyRevoked, credential) => credential_revoked(
            conn,
            company,
            credential,
            actor,
            RevokedBecause::Revoked,
            None,
        ),
        (AuditKind::PatRevokedByAdmin, credential) => credential_revoked(
            conn,
            company,
            credential,
            actor,
            RevokedBecause::RevokedByAdmin,
            event.reason.as_deref(),
        ),
        (AuditKind::CredentialReportedLeaked, credential) => credential_revoked(
            conn,
            company,
            credential,
            None,
            RevokedBecause::ReportedLeaked,
            None,
        ),
        _ => Ok(()),
    }
}

fn at(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn person(user: &User) -> serde_json::Map<String, Value> {
    let mut fields = serde_json::Map::new();
    fields.insert("userId".into(), user.id.as_str().into());
    fields.insert("email".into(), user.email.clone().into());
    fields.insert("name".into(), user.name.clone().into());
    fields.insert("role".into(), user.role().as_str().into());
    fields.insert("companyId".into(), user.company_id.as_str().into());
    fields
}

fn new_employee(
    conn: &mut DbConnection,
    company: &CompanyId,
    user: &UserId,
    source: &str,
) -> QueryResult<()> {
    let Some(user) = User::find(conn, user)? else {
        return Ok(());
    };
    let mut fields = person(&user);
    fields.insert("source".into(), source.into());
    fields.insert("createdAt".into(), at(user.created_at).into());
    outbox::enqueue(
        conn,
        company,
        WebhookEventType::NewEmployee,
        Value::Object(fields),
        system_now(),
    )
    .map(|_| ())
}

fn employee_offboarded(
    conn: &mut DbConnection,
    company: &CompanyId,
    user: &UserId,
    by: Option<&UserId>,
    source: &str,
) -> QueryResult<()> {
    let Some(user) = User::find(conn, user)? else {
        return Ok(());
    };
    let mut fields = person(&user);
    fields.insert("source".into(), source.into());
    fields.insert("offboardedBy".into(), by.map(|u| u.as_str()).into());
    fields.insert("offboardedAt".into(), at(system_now()).into());
    outbox::enqueue(
        conn,
        company,
        WebhookEventType::EmployeeOffboarded,
        Value::Object(fields),
        system_now(),
    )
    .map(|_| ())
}

/// A credential's public facts: never its secret or hash.
fn credential(
    conn: &mut DbConnection,
    subject: &Subject,
) -> QueryResult<Option<serde_json::Map<String, Value>>> {
    let fields = match subject {
        Subject::Person(_) => return Ok(None),
        Subject::Pat(id) => {
            let Some(pat) = personal_access_tokens::table
                .filter(personal_access_tokens::id.eq(id))
                .select(PersonalAccessToken::as_select())
                .first(conn)
                .optional()?
            else {
                return Ok(None);
            };
            json!({
                "credentialId": pat.id.as_str(),
                "kind": "personal_access_token",
                "name": pat.name,
                "prefix": pat.prefix,
                "ownerId": pat.user_id.as_str(),
                "createdAt": at(pat.created_at),
                "expiresAt": pat.expires_at.map(at),
                "replaces": pat.replaces.as_ref().map(|r| r.as_str()),
            })
        }
        Subject::ApiKey(id) => {
            let Some(key) = platform_api_keys::table
                .filter(platform_api_keys::id.eq(id))
                .select(PlatformApiKey::as_select())
                .first(conn)
                .optional()?
            else {
                return Ok(None);
            };
            json!({
                "credentialId": key.id.as_str(),
                "kind": "platform_api_key",
                "name": key.name,
                "prefix": key.prefix,
                "ownerId": key.created_by.as_str(),
                "createdAt": at(key.created_at),
                "expiresAt": at(key.expires_at),
                "replaces": key.replaces.as_ref().map(|r| r.as_str()),
            })
        }
    };
    Ok(match fields {
        Value::Object(map) => Some(map),
        _ => None,
    })
}

fn credential_created(
    conn: &mut DbConnection,
    company: &CompanyId,
    subject: &Subject,
) -> QueryResult<()> {
    let Some(mut fields) = credential(conn, subject)? else {
        return Ok(());
    };
    fields.insert("companyId".into(), company.as_str().into());
    outbox::enqueue(
        conn,
        company,
        WebhookEventType::CredentialCreated,
        Value::Object(fields),
        system_now(),
    )
    .map(|_| ())
}

/// `credential_revoked` for one credential; `by` is the person who revoked it, if a person did.
pub fn credential_revoked(
    conn: &mut DbConnection,
    company: &CompanyId,
    subject: &Subject,
    by: Option<&UserId>,
    because: RevokedBecause,
    note: Option<&str>,
) -> QueryResult<()> {
    let Some(mut fields) = credential(conn, subject)? else {
        return Ok(());
    };
    fields.insert("companyId".into(), company.as_str().into());
    fields.insert("revokedAt".into(), at(system_now()).into());
    fields.insert("revokedBy".into(), by.map(|u| u.as_str()).into());
    fields.insert("reason".into(), because.as_str().into());
    if let Some(note) = note.filter(|n| !n.is_empty()) {
        fields.insert("note".into(), note.into());
    }
    outbox::enqueue(
        conn,
        company,
        WebhookEventType::CredentialRevoked,
        Value::Object(fields),
        system_now(),
    )
    .map(|_| ())
}

/// `credential_expiring` for a reminder just claimed: `days_left` is the threshold (0: it has
/// expired).
pub fn credential_expiring(
    conn: &mut DbConnection,
    company: &CompanyId,
    subject: &Subject,
    days_left: i32,
) -> QueryResult<()> {
    let Some(mut fields) = credential(conn, subject)? else {
        return Ok(());
    };
    fields.insert("companyId".into(), company.as_str().into());
    fields.insert("daysLeft".into(), days_left.into());
    fields.insert("expired".into(), (days_left == 0).into());
    outbox::enqueue(
        conn,
        company,
        WebhookEventType::CredentialExpiring,
        Value::Object(fields),
        system_now(),
    )
    .map(|_| ())
}
