//! Sign-in, first sign-up and linking with an OpenID Connect identity.

use crate::auth::oidc::ExternalIdentity;
use crate::db::models::{now, Company, Identity, Invitation, User};
use crate::db::{Db, DbConnection};
use crate::domain::{Email, Label, UserId};
use crate::error::{AppError, RefusalKind};
use crate::services::audit::{self, AuditKind, Event, Origin, Source, Subject};
use crate::services::joining::{self, NewAccount};

use super::{
    check_sso_enforcement, display_name, link, refusal, signed_in, vouch_for_email,
    write_keeping_refusal, Refusal,
};

/// Sign-in (or first sign-up) with a verified OIDC identity (see `oidc_sign_in`).
pub async fn sign_in_with_oidc(
    db: &Db,
    ext: ExternalIdentity,
    invitation_hash: Option<String>,
    origin: Origin,
) -> Result<User, AppError> {
    write_keeping_refusal(db, move |conn| {
        oidc_sign_in(conn, &ext, invitation_hash.as_deref(), &origin)
    })
    .await
}

/// Links a verified OIDC identity to the signed-in (and still active) user.
pub async fn link_oidc(
    db: &Db,
    user: UserId,
    ext: ExternalIdentity,
    origin: Origin,
) -> Result<(), AppError> {
    write_keeping_refusal(db, move |conn| {
        let user = User::find(conn, &user)?
            .filter(User::is_active)
            .ok_or(AppError::LoginRequired)?;
        oidc_link(conn, &user, &ext, &origin)
    })
    .await
}

/// Sign-in (or first sign-up) with an OIDC identity. `invitation_hash` is set when the sign-in
/// was started from an invitation link: only that invitation is accepted, and only for the email
/// it was sent to. Invitations are never picked up by email alone: nobody joins a company by
/// merely signing in somewhere. Call inside a transaction.
fn oidc_sign_in(
    conn: &mut DbConnection,
    ext: &ExternalIdentity,
    invitation_hash: Option<&str>,
    origin: &Origin,
) -> Result<Result<User, Refusal>, AppError> {
    let method = format!("oidc:{}", ext.provider);
    if let Some(identity) = Identity::find(conn, &ext.issuer, &ext.subject)? {
        let user = User::find(conn, &identity.user_id)?.filter(User::is_active);
        let Some(user) = user else {
            return Ok(Err(refusal("This account is not active.")));
        };
        if let Err(r) = check_sso_enforcement(conn, &user, origin, &method)? {
            return Ok(Err(r));
        }
        Identity::touch(conn, &identity.id, now())?;
        if ext.email_verified {
            vouch_for_email(conn, &user, ext.email.as_deref())?;
        }
        signed_in(conn, &user, origin, &method)?;
        return Ok(Ok(user));
    }
    let email = match (&ext.email, ext.email_verified) {
        (Some(e), true) => Email::parse("email", e).map_err(|e| AppError::BadRequest(e.message))?,
        _ => return Ok(Err(refusal("The provider did not confirm your email address, so it cannot be used to create an account."))),
    };
    if User::find_by_email(conn, &email)?.is_some() {
        return Ok(Err(refusal(format!(
            "An account with {email} already exists. Sign in with your usual method, then link this provider from your profile."
        ))));
    }
    let account = NewAccount {
        name: display_name(ext.name.as_deref(), &email)?,
        email: email.clone(),
        password_hash: None,
        // Only an address the provider marked `email_verified` reaches this point.
        email_verified_at: Some(now()),
    };
    let invitation = match invitation_hash {
        Some(hash) => match Invitation::find_by_hash(conn, hash)? {
            Some(i) if i.email == email.as_str() => Some(i),
            Some(i) => {
                return Ok(Err(refusal(format!(
                    "This invitation is for {}, but the provider signed you in as {email}.",
                    i.email
                ))))
            }
            None => return Ok(Err(refusal("This invitation link is not valid."))),
        },
        None => None,
    };
    let user = if let Some(invitation) = invitation {
        if joining::joins_only_through_sso(&Company::find(conn, &invitation.company_id)?) {
            return Ok(Err(refusal(joining::SSO_REQUIRED_MESSAGE)));
        }
        match crate::services::invitations::join(conn, &invitation, account, now())? {
            Some(u) => u,
            None => {
                return Ok(Err(refusal(
                    "This invitation has already been used, was withdrawn or has expired.",
                )))
            }
        }
    } else {
        let workspace = Label::parse(
            "company_name",
            "company name",
            &format!("{}'s workspace", account.name.as_str()),
            100,
        )
        .or_else(|_| Label::parse("company_name", "company name", "My workspace", 100))
        .map_err(|e| AppError::BadRequest(e.message))?;
        match joining::join(conn, account, &workspace) {
            Ok(user) => user,
            Err(AppError::Refused(r)) if r.kind == RefusalKind::Forbidden => {
                return Ok(Err(refusal(r.message)))
            }
            Err(e) => return Err(e),
        }
    };
    link(
        conn,
        &user.id,
        &ext.provider,
        &ext.issuer,
        &ext.subject,
        email.as_str(),
    )?;
    audit::record(
        conn,
        origin,
        Event::new(AuditKind::SignedUp)
            .company(&user.company_id)
            .actor(&user.id)
            .source(Source::Sso)
            .subject(Subject::Person(user.id.clone()))
            .detail(format!("via {method}")),
    )?;
    signed_in(conn, &user, origin, &method)?;
    Ok(Ok(user))
}

/// Links an OIDC identity to the signed-in user, from their profile.
fn oidc_link(
    conn: &mut DbConnection,
    user: &User,
    ext: &ExternalIdentity,
    origin: &Origin,
) -> Result<Result<(), Refusal>, AppError> {
    // Someone who registered an address they do not own must not keep a way in after its real
    // owner recovers it: until the address is confirmed, only a provider that vouches for that
    // very address may be linked.
    let vouches_for_it = ext.email_verified && ext.email.as_deref() == Some(user.email.as_str());
    if user.email_verified_at.is_none() && !vouches_for_it {
        return Ok(Err(refusal(
            "Confirm your email address before you link a sign-in provider.",
        )));
    }
    if let Some(existing) = Identity::find(conn, &ext.issuer, &ext.subject)? {
        return Ok(if existing.user_id == user.id {
            Ok(())
        } else {
            Err(refusal("That account is already linked to another user."))
        });
    }
    link(
        conn,
        &user.id,
        &ext.provider,
        &ext.issuer,
        &ext.subject,
        ext.email.as_deref().unwrap_or_default(),
    )?;
    audit::record(
        conn,
        origin,
        Event::new(AuditKind::IdentityLinked)
            .company(&user.company_id)
            .actor(&user.id)
            .detail(format!("{} ({})", ext.provider, ext.issuer)),
    )?;
    Ok(Ok(()))
}
