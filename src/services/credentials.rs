//! Issuing and ending credentials. The clear value leaves here once, in `Issued`, for the
//! one response that shows it; the database keeps an HMAC and a display prefix.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};

use crate::auth::keys::Keys;
use crate::auth::tokens::{self, Issued};
use crate::db::models::{Company, PersonalAccessToken, PlatformApiKey, User};
use crate::db::{Db, DbConnection, Tx};
use crate::domain::{ApiKeyId, CompanyId, FieldError, Label, TokenId};
use crate::error::{AppError, Refusal};
use crate::services::audit::{self, AuditKind, Event, Origin, Subject};
use crate::services::credential_policy::{end_of_day, PatPolicy};
use crate::services::mail::Mail;
use crate::services::team::{current_actor, denied};
use crate::services::Acting;

pub const API_KEY_MAX_DAYS: i64 = 90;

/// A request to create a credential, already parsed.
pub struct CredentialRequest {
    pub name: Label,
    pub expires_at: Option<NaiveDateTime>,
}

/// Parses a name and an optional `YYYY-MM-DD` expiry (end of that day, UTC).
pub fn parse_request(
    name: &str,
    expires_at: &str,
    expiry_required: bool,
    now: NaiveDateTime,
) -> Result<CredentialRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = Label::parse("name", "name", name, 100)
        .map_err(|e| errors.push(e))
        .ok();
    let today = now.date();
    let expires = match expires_at.trim() {
        "" if expiry_required => {
            errors.push(FieldError::new(
                "expires_at",
                "Choose an expiry date, 1 to 90 days ahead.",
            ));
            None
        }
        "" => None,
        raw => match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Err(_) => {
                errors.push(FieldError::new(
                    "expires_at",
                    "Enter the date as YYYY-MM-DD.",
                ));
                None
            }
            Ok(date) if date <= today => {
                errors.push(FieldError::new(
                    "expires_at",
                    "Choose a date in the future.",
                ));
                None
            }
            Ok(date) if expiry_required && (date - today).num_days() > API_KEY_MAX_DAYS => {
                errors.push(FieldError::new(
                    "expires_at",
                    "An API key expires at most 90 days ahead.",
                ));
                None
            }
            Ok(date) => date.and_hms_opt(23, 59, 59),
        },
    };
    match name {
        Some(name) if errors.is_empty() => Ok(CredentialRequest {
            name,
            expires_at: expires,
        }),
        _ => Err(errors),
    }
}

const PAT_NAME_TAKEN: &str = "You already have a token with this name. Choose another.";

/// Issues a Personal Access Token to the acting member.
pub async fn create_pat(
    db: &Db,
    keys: Arc<Keys>,
    by: Acting,
    request: CredentialRequest,
) -> Result<(PersonalAccessToken, Issued), AppError> {
    db.transaction(move |conn| {
        let owner = &current_actor(conn, &by.user)?;
        let policy = pat_policy_for(conn, owner)?;
        policy.check(request.expires_at, by.now)?;
        if PersonalAccessToken::name_taken(conn, &owner.id, request.name.as_str())? {
            return Err(Refusal::field("name", PAT_NAME_TAKEN).into());
        }
        let issued = tokens::issue_pat();
        let token = PersonalAccessToken {
            id: TokenId::new(),
            user_id: owner.id.clone(),
            name: request.name.into_string(),
            token_hash: keys.credential_hash(tokens::reveal(&issued)),
            prefix: issued.display_prefix.clone(),
            created_at: by.now,
            expires_at: request.expires_at,
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
            replaces: None,
            replaced_by: None,
            superseded_at: None,
            rotation_alerted_at: None,
            note: None,
        };
        match token.insert(conn) {
            Ok(()) => {}
            // Two requests with one name at once: the unique index decides, the loser is told.
            Err(e) if crate::db::is_unique_violation(&e) => {
                return Err(Refusal::field("name", PAT_NAME_TAKEN).into())
            }
            Err(e) => return Err(e.into()),
        }
        audit::record(
            conn,
            &by.origin,
            Event::new(AuditKind::PatCreated)
                .company(&owner.company_id)
                .actor(&owner.id)
                .subject(Subject::Pat(token.id.clone()))
                .target(format!("token {} ({})", token.name, token.id)),
        )?;
        Ok((token, issued))
    })
    .await
}

