//! Invitations: sending a single-use link, sending it again, revoking it, opening and
//! accepting it, and withdrawing one whose mail could not be sent. Every function runs inside
//! the caller's transaction and asks `authz` before it acts.

use chrono::Duration;

use crate::auth::keys::Keys;
use crate::auth::tokens;
use crate::authz::{authorize, Action, Actor};
use crate::db::models::{now, Company, Invitation, InvitationState, User};
use crate::db::DbConnection;
use crate::domain::{Email, FieldError, InvitationId, Label, Role};
use crate::error::AppError;
use crate::services::audit::{self, AuditKind, Event, Origin};
use crate::services::joining::{self, NewAccount};
use crate::services::team::{denied, event};

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

pub fn invite(
    conn: &mut DbConnection,
    keys: &Keys,
    admin: &User,
    email: Email,
    role: Role,
    ttl_days: i64,
    origin: &Origin,
) -> Result<Result<IssuedInvitation, FieldError>, AppError> {
    authorize(Actor::Member(admin), Action::Invite { role }).map_err(denied)?;
    if User::find_by_email(conn, &email)?.is_some() {
        return Ok(Err(FieldError::new(
            "email",
            "Someone with this email already has an account.",
        )));
    }
    let at = now();
    let already = Invitation::pending_in_company(conn, &admin.company_id, at)?
        .into_iter()
        .any(|(i, _)| i.email == email.as_str());
    if already {
        return Ok(Err(FieldError::new(
            "email",
            "This email has a pending invitation. Resend it from the list below.",
        )));
    }
    let token = tokens::random_base62(32);
    let invitation = Invitation {
        id: InvitationId::new(),
        company_id: admin.company_id.clone(),
        email: email.as_str().to_owned(),
        role,
        token_hash: invitation_hash(keys, &token),
        invited_by: admin.id.clone(),
        created_at: at,
        expires_at: at + Duration::days(ttl_days),
        accepted_at: None,
        revoked_at: None,
    };
    invitation.insert(conn)?;
    audit::record(
        conn,
        origin,
        event(AuditKind::InvitationSent, admin)
            .target(format!("{} as {}", invitation.email, invitation.role)),
    )?;
    Ok(Ok(IssuedInvitation { invitation, token }))
}

/// A fresh link for a pending invitation; the previous link stops working. `replaces` is the
/// expiry of the link the admin saw (every resend moves it on): if the link changed since,
/// the invitation was sent again meanwhile and this is a conflict, not another mail.
pub fn resend(
    conn: &mut DbConnection,
    keys: &Keys,
    admin: &User,
    id: &InvitationId,
    replaces: Option<chrono::NaiveDateTime>,
    ttl_days: i64,
    origin: &Origin,
) -> Result<IssuedInvitation, AppError> {
    let mut invitation =
        Invitation::find_in_company(conn, &admin.company_id, id)?.ok_or(AppError::NotFound)?;
    let role = invitation.role;
    authorize(Actor::Member(admin), Action::Invite { role }).map_err(denied)?;
    if matches!(
        invitation.state(now()),
        InvitationState::Accepted | InvitationState::Revoked
    ) {
        return Err(AppError::Conflict(
            "This invitation was already used or revoked.".into(),
        ));
    }
    if replaces.is_some_and(|seen| seen != invitation.expires_at) {
        return Err(AppError::Conflict(RESENT_MEANWHILE.into()));
    }
    let token = tokens::random_base62(32);
    let hash = invitation_hash(keys, &token);
    let expires_at = now() + Duration::days(ttl_days);
    // Only the link read above is replaced: of several resends at once, one issues the new
    // link; the others find it already replaced.
    if !Invitation::renew(conn, id, &invitation.token_hash, &hash, expires_at)? {
        return Err(AppError::Conflict(RESENT_MEANWHILE.into()));
    }
    invitation.token_hash = hash;
    invitation.expires_at = expires_at;
    audit::record(
        conn,
        origin,
        event(AuditKind::InvitationResent, admin).target(invitation.email.clone()),
    )?;
    Ok(IssuedInvitation { invitation, token })
}

