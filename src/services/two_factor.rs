//! Two-factor sign-in: enrolment, the second step of a password sign-in, disabling, and the
//! company's requirement. Every step is audited; failures are recorded after the refused
//! transaction has rolled back, so they are never lost with it.

use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::keys::Keys;
use crate::auth::totp;
use crate::authz::{authorize, Action, Actor};
use crate::db::models::{Authenticator, RecoveryCodes, User};
use crate::db::schema::companies;
use crate::db::{Db, DbConnection, Tx};
use crate::error::{AppError, Refusal};
use crate::services::audit::{self, AuditKind, Event, Origin};
use crate::services::team::{current_actor, denied, event};
use crate::services::Acting;

pub const WRONG_CODE: &str =
    "That code is not valid. Enter the current code from your app, or one of your recovery codes.";
const RECOVERY_PURPOSE: &str = "two-factor-recovery";

/// What the enrolment page shows while enrolment pends.
pub struct Enrolment {
    pub secret_base32: String,
    pub qr_data_url: Option<String>,
}

/// The person's enrolment state, for the two-factor page.
pub enum Status {
    Enabled { recovery_codes_left: i64 },
    Pending(Enrolment),
}

fn issuer() -> &'static str {
    "meetergo console"
}

fn unreadable_secret() -> AppError {
    AppError::Internal(anyhow::anyhow!(
        "two-factor secret does not decrypt (SECRET_KEY changed?)"
    ))
}

/// The enrolment in progress, started now if there is none; or the enabled state.
pub async fn status_or_start(db: &Db, keys: Arc<Keys>, by: Acting) -> Result<Status, AppError> {
    db.transaction(move |tx| {
        let user = &by.user;
        // Two first visits at once must not both start one: they take turns on the user's row.
        if !User::hold_active(tx, &user.id)? {
            return Err(AppError::LoginRequired);
        }
        if let Some(a) = Authenticator::of_user(tx, &user.id)? {
            if a.is_confirmed() {
                let left = RecoveryCodes::unused(tx, &user.id)?;
                return Ok(Status::Enabled {
                    recovery_codes_left: left,
                });
            }
            let secret =
                totp::decrypt_secret(keys.two_factor_key(), user.id.as_str(), &a.secret_encrypted)
                    .ok_or_else(unreadable_secret)?;
            return Ok(Status::Pending(enrolment(&secret, &user.email)));
        }
        let secret = totp::new_secret();
        let sealed = totp::encrypt_secret(keys.two_factor_key(), user.id.as_str(), &secret)
            .ok_or_else(unreadable_secret)?;
        Authenticator::start(tx, &user.id, &sealed, by.now)?;
        audit::record(
            tx,
            &by.origin,
            event(AuditKind::TwoFactorEnrolmentStarted, user),
        )?;
        Ok(Status::Pending(enrolment(&secret, &user.email)))
    })
    .await
}

fn enrolment(secret: &[u8], account: &str) -> Enrolment {
    Enrolment {
        secret_base32: totp::to_base32(secret),
        qr_data_url: totp::qr_svg_data_url(&totp::provisioning_uri(secret, account, issuer())),
    }
}

fn now_step(now: NaiveDateTime) -> i64 {
    totp::step_at(now.and_utc().timestamp())
}

/// Confirms the pending enrolment with its first code; returns the ten recovery codes, the
/// only time they are shown.
pub async fn confirm(
    db: &Db,
    keys: Arc<Keys>,
    by: Acting,
    code: String,
) -> Result<Vec<String>, AppError> {
    let (origin, failed) = (
        by.origin.clone(),
        event(AuditKind::TwoFactorFailed, &by.user),
    );
    let outcome = db
        .transaction(move |tx| {
            let user = &by.user;
            let pending = Authenticator::of_user(tx, &user.id)?
                .filter(|a| !a.is_confirmed())
                .ok_or_else(|| {
                    Refusal::conflict("Two-factor sign-in is already on, or no enrolment is under way. Reload the page.")
                })?;
            let secret = totp::decrypt_secret(
                keys.two_factor_key(),
                user.id.as_str(),
                &pending.secret_encrypted,
            )
            .ok_or_else(unreadable_secret)?;
            let step = totp::matching_step(&secret, &code, now_step(by.now)).ok_or_else(|| {
                Refusal::field(
                    "code",
                    "That code does not match. Enter the six digits your app shows now.",
                )
                .with_detail("enrolment: wrong code")
            })?;
            if Authenticator::confirm(tx, &user.id, step, by.now)? == 0 {
                // Confirmed by a request that got there first; its recovery codes stand.
                return Err(Refusal::conflict("Two-factor sign-in is already on.").into());
            }
            let codes = totp::new_recovery_codes();
            let hashes: Vec<String> = codes
                .iter()
                .map(|c| {
                    keys.opaque_hash(RECOVERY_PURPOSE, &totp::normalize_recovery_code(c))
                })
                .collect();
            RecoveryCodes::replace(tx, &user.id, &hashes)?;
            audit::record(tx, &by.origin, event(AuditKind::TwoFactorEnabled, user))?;
            Ok(codes)
        })
        .await;
    audit_refusal(db, origin, failed, outcome).await
}

