//! Turning a verified external identity into a signed-in user: linked identities first, then
//! the joining rule for newcomers. An existing account is never linked silently by email
//! (except by a company's own SAML IdP, within that company).

use crate::auth::oidc::ExternalIdentity;
use crate::auth::saml::SamlLogin;
use crate::db::models::{now, remember_assertion, Company, Identity, Invitation, SsoRequest, User};
use crate::db::{Db, DbConnection, Tx};
use crate::domain::{Email, IdentityId, Label, Role, SsoKind, UserId};
use crate::error::{AppError, Refusal, RefusalKind};
use crate::services::audit::{self, AuditKind, Event, Origin};
use crate::services::joining::{self, Joining, NewAccount};
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

/// Unlinks one of the acting user's identities, unless it is their last way to sign in.
pub async fn unlink_identity(db: &Db, by: Acting, id: IdentityId) -> Result<Identity, AppError> {
    write_keeping_refusal(db, move |conn| unlink(conn, &by.user, &id, &by.origin)).await
}

/// What a checked SAML response may do, once: the request it answers (by this browser) and
/// the assertion id, remembered against replay.
pub struct SamlAnswer {
    pub company: Company,
    pub login: SamlLogin,
    pub browser_hash: String,
}

/// A generic message for answers refused for a protocol reason; the detail names it.
pub const SAML_NOT_ACCEPTED: &str =
    "Your identity provider's answer was not accepted. Try signing in again.";

/// Sign-in through a company's SAML IdP, consuming the request and the assertion id first.
pub async fn sign_in_with_saml(
    db: &Db,
    answer: SamlAnswer,
    origin: Origin,
) -> Result<User, AppError> {
    write_keeping_refusal(db, move |conn| {
        let SamlAnswer {
            company,
            login,
            browser_hash,
        } = answer;
        let at = now();
        if let Some(irt) = &login.in_response_to {
            if SsoRequest::take(
                conn,
                irt,
                SsoKind::Saml,
                company.id.as_str(),
                &browser_hash,
                at,
            )?
            .is_none()
            {
                return Ok(Err(Refusal::forbidden(SAML_NOT_ACCEPTED)
                    .with_detail("saml: the request was already answered")));
            }
        }
        let expires = login.expires_at.naive_utc();
        if !remember_assertion(conn, &company.id, &login.assertion_id, expires)? {
            return Ok(Err(
                Refusal::forbidden(SAML_NOT_ACCEPTED).with_detail("saml: replayed assertion")
            ));
        }
        saml_sign_in(conn, &company, &login, &origin)
    })
    .await
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

/// Sign-in (or first sign-up) with an OIDC identity. Call inside a transaction.
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
            .detail(format!("via {method}")),
    )?;
    signed_in(conn, &user, origin, &method)?;
    Ok(Ok(user))
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

/// Links an OIDC identity to the signed-in user, from their profile.
fn oidc_link(
    conn: &mut DbConnection,
    user: &User,
    ext: &ExternalIdentity,
    origin: &Origin,
) -> Result<Result<(), Refusal>, AppError> {
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

pub fn saml_issuer(company: &Company) -> String {
    format!("saml:{}", company.id)
}

/// Sign-in (or just-in-time sign-up) through a company's SAML IdP. Call inside a transaction.
fn saml_sign_in(
    conn: &mut DbConnection,
    company: &Company,
    login: &SamlLogin,
    origin: &Origin,
) -> Result<Result<User, Refusal>, AppError> {
    let issuer = saml_issuer(company);
    if let Some(identity) = Identity::find(conn, &issuer, &login.name_id)? {
        let user =
            User::find_in_company(conn, &company.id, &identity.user_id)?.filter(User::is_active);
        let Some(user) = user else {
            return Ok(Err(refusal("This account is not active.")));
        };
        Identity::touch(conn, &identity.id, now())?;
        signed_in(conn, &user, origin, "saml")?;
        return Ok(Ok(user));
    }
    let Some(email) = login
        .email
        .as_deref()
        .and_then(|e| Email::parse("email", e).ok())
    else {
        return Ok(Err(refusal(
            "The identity provider sent no usable email address.",
        )));
    };
    // Matched by email only within this company.
    if let Some(existing) = User::find_by_email(conn, &email)? {
        if existing.company_id != company.id || !existing.is_active() {
            return Ok(Err(refusal(
                "This email belongs to an account outside this company.",
            )));
        }
        link(
            conn,
            &existing.id,
            "saml",
            &issuer,
            &login.name_id,
            email.as_str(),
        )?;
        signed_in(conn, &existing, origin, "saml")?;
        return Ok(Ok(existing));
    }
    let account = NewAccount {
        name: display_name(login.name.as_deref(), &email)?,
        email: email.clone(),
        password_hash: None,
    };
    let user = if let Some(invitation) =
        Invitation::pending_for_email(conn, email.as_str(), Some(&company.id), now())?
    {
        match crate::services::invitations::join(conn, &invitation, account, now())? {
            Some(u) => u,
            None => return Ok(Err(refusal("This invitation has already been used."))),
        }
    } else {
        match joining::decide(conn, &email)? {
            Joining::JoinCompany(c) if c.id == company.id => joining::add_member(conn, &company.id, account, Role::Member)?,
            Joining::NeedsInvitation(c) if c.id == company.id => return Ok(Err(refusal(joining::NEEDS_INVITATION_MESSAGE))),
            _ => {
                return Ok(Err(refusal(format!(
                    "{email} is not a member of {} and its domain is not one of the company's. Ask an admin for an invitation.",
                    company.name
                ))))
            }
        }
    };
    link(
        conn,
        &user.id,
        "saml",
        &issuer,
        &login.name_id,
        email.as_str(),
    )?;
    audit::record(
        conn,
        origin,
        Event::new(AuditKind::SignedUp)
            .company(&company.id)
            .actor(&user.id)
            .detail("via saml (just in time)"),
    )?;
    signed_in(conn, &user, origin, "saml")?;
    Ok(Ok(user))
}
