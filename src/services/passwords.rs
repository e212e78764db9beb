//! Passwords after sign-up: "forgot password" links (single use, 30 minutes, stored as an HMAC
//! of their secret like invitations), setting a new password through one, and changing it from
//! the profile. Setting a password through a link ends every session of the person; changing
//! it ends every session (the caller keeps its own under a new id, see
//! `session::keep_after_others_ended`). Hashing is the caller's, on the hashing threads.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};

use crate::auth::keys::Keys;
use crate::auth::tokens;
use crate::db::models::{Company, PasswordReset, User};
use crate::db::{Db, DbConnection};
use crate::domain::{Email, Role};
use crate::error::{AppError, Refusal, RefusalKind};
use crate::services::audit::{self, AuditKind, Event, Origin};
use crate::services::team::current_actor;
use crate::services::Acting;

/// How long a "forgot password" link works.
pub const RESET_TTL_MINUTES: i64 = 30;

const RESET_PURPOSE: &str = "password_reset";

const LINK_UNUSABLE: &str =
    "This password reset link is not valid any more: it was used, replaced by a newer one, or it expired. Ask for a new one.";
const SSO_ONLY: &str =
    "Your company requires single sign-on, so your account cannot have a password. Sign in with SSO.";
const CHANGED_MEANWHILE: &str =
    "Your password was changed meanwhile. Sign in again with the new one.";

fn reset_hash(keys: &Keys, token: &str) -> String {
    keys.opaque_hash(RESET_PURPOSE, token)
}

/// Whether the person may hold a password: not when their company enforces SSO, except its
/// owner (the audited break-glass).
fn may_use_password(conn: &mut DbConnection, user: &User) -> Result<bool, AppError> {
    let company = Company::find(conn, &user.company_id)?;
    Ok(!company.sso_enforced || user.role() == Role::Owner)
}

/// A new link for the account with this email, when there is one that may sign in with a
/// password; `None` otherwise (the caller answers the same either way). Earlier links stop.
pub async fn request_reset(
    db: &Db,
    keys: Arc<Keys>,
    email: Email,
    origin: Origin,
    now: NaiveDateTime,
) -> Result<Option<(User, String)>, AppError> {
    db.transaction(move |conn| {
        let Some(user) = User::find_by_email(conn, &email)? else {
            return Ok(None);
        };
        if !user.is_active() || !may_use_password(conn, &user)? {
            return Ok(None);
        }
        PasswordReset::retire_unused(conn, &user.id, now)?;
        let token = tokens::random_base62(32);
        PasswordReset {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user.id.clone(),
            token_hash: reset_hash(&keys, &token),
            created_at: now,
            expires_at: now + Duration::minutes(RESET_TTL_MINUTES),
            used_at: None,
        }
        .insert(conn)?;
        audit::record(
            conn,
            &origin,
            Event::new(AuditKind::PasswordResetRequested)
                .company(&user.company_id)
                .target(format!("{} ({})", user.email, user.id)),
        )?;
        Ok(Some((user, token)))
    })
    .await
}

/// The usable link behind `token` and its person, or a refusal that says why not.
fn usable_link(
    conn: &mut DbConnection,
    keys: &Keys,
    token: &str,
    now: NaiveDateTime,
) -> Result<(PasswordReset, User), AppError> {
    let gone = || AppError::Refused(Refusal::new(RefusalKind::Gone, LINK_UNUSABLE));
    let link = PasswordReset::find_by_hash(conn, &reset_hash(keys, token))?.ok_or_else(gone)?;
    if link.used_at.is_some() || link.expires_at <= now {
        return Err(gone());
    }
    let user = User::find(conn, &link.user_id)?
        .filter(User::is_active)
        .ok_or_else(gone)?;
    if !may_use_password(conn, &user)? {
        return Err(gone());
    }
    Ok((link, user))
}

/// The person a still-usable link is for (the page with the new-password form).
pub async fn open_reset(
    db: &Db,
    keys: Arc<Keys>,
    token: String,
    now: NaiveDateTime,
) -> Result<User, AppError> {
    db.run(move |conn| usable_link(conn, &keys, &token, now).map(|(_, user)| user))
        .await
}

/// Sets the new password through a link, once: the link dies, every session of the person
/// ends, and the audit log says so.
pub async fn reset(
    db: &Db,
    keys: Arc<Keys>,
    token: String,
    new_hash: String,
    origin: Origin,
    now: NaiveDateTime,
) -> Result<User, AppError> {
    db.transaction(move |conn| {
        let (link, user) = usable_link(conn, &keys, &token, now)?;
        // Of two requests with the same link, only one marks it used.
        if !PasswordReset::mark_used(conn, &link.id, now)? {
            return Err(Refusal::new(RefusalKind::Gone, LINK_UNUSABLE).into());
        }
        User::set_password_hash(conn, &user.id, &new_hash)?;
        let ended = User::end_all_sessions(conn, &user.id)?;
        audit::record(
            conn,
            &origin,
            Event::new(AuditKind::PasswordReset)
                .company(&user.company_id)
                .actor(&user.id)
                .detail(format!("through a reset link; {ended} sessions ended")),
        )?;
        Ok(user)
    })
    .await
}

/// Whether the signed-in person must give their current password to change it: not when they
/// have none yet (SSO only), which is allowed unless their company enforces SSO.
pub fn needs_current_password(user: &User) -> bool {
    user.password_hash.is_some()
}

/// Sets a new password for the signed-in person over the hash they proved (`proven`: the hash
/// the current password was checked against, `None` when they had none) and ends all their
/// sessions; the caller keeps its own. Returns how many ended.
pub async fn change(
    db: &Db,
    by: Acting,
    proven: Option<String>,
    new_hash: String,
) -> Result<usize, AppError> {
    db.transaction(move |conn| {
        let me = current_actor(conn, &by.user)?;
        if me.password_hash != proven {
            return Err(Refusal::conflict(CHANGED_MEANWHILE).into());
        }
        if me.password_hash.is_none() && !may_use_password(conn, &me)? {
            return Err(Refusal::new(RefusalKind::Forbidden, SSO_ONLY).into());
        }
        User::set_password_hash(conn, &me.id, &new_hash)?;
        let ended = User::end_all_sessions(conn, &me.id)?;
        let how = if proven.is_some() {
            "changed"
        } else {
            "set (had none)"
        };
        audit::record(
            conn,
            &by.origin,
            Event::new(AuditKind::PasswordChanged)
                .company(&me.company_id)
                .actor(&me.id)
                .detail(format!("password {how}; other sessions ended")),
        )?;
        Ok(ended.saturating_sub(1))
    })
    .await
}

/// Whether a person without a password may set one (the profile page hides the form if not).
pub async fn may_set_password(db: &Db, user: User) -> Result<bool, AppError> {
    db.run(move |conn| may_use_password(conn, &user)).await
}