/// Records a refusal's audit detail (after its transaction rolled back), then passes it on.
async fn audit_refusal<T>(
    db: &Db,
    origin: Origin,
    failed: Event,
    outcome: Result<T, AppError>,
) -> Result<T, AppError> {
    if let Err(AppError::Refused(r)) = &outcome {
        if let Some(detail) = &r.detail {
            audit::record_now(db, origin, failed.detail(detail.clone())).await?;
        }
    }
    outcome
}

/// Checks a code (authenticator or recovery) of `user` and spends it; the step of a TOTP code
/// cannot be used again, a recovery code only once.
fn spend_code(
    tx: &mut Tx<'_>,
    keys: &Keys,
    user: &User,
    code: &str,
    now: NaiveDateTime,
) -> Result<AuditKind, AppError> {
    let wrong = || Refusal::field("code", WRONG_CODE);
    let authenticator = Authenticator::of_user(tx, &user.id)?
        .filter(|a| a.is_confirmed())
        .ok_or_else(|| wrong().with_detail("no authenticator"))?;
    let secret = totp::decrypt_secret(
        keys.two_factor_key(),
        user.id.as_str(),
        &authenticator.secret_encrypted,
    )
    .ok_or_else(unreadable_secret)?;
    if let Some(step) = totp::matching_step(&secret, code, now_step(now)) {
        if Authenticator::use_step(tx, &user.id, step)? == 1 {
            return Ok(AuditKind::TwoFactorSucceeded);
        }
        return Err(wrong().with_detail("code already used (replay)").into());
    }
    let normalized = totp::normalize_recovery_code(code);
    if normalized.len() == 10 {
        let hash = keys.opaque_hash(RECOVERY_PURPOSE, &normalized);
        if RecoveryCodes::spend(tx, &user.id, &hash, now)? == 1 {
            return Ok(AuditKind::TwoFactorRecoveryCodeUsed);
        }
    }
    Err(wrong().with_detail("wrong code").into())
}

/// The second step of a password sign-in: a current code or an unused recovery code.
pub async fn verify_sign_in(
    db: &Db,
    keys: Arc<Keys>,
    user: User,
    code: String,
    origin: Origin,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let failed = event(AuditKind::TwoFactorFailed, &user).detail("sign-in");
    let audit_origin = origin.clone();
    let outcome = db
        .transaction(move |tx| {
            let kind = spend_code(tx, &keys, &user, &code, now)?;
            User::record_sign_in(tx, &user.id)?;
            audit::record(tx, &origin, event(kind, &user).detail("sign-in"))?;
            audit::record(
                tx,
                &origin,
                event(AuditKind::SignInSucceeded, &user).detail("password and two-factor"),
            )?;
            Ok(())
        })
        .await;
    match &outcome {
        Err(AppError::Refused(r)) => {
            let detail = format!("sign-in: {}", r.detail.as_deref().unwrap_or("refused"));
            audit::record_now(db, audit_origin, failed.detail(detail)).await?;
            outcome
        }
        _ => outcome,
    }
}

/// Turns two-factor off (the caller has checked the password): needs a valid code, and is
/// refused while the company requires two-factor.
pub async fn disable(db: &Db, keys: Arc<Keys>, by: Acting, code: String) -> Result<(), AppError> {
    let (origin, failed) = (
        by.origin.clone(),
        event(AuditKind::TwoFactorFailed, &by.user),
    );
    let outcome = db
        .transaction(move |tx| {
            let user = current_actor(tx, &by.user)?;
            if company_requires(tx, &user)? {
                return Err(Refusal::forbidden(
                    "Your company requires two-factor sign-in, so it cannot be turned off.",
                )
                .into());
            }
            spend_code(tx, &keys, &user, &code, by.now).map_err(|e| match e {
                AppError::Refused(r) => {
                    let detail = format!("disable: {}", r.detail.as_deref().unwrap_or("refused"));
                    AppError::Refused(r.with_detail(detail))
                }
                other => other,
            })?;
            Authenticator::remove(tx, &user.id)?;
            audit::record(tx, &by.origin, event(AuditKind::TwoFactorDisabled, &user))?;
            Ok(())
        })
        .await;
    audit_refusal(db, origin, failed, outcome).await
}

fn company_requires(conn: &mut DbConnection, user: &User) -> QueryResult<bool> {
    companies::table
        .find(&user.company_id)
        .select(companies::require_two_factor)
        .first(conn)
}

/// True when a password sign-in of `user` must be followed by a code.
pub async fn is_enrolled(db: &Db, user: &User) -> Result<bool, AppError> {
    let id = user.id.clone();
    db.run(move |conn| Authenticator::is_enrolled(conn, &id))
        .await
}

/// Owners and admins: "Require two-factor for password sign-in".
pub async fn set_company_requirement(db: &Db, by: Acting, required: bool) -> Result<(), AppError> {
    db.transaction(move |tx| {
        let admin = current_actor(tx, &by.user)?;
        authorize(Actor::Member(&admin), Action::ViewAdminArea).map_err(denied)?;
        if company_requires(tx, &admin)? == required {
            return Ok(());
        }
        diesel::update(companies::table.find(&admin.company_id))
            .set(companies::require_two_factor.eq(required))
            .execute(&mut **tx)?;
        audit::record(
            tx,
            &by.origin,
            event(AuditKind::SettingsChanged, &admin)
                .detail(format!("require_two_factor → {required}")),
        )?;
        Ok(())
    })
    .await
}