/// Revokes one of the acting member's tokens. Another user's token is "not found".
pub async fn revoke_pat(db: &Db, by: Acting, id: TokenId) -> Result<PersonalAccessToken, AppError> {
    db.transaction(move |conn| {
        let owner = &by.user;
        let token =
            PersonalAccessToken::find_for_user(conn, &owner.id, &id)?.ok_or(AppError::NotFound)?;
        // Only a token that is not revoked yet: of several revocations at once, one wins.
        if PersonalAccessToken::revoke(conn, &id)? == 0 {
            return Err(Refusal::conflict(format!(
                "Token \u{201c}{}\u{201d} was already revoked.",
                token.name
            ))
            .into());
        }
        audit::record(
            conn,
            &by.origin,
            Event::new(AuditKind::PatRevoked)
                .company(&owner.company_id)
                .actor(&owner.id)
                .subject(Subject::Pat(token.id.clone()))
                .target(format!("token {} ({})", token.name, token.id)),
        )?;
        Ok(token)
    })
    .await
}

/// The longest note a credential takes.
pub const NOTE_MAX_CHARS: usize = 300;

/// A credential's name and note as its owner describes it, checked: the name as at creation,
/// the note optional (one line: what uses the credential, whom to ask).
#[derive(Debug, Clone)]
pub struct Description {
    pub name: Label,
    pub note: Option<String>,
}

pub fn parse_description(name: &str, note: &str) -> Result<Description, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = Label::parse("name", "name", name, 100)
        .map_err(|e| errors.push(e))
        .ok();
    let note = if note.trim().is_empty() {
        Some(None)
    } else {
        Label::parse("note", "note", note, NOTE_MAX_CHARS)
            .map(|n| Some(n.into_string()))
            .map_err(|e| errors.push(e))
            .ok()
    };
    match (name, note) {
        (Some(name), Some(note)) if errors.is_empty() => Ok(Description { name, note }),
        _ => Err(errors),
    }
}

/// Renames a Personal Access Token or changes its note: its owner only, and someone else's
/// token is not found, as on its page.
pub async fn describe_pat(
    db: &Db,
    by: Acting,
    id: TokenId,
    description: Description,
) -> Result<PersonalAccessToken, AppError> {
    db.transaction(move |conn| {
        let me = &current_actor(conn, &by.user)?;
        let (token, owner) = PersonalAccessToken::find_in_company(conn, &me.company_id, &id)?
            .ok_or(AppError::NotFound)?;
        crate::authz::authorize(
            crate::authz::Actor::Member(me),
            crate::authz::Action::DescribePatOf(&owner),
        )
        .map_err(|_| AppError::NotFound)?;
        let name = description.name.as_str();
        if name != token.name && PersonalAccessToken::name_taken(conn, &owner.id, name)? {
            return Err(Refusal::field("name", PAT_NAME_TAKEN).into());
        }
        match PersonalAccessToken::describe(conn, &id, name, description.note.as_deref()) {
            Ok(_) => {}
            Err(e) if crate::db::is_unique_violation(&e) => {
                return Err(Refusal::field("name", PAT_NAME_TAKEN).into())
            }
            Err(e) => return Err(e.into()),
        }
        audit::record(
            conn,
            &by.origin,
            Event::new(AuditKind::PatUpdated)
                .company(&me.company_id)
                .actor(&me.id)
                .subject(Subject::Pat(token.id.clone()))
                .target(format!("token {name} ({})", token.id))
                .detail(described(
                    &token.name,
                    name,
                    token.note.as_deref(),
                    description.note.as_deref(),
                )),
        )?;
        Ok(PersonalAccessToken {
            name: name.to_owned(),
            note: description.note,
            ..token
        })
    })
    .await
}

