//! Invitations: sending a single-use link, sending it again, revoking it, opening and
//! accepting it, and withdrawing one whose mail could not be sent. Each operation opens its
//! own transaction and asks `authz` before it acts.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};

use crate::auth::keys::Keys;
use crate::auth::tokens;
use crate::authz::{authorize, Action, Actor};
use crate::db::models::{Company, Invitation, InvitationState, User};
use crate::db::{Db, DbConnection};
use crate::domain::{Email, InvitationId, Label, Role};
use crate::error::{AppError, Refusal, RefusalKind};
use crate::services::audit::{self, AuditKind, Event, Origin, Subject};
use crate::services::joining::{self, NewAccount};
use crate::services::team::{current_actor, denied, event};
use crate::services::Acting;

const INVITATION_PURPOSE: &str = "invitation";

const RESENT_MEANWHILE: &str =
    "This invitation was just sent again, used or revoked. Reload the page to see its state.";

pub fn invitation_hash(keys: &Keys, token: &str) -> String {
    keys.opaque_hash(INVITATION_PURPOSE, token)
}

/// An invitation and its link secret, which exists in clear only in this value.
pub struct IssuedInvitation {
    pub invitation: Invitation,
    pub token: String,
}

/// Invites `email` to the actor's company as `role`, valid for `ttl_days`.
pub async fn invite(
    db: &Db,
    keys: Arc<Keys>,
    by: Acting,
    email: Email,
    role: Role,
    ttl_days: i64,
) -> Result<IssuedInvitation, AppError> {
    db.transaction(move |conn| {
        let admin = &current_actor(conn, &by.user)?;
        authorize(Actor::Member(admin), Action::Invite { role }).map_err(denied)?;
        // Only a member of this company is refused: an account elsewhere gets the same answer
        // as an unknown address (no oracle); its owner learns on acceptance what to do.
        let existing = User::find_by_email(conn, &email)?;
        if existing.is_some_and(|u| u.company_id == admin.company_id) {
            return Err(Refusal::field(
                "email",
                "This person is already a member of your company.",
            )
            .into());
        }
        let at = by.now;
        let already = Invitation::pending_in_company(conn, &admin.company_id, at)?
            .into_iter()
            .any(|(i, _)| i.email == email.as_str());
        if already {
            return Err(Refusal::field(
                "email",
                "This email has a pending invitation. Resend it from the list below.",
            )
            .into());
        }
        let token = tokens::random_base62(32);
        let invitation = Invitation {
            id: InvitationId::new(),
            company_id: admin.company_id.clone(),
            email: email.as_str().to_owned(),
            role,
            token_hash: invitation_hash(&keys, &token),
            invited_by: admin.id.clone(),
            created_at: at,
            expires_at: at + Duration::days(ttl_days),
            accepted_at: None,
            revoked_at: None,
        };
        invitation.insert(conn)?;
        audit::record(
            conn,
            &by.origin,
            event(AuditKind::InvitationSent, admin)
                .target(format!("{} as {}", invitation.email, invitation.role)),
        )?;
        Ok(IssuedInvitation { invitation, token })
    })
    .await
}

/// A fresh link for a pending invitation; the previous link stops working. `replaces` is the
/// expiry of the link the admin saw (every resend moves it on): if the link changed since,
/// the invitation was sent again meanwhile and this is a conflict, not another mail.
pub async fn resend(
    db: &Db,
    keys: Arc<Keys>,
    by: Acting,
    id: InvitationId,
    replaces: Option<NaiveDateTime>,
    ttl_days: i64,
) -> Result<IssuedInvitation, AppError> {
    db.transaction(move |conn| {
        let admin = &current_actor(conn, &by.user)?;
        let mut invitation =
            Invitation::find_in_company(conn, &admin.company_id, &id)?.ok_or(AppError::NotFound)?;
        let role = invitation.role;
        authorize(Actor::Member(admin), Action::Invite { role }).map_err(denied)?;
        if matches!(
            invitation.state(by.now),
            InvitationState::Accepted | InvitationState::Revoked
        ) {
            return Err(Refusal::conflict("This invitation was already used or revoked.").into());
        }
        if replaces.is_some_and(|seen| seen != invitation.expires_at) {
            return Err(Refusal::conflict(RESENT_MEANWHILE).into());
        }
        let token = tokens::random_base62(32);
        let hash = invitation_hash(&keys, &token);
        let expires_at = by.now + Duration::days(ttl_days);
        // Only the link read above is replaced: of several resends at once, one issues the new
        // link; the others find it already replaced.
        if !Invitation::renew(conn, &id, &invitation.token_hash, &hash, expires_at)? {
            return Err(Refusal::conflict(RESENT_MEANWHILE).into());
        }
        invitation.token_hash = hash;
        invitation.expires_at = expires_at;
        audit::record(
            conn,
            &by.origin,
            event(AuditKind::InvitationResent, admin).target(invitation.email.clone()),
        )?;
        Ok(IssuedInvitation { invitation, token })
    })
    .await
}

pub async fn revoke_invitation(
    db: &Db,
    by: Acting,
    id: InvitationId,
) -> Result<Invitation, AppError> {
    db.transaction(move |conn| {
        let admin = &current_actor(conn, &by.user)?;
        let invitation =
            Invitation::find_in_company(conn, &admin.company_id, &id)?.ok_or(AppError::NotFound)?;
        let role = invitation.role;
        authorize(Actor::Member(admin), Action::Invite { role }).map_err(denied)?;
        if Invitation::revoke(conn, &id, by.now)? == 0 {
            return Err(Refusal::conflict("This invitation was already used or revoked.").into());
        }
        audit::record(
            conn,
            &by.origin,
            event(AuditKind::InvitationRevoked, admin).target(invitation.email.clone()),
        )?;
        Ok(invitation)
    })
    .await
}

