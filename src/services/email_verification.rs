//! Proving an email address: a single-use link mailed to it (stored as an HMAC, like
//! invitations), for a new account's address and for a change of address. The joining rule
//! runs when an address is proven, not when it is typed.
//!
//! On verification, if a company holds the address's domain verified, lets people join by
//! domain and does not join only through SSO, the person is moved into it as a member, but
//! only when they are still alone in the workspace they got at sign-up (nobody else's work
//! is uprooted). Their personal access tokens, issued in that workspace, are revoked; the empty
//! workspace stays with its audit trail. Otherwise they stay where they are and are told why.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};

use crate::auth::keys::Keys;
use crate::auth::tokens;
use crate::db::models::{Company, EmailVerification, PersonalAccessToken, User};
use crate::db::{Db, Tx};
use crate::domain::{Email, Role};
use crate::error::{AppError, Refusal, RefusalKind};
use crate::services::audit::{self, AuditKind, Event, Origin, Subject};
use crate::services::joining::{self, Joining};
use crate::services::mail::{Mail, Mailer};

const PURPOSE: &str = "email-verification";

pub const LINK_DEAD: &str =
    "This link has already been used, has expired or was replaced by a newer one. Sign in and ask for a new one.";
pub const RESEND_TOO_SOON: &str =
    "A verification mail was sent a moment ago. Wait a minute before asking for another one.";

/// What to send and where: the mail is sent after the transaction that stored the link.
pub struct IssuedLink {
    pub to: String,
    pub token: String,
}

fn link_hash(keys: &Keys, token: &str) -> String {
    keys.opaque_hash(PURPOSE, token)
}

/// Lifetimes and the resend limit, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub ttl: Duration,
    pub resend_after: Duration,
}

/// Stores a new link for `email` (the account's, or the one it moves to); older open links of
/// the person stop working. Refused when the last one, still open, went out less than
/// `resend_after` ago (a mail bomb through "send again" stays slow).
fn issue(
    conn: &mut Tx<'_>,
    keys: &Keys,
    user: &User,
    email: &Email,
    now: NaiveDateTime,
    policy: Policy,
) -> Result<IssuedLink, AppError> {
    if let Some(last) = EmailVerification::latest_for(conn, &user.id)? {
        // Only a link still waiting to be followed holds back the next one.
        if last.used_at.is_none() && last.created_at + policy.resend_after > now {
            return Err(Refusal::field("email", RESEND_TOO_SOON)
                .with_kind(RefusalKind::Conflict)
                .into());
        }
    }
    EmailVerification::retire_open(conn, &user.id, now)?;
    let token = tokens::random_base62(32);
    EmailVerification {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user.id.clone(),
        email: email.as_str().to_owned(),
        token_hash: link_hash(keys, &token),
        created_at: now,
        expires_at: now + policy.ttl,
        used_at: None,
    }
    .insert(conn)?;
    Ok(IssuedLink {
        to: email.as_str().to_owned(),
        token,
    })
}

/// A link to confirm the person's current address (after sign-up, or "resend").
pub async fn request_confirmation(
    db: &Db,
    keys: Arc<Keys>,
    user: User,
    now: NaiveDateTime,
    policy: Policy,
) -> Result<Option<IssuedLink>, AppError> {
    db.transaction(move |tx| {
        let Some(user) = User::find(tx, &user.id)?.filter(User::is_active) else {
            return Err(AppError::LoginRequired);
        };
        if user.email_verified_at.is_some() {
            return Ok(None);
        }
        let email = Email::parse("email", &user.email)?;
        issue(tx, &keys, &user, &email, now, policy).map(Some)
    })
    .await
}

/// A link to the new address; the account keeps its old one until the link is followed.
pub async fn request_change(
    db: &Db,
    keys: Arc<Keys>,
    user: User,
    new_email: Email,
    now: NaiveDateTime,
    policy: Policy,
) -> Result<IssuedLink, AppError> {
    db.transaction(move |tx| {
        if new_email.as_str() == user.email {
            return Err(Refusal::field("email", "This is already your address.").into());
        }
        if User::find_by_email(tx, &new_email)?.is_some() {
            return Err(
                Refusal::field("email", "This address belongs to another account.")
                    .with_kind(RefusalKind::Conflict)
                    .into(),
            );
        }
        issue(tx, &keys, &user, &new_email, now, policy)
    })
    .await
}

/// What following a link did.
#[derive(Debug)]
pub struct Verified {
    pub user: User,
    /// Set when the link changed the address: the old one gets a notice.
    pub previous_email: Option<String>,
    pub outcome: JoinOutcome,
}

/// The joining rule, run on the proven address.
#[derive(Debug, PartialEq, Eq)]
pub enum JoinOutcome {
    /// Nobody holds the domain verified (or the person is in that company already).
    Stays,
    /// Moved from their sign-up workspace into the company that holds the domain.
    Joined(String),
    /// A company holds the domain but asks for an invitation (or joins only through SSO), or
    /// the person has colleagues in their own workspace: they stay and are told.
    Offered(String),
}

/// Follows a link: proves the address, changes it if the link was for a new one, and runs the
/// joining rule. Single use, even under a race.
/// The address a live link would confirm, without using it up: the page a link opens asks
/// for a click first, so a mail scanner that fetches links cannot spend it.
pub async fn open(
    db: &Db,
    keys: Arc<Keys>,
    token: String,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let hash = link_hash(&keys, &token);
    db.run(move |conn| {
        let link = EmailVerification::find_by_hash(conn, &hash)?
            .filter(|l| l.used_at.is_none() && l.expires_at > now)
            .ok_or_else(|| Refusal::new(RefusalKind::Gone, LINK_DEAD))?;
        User::find(conn, &link.user_id)?
            .filter(User::is_active)
            .ok_or_else(|| Refusal::new(RefusalKind::Gone, LINK_DEAD))?;
        Ok::<_, AppError>(link.email)
    })
    .await
}