/// Renames a Platform API key or changes its note (owners and admins).
pub async fn describe_api_key(
    db: &Db,
    by: Acting,
    id: ApiKeyId,
    description: Description,
) -> Result<PlatformApiKey, AppError> {
    db.transaction(move |conn| {
        let admin = &current_actor(conn, &by.user)?;
        crate::authz::authorize(
            crate::authz::Actor::Member(admin),
            crate::authz::Action::ManageApiKeys,
        )
        .map_err(denied)?;
        let key = PlatformApiKey::find_in_company(conn, &admin.company_id, &id)?
            .ok_or(AppError::NotFound)?;
        let name = description.name.as_str();
        PlatformApiKey::describe(conn, &id, name, description.note.as_deref())?;
        audit::record(
            conn,
            &by.origin,
            Event::new(AuditKind::ApiKeyUpdated)
                .company(&admin.company_id)
                .actor(&admin.id)
                .subject(Subject::ApiKey(key.id.clone()))
                .target(format!("api key {name} ({})", key.id))
                .detail(described(
                    &key.name,
                    name,
                    key.note.as_deref(),
                    description.note.as_deref(),
                )),
        )?;
        Ok(PlatformApiKey {
            name: name.to_owned(),
            note: description.note,
            ..key
        })
    })
    .await
}

/// What the audit log says changed: "renamed from “A”", "note changed", or both.
fn described(old_name: &str, name: &str, old_note: Option<&str>, note: Option<&str>) -> String {
    let mut what = Vec::new();
    if old_name != name {
        what.push(format!("renamed from \u{201c}{old_name}\u{201d}"));
    }
    if old_note != note {
        what.push(
            if note.is_some() {
                "note changed"
            } else {
                "note removed"
            }
            .to_owned(),
        );
    }
    if what.is_empty() {
        "nothing changed".into()
    } else {
        what.join("; ")
    }
}

/// Issues a Platform API key for the acting admin's company.
pub async fn create_api_key(
    db: &Db,
    keys: Arc<Keys>,
    by: Acting,
    request: CredentialRequest,
) -> Result<(PlatformApiKey, Issued), AppError> {
    let Some(expires_at) = request.expires_at else {
        return Err(Refusal::field("expires_at", "Choose an expiry date.").into());
    };
    db.transaction(move |conn| {
        let admin = &current_actor(conn, &by.user)?;
        crate::authz::authorize(
            crate::authz::Actor::Member(admin),
            crate::authz::Action::ManageApiKeys,
        )
        .map_err(crate::services::team::denied)?;
        let id = ApiKeyId::new();
        let issued = tokens::issue_api_key(&id);
        let key = PlatformApiKey {
            id,
            company_id: admin.company_id.clone(),
            name: request.name.into_string(),
            secret_hash: keys.credential_hash(tokens::reveal(&issued)),
            prefix: issued.display_prefix.clone(),
            created_by: admin.id.clone(),
            created_at: by.now,
            expires_at,
            last_used_at: None,
            last_used_ip: None,
            deactivated_at: None,
            revoked_at: None,
            replaces: None,
            replaced_by: None,
            superseded_at: None,
            rotation_alerted_at: None,
            note: None,
        };
        key.insert(conn)?;
        audit::record(
            conn,
            &by.origin,
            Event::new(AuditKind::ApiKeyCreated)
                .company(&admin.company_id)
                .actor(&admin.id)
                .subject(Subject::ApiKey(key.id.clone()))
                .target(format!("api key {} ({})", key.name, key.id)),
        )?;
        Ok((key, issued))
    })
    .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChange {
    Deactivate,
    Activate,
    Revoke,
}

pub async fn change_api_key(
    db: &Db,
    by: Acting,
    id: ApiKeyId,
    change: KeyChange,
) -> Result<PlatformApiKey, AppError> {
    db.transaction(move |conn| change_api_key_in(conn, &by, &id, change))
        .await
}

fn change_api_key_in(
    conn: &mut crate::db::Tx<'_>,
    by: &Acting,
    id: &ApiKeyId,
    change: KeyChange,
) -> Result<PlatformApiKey, AppError> {
    let admin = &by.user;
    let key =
        PlatformApiKey::find_in_company(conn, &admin.company_id, id)?.ok_or(AppError::NotFound)?;
    if key.revoked_at.is_some() {
        return Err(Refusal::conflict("This key is revoked; revocation is permanent.").into());
    }
    let (changed, kind) = match change {
        KeyChange::Deactivate => (
            PlatformApiKey::set_deactivated(conn, id, true)?,
            AuditKind::ApiKeyDeactivated,
        ),
        KeyChange::Activate => (
            PlatformApiKey::set_deactivated(conn, id, false)?,
            AuditKind::ApiKeyActivated,
        ),
        KeyChange::Revoke => (PlatformApiKey::revoke(conn, id)?, AuditKind::ApiKeyRevoked),
    };
    // Each change applies only to a key in the state it changes from (see the model): 0 rows
    // means another request changed it first, or it already was in the wanted state.
    if changed == 0 {
        let now_state = match PlatformApiKey::find_in_company(conn, &admin.company_id, id)? {
            Some(k) if k.revoked_at.is_some() => "revoked",
            Some(k) if k.deactivated_at.is_some() => "deactivated",
            Some(_) => "active",
            None => return Err(AppError::NotFound),
        };
        return Err(Refusal::conflict(format!(
            "API key \u{201c}{}\u{201d} is already {now_state}; nothing was changed.",
            key.name
        ))
        .into());
    }
    audit::record(
        conn,
        &by.origin,
        Event::new(kind)
            .company(&admin.company_id)
            .actor(&admin.id)
            .subject(Subject::ApiKey(key.id.clone()))
            .target(format!("api key {} ({})", key.name, key.id)),
    )?;
    Ok(key)
}

/// The company's token policy, after checking that `member` may issue a token under it.
fn pat_policy_for(conn: &mut DbConnection, member: &User) -> Result<PatPolicy, AppError> {
    let policy = PatPolicy::of(&Company::find(conn, &member.company_id)?);
    crate::authz::authorize(
        crate::authz::Actor::Member(member),
        crate::authz::Action::CreatePat {
            members_may_create: policy.members_may_create,
        },
    )
    .map_err(|d| Refusal::forbidden(d.0))?;
    Ok(policy)
}

/// Whether `member` may create tokens now (the Integrations page shows the form or says why not).
pub async fn may_create_pat(db: &Db, member: User) -> Result<Result<PatPolicy, String>, AppError> {
    db.run(move |conn| match pat_policy_for(conn, &member) {
        Ok(policy) => Ok(Ok(policy)),
        Err(AppError::Refused(r)) => Ok(Err(r.message)),
        Err(e) => Err(e),
    })
    .await
}

/// How long a regenerated credential's predecessor keeps working at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grace {
    None,
    OneHour,
    OneDay,
    SevenDays,
}

