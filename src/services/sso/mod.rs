//! Turning a verified external identity into a signed-in user: linked identities first, then
//! the joining rule for newcomers. An existing account is never linked silently by email
//! (except by a company's own SAML IdP, within that company). `oidc` and `saml` are the two
//! protocols; what they share is here.

mod oidc;
mod saml;

pub use oidc::{link_oidc, sign_in_with_oidc};
pub use saml::{saml_issuer, sign_in_with_saml, SamlAnswer, SAML_NOT_ACCEPTED};

use crate::db::models::{now, Company, Identity, User};
use crate::db::{Db, DbConnection, Tx};
use crate::domain::{Email, IdentityId, Label, Role, UserId};
use crate::error::{AppError, Refusal};
use crate::services::audit::{self, AuditKind, Event, Origin};
use crate::services::Acting;

/// A refusal the person sees (and the audit log records).
fn refusal(text: impl Into<String>) -> Refusal {
    Refusal::forbidden(text)
}

/// Runs `f` in one transaction that is committed even when `f` refuses, so the audit record of
/// a refused sign-in stays; the refusal then reaches the caller as `AppError::Refused`. Only
/// for steps that write nothing but audit records before they refuse.
async fn write_keeping_refusal<T, F>(db: &Db, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut Tx<'_>) -> Result<Result<T, Refusal>, AppError> + Send + 'static,
    T: Send + 'static,
{
    db.transaction(f).await?.map_err(AppError::Refused)
}

/// Password and OAuth sign-in under "Enforce SSO" (see `check_sso_enforcement`): true when
/// this is the owner's break-glass sign-in.
pub async fn enforcement(
    db: &Db,
    user: User,
    origin: Origin,
    method: &'static str,
) -> Result<bool, AppError> {
    write_keeping_refusal(db, move |conn| {
        check_sso_enforcement(conn, &user, &origin, method)
    })
    .await
}

/// Unlinks one of the acting user's identities, unless it is their last way to sign in.
pub async fn unlink_identity(db: &Db, by: Acting, id: IdentityId) -> Result<Identity, AppError> {
    write_keeping_refusal(db, move |conn| unlink(conn, &by.user, &id, &by.origin)).await
}

pub const SSO_ENFORCED_MESSAGE: &str =
    "Your company requires single sign-on. Use “Sign in with SSO” with your work email.";

/// Password and OAuth sign-in for a company that enforces SSO: refused for everyone but the
/// owner, whose sign-in is the audited break-glass path. Ok(true) means "allowed, break glass".
pub fn check_sso_enforcement(
    conn: &mut DbConnection,
    user: &User,
    origin: &Origin,
    method: &str,
) -> Result<Result<bool, Refusal>, AppError> {
    let company = Company::find(conn, &user.company_id)?;
    if !company.sso_enforced {
        return Ok(Ok(false));
    }
    if user.role() == Role::Owner {
        audit::record(
            conn,
            origin,
            Event::new(AuditKind::SignInBreakGlass)
                .company(&company.id)
                .actor(&user.id)
                .detail(format!("owner signed in by {method} while SSO is enforced")),
        )?;
        return Ok(Ok(true));
    }
    audit::record(
        conn,
        origin,
        Event::new(AuditKind::SignInFailed)
            .company(&company.id)
            .target(user.id.to_string())
            .detail(format!("{method} refused: SSO enforced")),
    )?;
    Ok(Err(refusal(SSO_ENFORCED_MESSAGE)))
}

fn display_name(name: Option<&str>, email: &Email) -> Result<Label, AppError> {
    let fallback = email
        .as_str()
        .split('@')
        .next()
        .unwrap_or("New member")
        .to_owned();
    let raw = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(&fallback);
    Label::parse("name", "name", raw, 100)
        .or_else(|_| Label::parse("name", "name", &fallback, 100))
        .map_err(|e| AppError::BadRequest(e.message))
}

fn link(
    conn: &mut DbConnection,
    user: &UserId,
    provider: &str,
    issuer: &str,
    subject: &str,
    email: &str,
) -> Result<(), AppError> {
    Identity {
        id: IdentityId::new(),
        user_id: user.clone(),
        provider: provider.to_owned(),
        issuer: issuer.to_owned(),
        subject: subject.to_owned(),
        email: email.to_owned(),
        created_at: now(),
        last_used_at: Some(now()),
    }
    .insert(conn)?;
    Ok(())
}

fn signed_in(
    conn: &mut DbConnection,
    user: &User,
    origin: &Origin,
    method: &str,
) -> Result<(), AppError> {
    User::record_sign_in(conn, &user.id)?;
    audit::record(
        conn,
        origin,
        Event::new(AuditKind::SignInSucceeded)
            .company(&user.company_id)
            .actor(&user.id)
            .detail(format!("via {method}")),
    )?;
    Ok(())
}

/// Unlinks one of the user's identities, unless it is their last way to sign in.
fn unlink(
    conn: &mut DbConnection,
    user: &User,
    id: &IdentityId,
    origin: &Origin,
) -> Result<Result<Identity, Refusal>, AppError> {
    // Unlinks for one user take turns (their row is held until the end of the transaction):
    // two at once cannot both find "another way to sign in" in each other's identity and
    // leave the user with none.
    if !User::hold_active(conn, &user.id)? {
        return Err(AppError::Forbidden);
    }
    let identities = Identity::of_user(conn, &user.id)?;
    let Some(target) = identities.iter().find(|i| i.id == *id).cloned() else {
        return Err(AppError::NotFound);
    };
    if user.password_hash.is_none() && identities.len() == 1 {
        return Ok(Err(refusal(
            "This is your only way to sign in. Link another provider first.",
        )));
    }
    if Identity::delete(conn, &user.id, id)? == 0 {
        return Err(Refusal::conflict("This sign-in provider was already unlinked.").into());
    }
    audit::record(
        conn,
        origin,
        Event::new(AuditKind::IdentityUnlinked)
            .company(&user.company_id)
            .actor(&user.id)
            .detail(format!("{} ({})", target.provider, target.issuer)),
    )?;
    Ok(Ok(target))
}

/// An identity provider that vouches for the account's own address proves it (OIDC
/// `email_verified`, or the company's own SAML IdP); the joining rule is not run again here.
fn vouch_for_email(
    conn: &mut DbConnection,
    user: &User,
    email: Option<&str>,
) -> Result<(), AppError> {
    if user.email_verified_at.is_none() && email == Some(user.email.as_str()) {
        User::mark_email_verified(conn, &user.id, &user.email, crate::db::models::now())?;
    }
    Ok(())
}