pub fn revoke_invitation(
    conn: &mut DbConnection,
    admin: &User,
    id: &InvitationId,
    origin: &Origin,
) -> Result<Invitation, AppError> {
    let invitation =
        Invitation::find_in_company(conn, &admin.company_id, id)?.ok_or(AppError::NotFound)?;
    let role = invitation.role;
    authorize(Actor::Member(admin), Action::Invite { role }).map_err(denied)?;
    if Invitation::revoke(conn, id, now())? == 0 {
        return Err(AppError::Conflict(
            "This invitation was already used or revoked.".into(),
        ));
    }
    audit::record(
        conn,
        origin,
        event(AuditKind::InvitationRevoked, admin).target(invitation.email.clone()),
    )?;
    Ok(invitation)
}

/// Why an invitation link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    Unknown,
    Used,
    Revoked,
    Expired,
    EmailTaken,
    SsoRequired,
}

impl LinkProblem {
    pub fn message(self) -> &'static str {
        match self {
            Self::Unknown => "This invitation link is not valid. Check that you copied all of it, or ask for a new invitation.",
            Self::Used => "This invitation has already been used. Sign in instead, or ask an admin for a new invitation.",
            Self::Revoked => "This invitation was withdrawn. Ask an admin of the company for a new one.",
            Self::Expired => "This invitation has expired. Ask an admin of the company to send it again.",
            Self::EmailTaken => "An account with this email already exists. Sign in instead.",
            Self::SsoRequired => crate::services::joining::SSO_REQUIRED_MESSAGE,
        }
    }
}

/// The pending invitation behind a link, with its company.
pub fn open_link(
    conn: &mut DbConnection,
    keys: &Keys,
    token: &str,
) -> Result<Result<(Invitation, Company), LinkProblem>, AppError> {
    let Some(invitation) = Invitation::find_by_hash(conn, &invitation_hash(keys, token))? else {
        return Ok(Err(LinkProblem::Unknown));
    };
    let problem = match invitation.state(now()) {
        InvitationState::Pending => None,
        InvitationState::Accepted => Some(LinkProblem::Used),
        InvitationState::Revoked => Some(LinkProblem::Revoked),
        InvitationState::Expired => Some(LinkProblem::Expired),
    };
    if let Some(p) = problem {
        return Ok(Err(p));
    }
    let company = Company::find(conn, &invitation.company_id)?;
    Ok(Ok((invitation, company)))
}

/// Accepts an invitation: the invited email joins the inviting company with the invited role.
pub fn accept(
    conn: &mut DbConnection,
    keys: &Keys,
    token: &str,
    name: Label,
    password_hash: Option<String>,
    origin: &Origin,
) -> Result<Result<User, LinkProblem>, AppError> {
    let (invitation, company) = match open_link(conn, keys, token)? {
        Ok(found) => found,
        Err(p) => return Ok(Err(p)),
    };
    let email =
        Email::parse("email", &invitation.email).map_err(|e| AppError::BadRequest(e.message))?;
    if User::find_by_email(conn, &email)?.is_some() {
        return Ok(Err(LinkProblem::EmailTaken));
    }
    if crate::services::joining::joins_only_through_sso(&company) {
        return Ok(Err(LinkProblem::SsoRequired));
    }
    // Single use even under a race: only one request can flip it from pending.
    if !Invitation::mark_accepted(conn, &invitation.id, now())? {
        return Ok(Err(LinkProblem::Used));
    }
    let role = invitation.role;
    let user = joining::add_member(
        conn,
        &company.id,
        NewAccount {
            name,
            email,
            password_hash,
        },
        role,
    )?;
    audit::record(
        conn,
        origin,
        Event::new(AuditKind::InvitationAccepted)
            .company(&company.id)
            .actor(&user.id)
            .target(format!("{} as {}", user.email, role)),
    )?;
    Ok(Ok(user))
}

/// Takes back an invitation whose mail could not be sent: nobody holds its link, so it is
/// removed and does not block inviting the address again. The audit log, which is never
/// rewritten, says why the invitation it recorded as sent is gone.
pub fn withdraw_unsent(
    conn: &mut DbConnection,
    admin: &User,
    invitation: &Invitation,
    origin: &Origin,
) -> Result<(), AppError> {
    if Invitation::delete_unused(conn, &invitation.id)? {
        audit::record(
            conn,
            origin,
            event(AuditKind::InvitationRevoked, admin)
                .target(invitation.email.clone())
                .detail("the invitation mail could not be sent"),
        )?;
    }
    Ok(())
}