const LINK_UNKNOWN: &str = "This invitation link is not valid. Check that you copied all of it, or ask for a new invitation.";
const LINK_USED: &str =
    "This invitation has already been used. Sign in instead, or ask an admin for a new invitation.";
const LINK_REVOKED: &str =
    "This invitation was withdrawn. Ask an admin of the company for a new one.";
const LINK_EXPIRED: &str =
    "This invitation has expired. Ask an admin of the company to send it again.";
const LINK_EMAIL_TAKEN: &str = "An account with this email already exists, and an address can belong to one workspace only. Sign in and leave your other workspace first (or ask its admin to remove you), then open this link again.";

/// The pending invitation behind a link, with its company; a link that cannot be used is
/// refused with the reason.
pub async fn open(
    db: &Db,
    keys: Arc<Keys>,
    token: String,
    now: NaiveDateTime,
) -> Result<(Invitation, Company), AppError> {
    db.run(move |conn| {
        let (invitation, company) = open_link(conn, &keys, &token, now)?;
        // Said before the form is filled in: this address must leave its workspace first.
        let email = Email::parse("email", &invitation.email)?;
        if User::find_by_email(conn, &email)?.is_some() {
            return Err(AppError::from(Refusal::conflict(LINK_EMAIL_TAKEN)));
        }
        Ok((invitation, company))
    })
    .await
}

fn open_link(
    conn: &mut DbConnection,
    keys: &Keys,
    token: &str,
    now: NaiveDateTime,
) -> Result<(Invitation, Company), AppError> {
    let Some(invitation) = Invitation::find_by_hash(conn, &invitation_hash(keys, token))? else {
        return Err(Refusal::new(RefusalKind::Unknown, LINK_UNKNOWN).into());
    };
    let problem = match invitation.state(now) {
        InvitationState::Pending => None,
        InvitationState::Accepted => Some(LINK_USED),
        InvitationState::Revoked => Some(LINK_REVOKED),
        InvitationState::Expired => Some(LINK_EXPIRED),
    };
    if let Some(message) = problem {
        return Err(Refusal::new(RefusalKind::Gone, message).into());
    }
    let company = Company::find(conn, &invitation.company_id)?;
    Ok((invitation, company))
}

/// A newcomer's account from an invitation link: name and (unless they join through a
/// provider) password.
pub struct Acceptance {
    pub token: String,
    pub name: Label,
    pub password_hash: Option<String>,
}

/// Accepts an invitation: the invited email joins the inviting company with the invited role.
pub async fn accept(
    db: &Db,
    keys: Arc<Keys>,
    acceptance: Acceptance,
    origin: Origin,
    now: NaiveDateTime,
) -> Result<User, AppError> {
    db.transaction(move |conn| {
        let (invitation, company) = open_link(conn, &keys, &acceptance.token, now)?;
        let email = Email::parse("email", &invitation.email)?;
        if User::find_by_email(conn, &email)?.is_some() {
            return Err(Refusal::conflict(LINK_EMAIL_TAKEN).into());
        }
        if crate::services::joining::joins_only_through_sso(&company) {
            return Err(Refusal::new(
                RefusalKind::Forbidden,
                crate::services::joining::SSO_REQUIRED_MESSAGE,
            )
            .into());
        }
        let account = NewAccount {
            name: acceptance.name,
            email,
            password_hash: acceptance.password_hash,
            // The link was mailed to this very address.
            email_verified_at: Some(now),
        };
        let Some(user) = join(conn, &invitation, account, now)? else {
            return Err(Refusal::new(RefusalKind::Gone, LINK_USED).into());
        };
        let role = invitation.role;
        audit::record(
            conn,
            &origin,
            Event::new(AuditKind::InvitationAccepted)
                .company(&company.id)
                .actor(&user.id)
                .subject(Subject::Person(user.id.clone()))
                .target(format!("{} as {}", user.email, role)),
        )?;
        Ok(user)
    })
    .await
}

/// The newcomer joins the inviting company with the invited role, by every path that accepts
/// an invitation (the link's form, a provider, the company's IdP). Single use even under a
/// race: only one request flips it from pending; `None` for the others.
pub(crate) fn join(
    conn: &mut DbConnection,
    invitation: &Invitation,
    account: NewAccount,
    now: NaiveDateTime,
) -> Result<Option<User>, AppError> {
    if !Invitation::mark_accepted(conn, &invitation.id, now)? {
        return Ok(None);
    }
    let user = joining::add_member(conn, &invitation.company_id, account, invitation.role)?;
    Ok(Some(user))
}

/// Takes back an invitation whose mail could not be sent: nobody holds its link, so it is
/// removed and does not block inviting the address again. The audit log, which is never
/// rewritten, says why the invitation it recorded as sent is gone.
pub async fn withdraw_unsent(db: &Db, by: Acting, invitation: Invitation) -> Result<(), AppError> {
    db.transaction(move |conn| {
        if Invitation::delete_unused(conn, &invitation.id)? {
            audit::record(
                conn,
                &by.origin,
                event(AuditKind::InvitationRevoked, &by.user)
                    .target(invitation.email.clone())
                    .detail("the invitation mail could not be sent"),
            )?;
        }
        Ok(())
    })
    .await
}
