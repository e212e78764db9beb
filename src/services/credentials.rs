//! Issuing and ending credentials. The clear value leaves here once, in `Issued`, for the
//! one response that shows it; the database keeps an HMAC and a display prefix.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};

use crate::auth::keys::Keys;
use crate::auth::tokens::{self, Issued};
use crate::db::models::{PersonalAccessToken, PlatformApiKey};
use crate::db::Db;
use crate::domain::{ApiKeyId, FieldError, Label, TokenId};
use crate::error::{AppError, Refusal};
use crate::services::audit::{self, AuditKind, Event};
use crate::services::team::current_actor;
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
                .target(format!("token {} ({})", token.name, token.id)),
        )?;
        Ok(token)
    })
    .await
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
        };
        key.insert(conn)?;
        audit::record(
            conn,
            &by.origin,
            Event::new(AuditKind::ApiKeyCreated)
                .company(&admin.company_id)
                .actor(&admin.id)
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
            .target(format!("api key {} ({})", key.name, key.id)),
    )?;
    Ok(key)
}