pub async fn verify(
    db: &Db,
    keys: Arc<Keys>,
    token: String,
    origin: Origin,
    now: NaiveDateTime,
) -> Result<Verified, AppError> {
    let hash = link_hash(&keys, &token);
    db.transaction(move |tx| {
        let link = EmailVerification::find_by_hash(tx, &hash)?
            .filter(|l| l.used_at.is_none() && l.expires_at > now)
            .ok_or_else(|| Refusal::new(RefusalKind::Gone, LINK_DEAD))?;
        let user = User::find(tx, &link.user_id)?
            .filter(User::is_active)
            .ok_or_else(|| Refusal::new(RefusalKind::Gone, LINK_DEAD))?;
        if !EmailVerification::mark_used(tx, &link.id, now)? {
            return Err(Refusal::new(RefusalKind::Gone, LINK_DEAD).into());
        }
        let email = Email::parse("email", &link.email)?;
        let previous_email = if link.email == user.email {
            User::mark_email_verified(tx, &user.id, &link.email, now)?;
            audit::record(
                tx,
                &origin,
                Event::new(AuditKind::EmailVerified)
                    .company(&user.company_id)
                    .actor(&user.id)
                    .target(link.email.clone()),
            )?;
            None
        } else {
            if User::find_by_email(tx, &email)?.is_some() {
                return Err(Refusal::conflict(
                    "This address belongs to another account meanwhile.",
                )
                .into());
            }
            User::change_email(tx, &user.id, &email, now)?;
            audit::record(
                tx,
                &origin,
                Event::new(AuditKind::EmailChanged)
                    .company(&user.company_id)
                    .actor(&user.id)
                    .target(format!("{} → {}", user.email, link.email)),
            )?;
            Some(user.email.clone())
        };
        EmailVerification::retire_open(tx, &user.id, now)?;
        let outcome = join_by_domain(tx, &user, &email, &origin, now)?;
        let user = User::find(tx, &user.id)?.ok_or(AppError::NotFound)?;
        Ok(Verified {
            user,
            previous_email,
            outcome,
        })
    })
    .await
}

fn join_by_domain(
    tx: &mut Tx<'_>,
    user: &User,
    email: &Email,
    origin: &Origin,
    now: NaiveDateTime,
) -> Result<JoinOutcome, AppError> {
    let company = match joining::decide(tx, email)? {
        Joining::NewCompany => return Ok(JoinOutcome::Stays),
        Joining::JoinCompany(c) | Joining::NeedsInvitation(c) if c.id == user.company_id => {
            return Ok(JoinOutcome::Stays)
        }
        Joining::NeedsInvitation(c) => return Ok(JoinOutcome::Offered(c.name)),
        Joining::JoinCompany(c) if joining::joins_only_through_sso(&c) => {
            return Ok(JoinOutcome::Offered(c.name))
        }
        Joining::JoinCompany(c) => c,
    };
    let alone =
        user.role() == Role::Owner && User::count_live_in_company(tx, &user.company_id)? == 1;
    if !alone {
        return Ok(JoinOutcome::Offered(company.name));
    }
    move_into(tx, user, &company, origin, now)?;
    Ok(JoinOutcome::Joined(company.name))
}

fn move_into(
    tx: &mut Tx<'_>,
    user: &User,
    company: &Company,
    origin: &Origin,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    // Tokens were issued for the old workspace; they must not start acting in this company.
    PersonalAccessToken::revoke_all_of(tx, &user.id)?;
    User::move_to_company(tx, &user.id, &company.id, Role::Member, now)?;
    for (at, detail, joined) in [
        (
            &user.company_id,
            format!("left for {} by its verified domain", company.name),
            false,
        ),
        (
            &company.id,
            "joined by its verified domain".to_owned(),
            true,
        ),
    ] {
        let mut event = Event::new(AuditKind::EmailVerified)
            .company(at)
            .actor(&user.id)
            .target(user.email.clone())
            .detail(detail);
        if joined {
            // A new employee of the company joined (a webhook follows).
            event = event.subject(Subject::Person(user.id.clone()));
        }
        audit::record(tx, origin, event)?;
    }
    Ok(())
}

/// The mail with the link; `base` is the console's public URL.
pub fn link_mail(base: &str, link: &IssuedLink, ttl: Duration) -> Mail {
    Mail {
        to: link.to.clone(),
        subject: "Confirm your email address for meetergo console".into(),
        body: format!(
            "Please confirm that this address is yours by opening this link:\n\n{base}{}\n\nThe link works once, for {} hours. If you did not ask for it, ignore this mail.\n",
            crate::paths::verify_email(&link.token),
            ttl.num_hours()
        ),
    }
}

/// The notice to the old address after a change.
pub fn change_notice(old: &str, new: &str) -> Mail {
    Mail {
        to: old.to_owned(),
        subject: "Your meetergo console email address was changed".into(),
        body: format!(
            "The email address of your meetergo console account was changed from {old} to {new}.\n\nIf you did not do this, contact your company's admin at once.\n"
        ),
    }
}

/// Sends a link, logging (not failing) when the mail cannot go out: the person can resend.
pub async fn send_link(mailer: &Mailer, base: &str, link: &IssuedLink, ttl: Duration) -> bool {
    match mailer.send(link_mail(base, link, ttl)).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "verification mail not sent");
            false
        }
    }
}