impl Grace {
    pub const ALL: [Grace; 4] = [Self::None, Self::OneHour, Self::OneDay, Self::SevenDays];
    pub const DEFAULT: Grace = Self::OneDay;

    /// The form's value: `none`, `1h`, `24h` (also when empty) or `7d`.
    pub fn parse(raw: &str) -> Result<Self, Refusal> {
        match raw.trim() {
            "none" => Ok(Self::None),
            "1h" => Ok(Self::OneHour),
            "" | "24h" => Ok(Self::OneDay),
            "7d" => Ok(Self::SevenDays),
            _ => Err(Refusal::field(
                "grace",
                "Choose how long the old one keeps working: none, 1 hour, 24 hours or 7 days.",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::OneHour => "1h",
            Self::OneDay => "24h",
            Self::SevenDays => "7d",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::None => "Stop the old one now",
            Self::OneHour => "1 hour",
            Self::OneDay => "24 hours",
            Self::SevenDays => "7 days",
        }
    }

    pub fn duration(self) -> chrono::Duration {
        match self {
            Self::None => chrono::Duration::zero(),
            Self::OneHour => chrono::Duration::hours(1),
            Self::OneDay => chrono::Duration::hours(24),
            Self::SevenDays => chrono::Duration::days(7),
        }
    }
}

/// A regenerated credential: the successor (shown once, from `issued`) and its predecessor,
/// which stops at `cut_over` at the latest (earlier if the successor is used first).
pub struct Regenerated<T> {
    pub successor: T,
    pub issued: Issued,
    pub predecessor: T,
    pub cut_over: NaiveDateTime,
}

/// The same lifetime again from today: whole days from creation to expiry, ending at the end
/// of a day as the forms' dates do.
fn same_lifetime(
    created: NaiveDateTime,
    expires: NaiveDateTime,
    now: NaiveDateTime,
) -> NaiveDateTime {
    let days = (expires.date() - created.date()).num_days().max(1);
    end_of_day(now.date() + chrono::Duration::days(days))
}

fn not_regenerable(
    what: &str,
    name: &str,
    status: crate::db::models::CredentialStatus,
) -> AppError {
    use crate::db::models::CredentialStatus as S;
    let why = match status {
        S::Replaced => "was already regenerated; regenerate its successor instead",
        S::Revoked => "is revoked",
        S::Expired => "has expired; create a new one instead",
        S::Deactivated => "is deactivated; activate it first",
        S::Active => "was regenerated a moment ago; regenerate its successor instead",
    };
    Refusal::conflict(format!("{what} \u{201c}{name}\u{201d} {why}.")).into()
}

/// Regenerates one of the acting member's tokens: the successor has the same name, the same
/// lifetime from today (capped by the company's policy), and is shown once.
pub async fn regenerate_pat(
    db: &Db,
    keys: Arc<Keys>,
    by: Acting,
    id: TokenId,
    grace: Grace,
) -> Result<Regenerated<PersonalAccessToken>, AppError> {
    db.transaction(move |conn| {
        let owner = &current_actor(conn, &by.user)?;
        let old =
            PersonalAccessToken::find_for_user(conn, &owner.id, &id)?.ok_or(AppError::NotFound)?;
        let policy = pat_policy_for(conn, owner)?;
        // Replaced but still in its grace is "replaced" here: its successor is the one to regenerate.
        let status = match old.replaced_by {
            Some(_) => crate::db::models::CredentialStatus::Replaced,
            None => old.status(by.now),
        };
        if status != crate::db::models::CredentialStatus::Active {
            return Err(not_regenerable("Token", &old.name, status));
        }
        let wanted = old
            .expires_at
            .map(|e| same_lifetime(old.created_at, e, by.now));
        let expires_at = policy.cap(wanted, by.now);
        let issued = tokens::issue_pat();
        let new_id = TokenId::new();
        let cut_over = by.now + grace.duration();
        // The one winner of several regenerations at once; it also frees the name.
        if PersonalAccessToken::mark_replaced(conn, &old.id, &new_id, cut_over, by.now)? == 0 {
            return Err(not_regenerable(
                "Token",
                &old.name,
                crate::db::models::CredentialStatus::Active,
            ));
        }
        let token = PersonalAccessToken {
            id: new_id,
            user_id: owner.id.clone(),
            name: old.name.clone(),
            token_hash: keys.credential_hash(tokens::reveal(&issued)),
            prefix: issued.display_prefix.clone(),
            created_at: by.now,
            expires_at,
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
            replaces: Some(old.id.clone()),
            replaced_by: None,
            superseded_at: None,
            rotation_alerted_at: None,
            note: None,
        };
        token.insert(conn)?;
        audit::record(
            conn,
            &by.origin,
            Event::new(AuditKind::PatRegenerated)
                .company(&owner.company_id)
                .actor(&owner.id)
                .subject(Subject::Pat(token.id.clone()))
                .target(format!(
                    "token {} ({}), replaces {} ({})",
                    token.name, token.id, old.prefix, old.id
                ))
                .detail(format!(
                    "grace {}: the old token works until {} UTC or the new one's first use",
                    grace.as_str(),
                    cut_over.format("%Y-%m-%d %H:%M")
                )),
        )?;
        Ok(Regenerated {
            successor: token,
            issued,
            predecessor: old,
            cut_over,
        })
    })
    .await
}

/// Regenerates a company key (owners and admins): same name, same lifetime from today (at
/// most 90 days), shown once.
pub async fn regenerate_api_key(
    db: &Db,
    keys: Arc<Keys>,
    by: Acting,
    id: ApiKeyId,
    grace: Grace,
) -> Result<Regenerated<PlatformApiKey>, AppError> {
    db.transaction(move |conn| {
        let admin = &current_actor(conn, &by.user)?;
        crate::authz::authorize(
            crate::authz::Actor::Member(admin),
            crate::authz::Action::ManageApiKeys,
        )
        .map_err(denied)?;
        let old = PlatformApiKey::find_in_company(conn, &admin.company_id, &id)?
            .ok_or(AppError::NotFound)?;
        // Replaced but still in its grace is "replaced" here: its successor is the one to regenerate.
        let status = match old.replaced_by {
            Some(_) => crate::db::models::CredentialStatus::Replaced,
            None => old.status(by.now),
        };
        if status != crate::db::models::CredentialStatus::Active {
            return Err(not_regenerable("API key", &old.name, status));
        }
        let latest = end_of_day(by.now.date() + chrono::Duration::days(API_KEY_MAX_DAYS));
        let expires_at = same_lifetime(old.created_at, old.expires_at, by.now).min(latest);
        let new_id = ApiKeyId::new();
        let issued = tokens::issue_api_key(&new_id);
        let cut_over = by.now + grace.duration();
        if PlatformApiKey::mark_replaced(conn, &old.id, &new_id, cut_over, by.now)? == 0 {
            return Err(not_regenerable(
                "API key",
                &old.name,
                crate::db::models::CredentialStatus::Active,
            ));
        }
        let key = PlatformApiKey {
            id: new_id,
            company_id: admin.company_id.clone(),
            name: old.name.clone(),
            secret_hash: keys.credential_hash(tokens::reveal(&issued)),
            prefix: issued.display_prefix.clone(),
            created_by: admin.id.clone(),
            created_at: by.now,
            expires_at,
            last_used_at: None,
            last_used_ip: None,
            deactivated_at: None,
            revoked_at: None,
            replaces: Some(old.id.clone()),
            replaced_by: None,
            superseded_at: None,
            rotation_alerted_at: None,
            note: None,
        };
        key.insert(conn)?;
        audit::record(
            conn,
            &by.origin,
            Event::new(AuditKind::ApiKeyRegenerated)
                .company(&admin.company_id)
                .actor(&admin.id)
                .subject(Subject::ApiKey(key.id.clone()))
                .target(format!(
                    "api key {} ({}), replaces {} ({})",
                    key.name, key.id, old.prefix, old.id
                ))
                .detail(format!(
                    "grace {}: the old key works until {} UTC or the new one's first use",
                    grace.as_str(),
                    cut_over.format("%Y-%m-%d %H:%M")
                )),
        )?;
        Ok(Regenerated {
            successor: key,
            issued,
            predecessor: old,
            cut_over,
        })
    })
    .await
}

/// Where a credential's alerts go: a token's owner; for a company key, whoever created it and
/// every active owner and admin.
fn key_recipients(
    conn: &mut DbConnection,
    key: &PlatformApiKey,
) -> diesel::QueryResult<Vec<String>> {
    let mut to: Vec<String> = User::active_in_company(conn, &key.company_id)?
        .into_iter()
        .filter(|u| u.role().is_admin() || u.id == key.created_by)
        .map(|u| u.email)
        .collect();
    to.sort();
    to.dedup();
    Ok(to)
}

/// A regenerated credential used after its cut-over: what to mail, and to whom.
#[derive(Debug, Clone)]
pub struct RotationAlert {
    pub to: Vec<String>,
    pub what: &'static str,
    pub name: String,
    pub prefix: String,
    pub ip: String,
    pub at: NaiveDateTime,
    pub manage_path: &'static str,
}

impl RotationAlert {
    pub fn mails(&self, public_url: &str) -> Vec<Mail> {
        self.to
            .iter()
            .map(|to| Mail {
                to: to.clone(),
                subject: format!(
                    "A replaced {} \u{201c}{}\u{201d} was used: it may have leaked",
                    self.what, self.name
                ),
                body: format!(
                    "The {} \u{201c}{}\u{201d} ({}) was regenerated and no longer works, but\n\
                     someone used it at {} UTC from {}. The request was refused.\n\n\
                     If it was an integration you have not updated yet, give it the new one.\n\
                     Otherwise the old {} may have leaked: check where it was stored, and\n\
                     revoke its successor too if that could have leaked as well:\n{}{}\n",
                    self.what,
                    self.name,
                    self.prefix,
                    self.at.format("%Y-%m-%d %H:%M"),
                    self.ip,
                    self.what,
                    public_url,
                    self.manage_path
                ),
            })
            .collect()
    }
}

fn alerted_recently(last: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    last.is_some_and(|at| {
        now - at < chrono::Duration::seconds(crate::db::models::ROTATION_ALERT_EVERY_SECS)
    })
}

fn rotation_event(company: &CompanyId, credential: &str, target: String, ip: &str) -> Event {
    Event::new(AuditKind::CredentialUsedAfterRotation)
        .company(company)
        .credential(credential)
        .target(target)
        .detail(format!(
            "refused: used after rotation from {ip}; it may have leaked (alerts at most hourly)"
        ))
}

/// A token used after its cut-over (on the API's request path, after the lookup): records it
/// and returns the alert to mail, at most once an hour per token.
pub fn token_used_after_rotation(
    conn: &mut DbConnection,
    token: &PersonalAccessToken,
    owner: &User,
    ip: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<Option<RotationAlert>> {
    // The row read on the way tells most repeats apart without a write.
    if alerted_recently(token.rotation_alerted_at, now)
        || !PersonalAccessToken::claim_rotation_alert(conn, &token.id, now)?
    {
        return Ok(None);
    }
    let successor = token
        .replaced_by
        .as_ref()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let origin = Origin {
        ip: Some(ip.to_owned()),
        user_agent: None,
    };
    audit::record(
        conn,
        &origin,
        rotation_event(
            &owner.company_id,
            token.id.as_str(),
            format!(
                "token {} ({}), replaced by {}",
                token.name, token.id, successor
            ),
            ip,
        ),
    )?;
    Ok(Some(RotationAlert {
        to: vec![owner.email.clone()],
        what: "personal access token",
        name: token.name.clone(),
        prefix: token.prefix.clone(),
        ip: ip.to_owned(),
        at: now,
        manage_path: crate::paths::API_TOKENS,
    }))
}

/// A company key used after its cut-over: as `token_used_after_rotation`.
pub fn key_used_after_rotation(
    conn: &mut DbConnection,
    key: &PlatformApiKey,
    ip: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<Option<RotationAlert>> {
    if alerted_recently(key.rotation_alerted_at, now)
        || !PlatformApiKey::claim_rotation_alert(conn, &key.id, now)?
    {
        return Ok(None);
    }
    let successor = key
        .replaced_by
        .as_ref()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let origin = Origin {
        ip: Some(ip.to_owned()),
        user_agent: None,
    };
    audit::record(
        conn,
        &origin,
        rotation_event(
            &key.company_id,
            key.id.as_str(),
            format!(
                "api key {} ({}), replaced by {}",
                key.name, key.id, successor
            ),
            ip,
        ),
    )?;
    Ok(Some(RotationAlert {
        to: key_recipients(conn, key)?,
        what: "API key",
        name: key.name.clone(),
        prefix: key.prefix.clone(),
        ip: ip.to_owned(),
        at: now,
        manage_path: crate::paths::ADMIN_API_KEYS,
    }))
}

/// Credentials in a leak report, already checked offline: token hashes, and key hashes with
/// the id each key's text names.
#[derive(Debug, Default)]
pub struct ReportedCredentials {
    pub pat_hashes: Vec<String>,
    pub key_hashes: Vec<(ApiKeyId, String)>,
}

/// A credential a leak report revoked, for the mail to whoever answers for it.
#[derive(Debug, Clone)]
pub struct LeakNotice {
    pub to: Vec<String>,
    pub what: &'static str,
    pub name: String,
    pub prefix: String,
}

impl LeakNotice {
    pub fn mails(&self, public_url: &str) -> Vec<Mail> {
        self.to
            .iter()
            .map(|to| Mail {
                to: to.clone(),
                subject: format!(
                    "Your {} \u{201c}{}\u{201d} was found in public and revoked",
                    self.what, self.name
                ),
                body: format!(
                    "The {} \u{201c}{}\u{201d} ({}) was reported as publicly leaked (for example\n\
                     found in a public code repository by a secret scanner), so it was revoked\n\
                     and no longer works.\n\n\
                     Create a new one, give it to whatever used the old one, and remove the\n\
                     leaked copy from where it was published:\n{}{}\n",
                    self.what,
                    self.name,
                    self.prefix,
                    public_url,
                    if self.what == "API key" {
                        crate::paths::ADMIN_API_KEYS
                    } else {
                        crate::paths::API_TOKENS
                    }
                ),
            })
            .collect()
    }
}

/// Revokes every working credential among those reported as leaked, in one transaction and a
/// few batched queries (eq_any over the hashes, not one query each); audits each and returns
/// the notices to mail. Which ones matched is never told to the reporter.
pub async fn revoke_reported(
    db: &Db,
    origin: Origin,
    reported: ReportedCredentials,
    now: NaiveDateTime,
) -> Result<Vec<LeakNotice>, AppError> {
    if reported.pat_hashes.is_empty() && reported.key_hashes.is_empty() {
        return Ok(Vec::new());
    }
    db.transaction(move |conn| revoke_reported_in(conn, &origin, reported, now))
        .await
}

fn revoke_reported_in(
    conn: &mut Tx<'_>,
    origin: &Origin,
    reported: ReportedCredentials,
    now: NaiveDateTime,
) -> Result<Vec<LeakNotice>, AppError> {
    use crate::db::models::CredentialStatus as S;
    let mut notices = Vec::new();
    let live = |s: S| !matches!(s, S::Revoked | S::Expired);
    let mut pats = Vec::new();
    for chunk in reported.pat_hashes.chunks(500) {
        pats.extend(PersonalAccessToken::find_by_hashes(conn, chunk)?);
    }
    pats.retain(|(t, _)| live(t.status(now)));
    let ids: Vec<TokenId> = pats.iter().map(|(t, _)| t.id.clone()).collect();
    PersonalAccessToken::revoke_many(conn, &ids, now)?;
    for (token, owner) in pats {
        audit::record(
            conn,
            origin,
            Event::new(AuditKind::CredentialReportedLeaked)
                .company(&owner.company_id)
                .credential(token.id.as_str())
                .subject(Subject::Pat(token.id.clone()))
                .target(format!("token {} ({})", token.name, token.id))
                .detail("reported as publicly leaked; revoked"),
        )?;
        notices.push(LeakNotice {
            to: vec![owner.email],
            what: "personal access token",
            name: token.name,
            prefix: token.prefix,
        });
    }
    let hashes: Vec<String> = reported.key_hashes.iter().map(|(_, h)| h.clone()).collect();
    let mut keys = Vec::new();
    for chunk in hashes.chunks(500) {
        keys.extend(PlatformApiKey::find_by_hashes(conn, chunk)?);
    }
    // The id in the key's text must be the key's own, as on the request path.
    keys.retain(|k| {
        live(k.status(now))
            && reported
                .key_hashes
                .iter()
                .any(|(id, h)| *id == k.id && *h == k.secret_hash)
    });
    let ids: Vec<ApiKeyId> = keys.iter().map(|k| k.id.clone()).collect();
    PlatformApiKey::revoke_many(conn, &ids, now)?;
    for key in keys {
        audit::record(
            conn,
            origin,
            Event::new(AuditKind::CredentialReportedLeaked)
                .company(&key.company_id)
                .credential(key.id.as_str())
                .subject(Subject::ApiKey(key.id.clone()))
                .target(format!("api key {} ({})", key.name, key.id))
                .detail("reported as publicly leaked; revoked"),
        )?;
        notices.push(LeakNotice {
            to: key_recipients(conn, &key)?,
            what: "API key",
            name: key.name,
            prefix: key.prefix,
        });
    }
    Ok(notices)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap_or_default()
    }

    #[test]
    fn a_successor_lives_as_many_days_from_today_as_its_predecessor_did() {
        let created = at("2026-10-01 15:30:00");
        let expires = at("2026-10-31 23:59:59");
        let now = at("2026-10-20 09:00:00");
        assert_eq!(
            same_lifetime(created, expires, now),
            at("2026-11-19 23:59:59")
        );
        // Never less than a day.
        assert_eq!(same_lifetime(now, now, now), at("2026-10-21 23:59:59"));
    }

    #[test]
    fn grace_is_one_of_four_and_24_hours_by_default() {
        assert_eq!(Grace::parse("").ok(), Some(Grace::OneDay));
        for g in Grace::ALL {
            assert_eq!(Grace::parse(g.as_str()).ok(), Some(g));
        }
        assert!(Grace::parse("2h").is_err());
        assert_eq!(Grace::None.duration(), chrono::Duration::zero());
        assert_eq!(Grace::SevenDays.duration(), chrono::Duration::days(7));
    }
}
