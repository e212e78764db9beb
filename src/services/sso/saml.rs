//! Sign-in and just-in-time sign-up through a company's own SAML identity provider.

use crate::auth::saml::SamlLogin;
use crate::db::models::{now, remember_assertion, Company, Identity, Invitation, SsoRequest, User};
use crate::db::{Db, DbConnection};
use crate::domain::{Email, Role, SsoKind};
use crate::error::{AppError, Refusal};
use crate::services::audit::{self, AuditKind, Event, Origin, Source, Subject};
use crate::services::joining::{self, Joining, NewAccount};

use super::{display_name, link, refusal, signed_in, vouch_for_email, write_keeping_refusal};

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
        if vouches_for(conn, company, &user.email)? {
            vouch_for_email(conn, &user, login.email.as_deref())?;
        }
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
        if vouches_for(conn, company, email.as_str())? {
            vouch_for_email(conn, &existing, Some(email.as_str()))?;
        }
        signed_in(conn, &existing, origin, "saml")?;
        return Ok(Ok(existing));
    }
    let vouched = vouches_for(conn, company, email.as_str())?;
    let account = NewAccount {
        name: display_name(login.name.as_deref(), &email)?,
        email: email.clone(),
        password_hash: None,
        email_verified_at: vouched.then(now),
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
            .source(Source::Sso)
            .subject(Subject::Person(user.id.clone()))
            .detail("via saml (just in time)"),
    )?;
    signed_in(conn, &user, origin, "saml")?;
    Ok(Ok(user))
}

/// A company's own IdP proves only addresses at a domain the company has proven: anyone can
/// set up an IdP that asserts any address, so outside its domains its word is no proof.
fn vouches_for(conn: &mut DbConnection, company: &Company, email: &str) -> Result<bool, AppError> {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return Ok(false);
    };
    Ok(
        crate::db::models::CompanyDomain::verified_owner(conn, domain)?.as_ref()
            == Some(&company.id),
    )
}
