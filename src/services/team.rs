//! Team administration: invitations, roles, ownership, company settings, ending sessions.
//! Every function runs inside the caller's transaction and asks `authz` before it acts.

use chrono::Duration;

use crate::auth::keys::Keys;
use crate::auth::tokens;
use crate::authz::{authorize, Action, Actor};
use crate::db::models::{now, Company, Invitation, InvitationState, User};
use crate::db::DbConnection;
use crate::domain::{CompanyId, Email, FieldError, InvitationId, Label, Role, UserId};
use crate::error::AppError;
use crate::services::audit::{self, AuditKind, Event, Origin};
use crate::services::joining::{self, NewAccount};

const INVITATION_PURPOSE: &str = "invitation";

const RESENT_MEANWHILE: &str =
    "This invitation was just sent again, used or revoked. Reload the page to see its state.";

fn denied(e: crate::authz::Denied) -> AppError {
    tracing::info!(reason = e.0, "refused by authorization");
    AppError::Forbidden
}

fn event(kind: AuditKind, actor: &User) -> Event {
    Event::new(kind).company(&actor.company_id).actor(&actor.id)
}

/// The user `id` of the actor's company, or 404.
pub fn member_of_company(
    conn: &mut DbConnection,
    company: &CompanyId,
    id: &UserId,
) -> Result<User, AppError> {
    User::find_in_company(conn, company, id)?.ok_or(AppError::NotFound)
}

/// Like `member_of_company`, but an offboarded member is a conflict: nothing more happens to them.
fn live_member_of_company(
    conn: &mut DbConnection,
    company: &CompanyId,
    id: &UserId,
) -> Result<User, AppError> {
    let user = member_of_company(conn, company, id)?;
    if user.status() == crate::domain::UserStatus::Removed {
        return Err(AppError::Conflict(
            "This member has been offboarded.".into(),
        ));
    }
    Ok(user)
}

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
        role: role.as_str().to_owned(),
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
    let role = Role::parse(&invitation.role).unwrap_or(Role::Member);
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
    let role = Role::parse(&invitation.role).unwrap_or(Role::Member);
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
    let role = Role::parse(&invitation.role).unwrap_or(Role::Member);
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

/// Changes `target`'s role to `to`. `from` is the role the actor saw (the page sends it): if
/// it is no longer the target's role, someone changed it meanwhile and this is a conflict, not
/// a silent second change. Without `from`, the role read in this transaction is the expected one.
pub fn change_role(
    conn: &mut DbConnection,
    actor: &User,
    target: &UserId,
    from: Option<Role>,
    to: Role,
    origin: &Origin,
) -> Result<User, AppError> {
    let actor = &current_actor(conn, actor)?;
    let target = live_member_of_company(conn, &actor.company_id, target)?;
    if from.is_some_and(|from| from != target.role()) {
        return Err(AppError::Conflict(format!(
            "{}'s role was changed meanwhile; they are now {}. Check the list and try again.",
            target.name,
            target.role()
        )));
    }
    authorize(
        Actor::Member(actor),
        Action::ChangeRole {
            target: &target,
            to,
        },
    )
    .map_err(denied)?;
    if target.role() != to {
        set_role(conn, &target.id, target.role(), to)?;
        audit::record(
            conn,
            origin,
            event(AuditKind::RoleChanged, actor)
                .target(format!("{} ({})", target.email, target.id))
                .detail(format!("{} → {}", target.role(), to)),
        )?;
    }
    Ok(target)
}

/// Sets a role only if it is still `from` and the user was not offboarded meanwhile: a
/// concurrent change makes this a conflict instead of a silent overwrite (two transfers at
/// once cannot leave two owners).
fn set_role(conn: &mut DbConnection, id: &UserId, from: Role, to: Role) -> Result<(), AppError> {
    use crate::db::schema::users;
    use diesel::prelude::*;
    let changed = diesel::update(
        users::table
            .find(id)
            .filter(users::role.eq(from.as_str()))
            .filter(users::status.ne(crate::domain::UserStatus::Removed.as_str())),
    )
    .set((users::role.eq(to.as_str()), users::updated_at.eq(now())))
    .execute(conn)?;
    if changed != 1 {
        return Err(AppError::Conflict(
            "Roles changed meanwhile. Reload the page and try again.".into(),
        ));
    }
    Ok(())
}

/// The acting user as the database has them now, inside the caller's transaction: a decision
/// is never taken on a copy read before someone else changed their role.
pub fn current_actor(conn: &mut DbConnection, actor: &User) -> Result<User, AppError> {
    User::find(conn, &actor.id)?
        .filter(|u| u.is_active() && u.company_id == actor.company_id)
        .ok_or(AppError::Forbidden)
}

/// The owner hands the company to an active admin and becomes an admin. Password checked by the caller.
pub fn transfer_ownership(
    conn: &mut DbConnection,
    owner: &User,
    to: &UserId,
    origin: &Origin,
) -> Result<User, AppError> {
    let was_owner = owner.role() == Role::Owner;
    let owner = &current_actor(conn, owner)?;
    let to = live_member_of_company(conn, &owner.company_id, to)?;
    // An owner whose ownership moved since they signed in (another transfer that won) is told
    // so, rather than refused as if they never had the right.
    if was_owner && (owner.role() != Role::Owner || (to.role() == Role::Owner && to.id != owner.id))
    {
        return Err(AppError::Conflict(
            "The ownership was transferred meanwhile. Reload the page to see who owns the company now."
                .into(),
        ));
    }
    authorize(Actor::Member(owner), Action::TransferOwnership { to: &to }).map_err(denied)?;
    set_role(conn, &owner.id, Role::Owner, Role::Admin)?;
    set_role(conn, &to.id, Role::Admin, Role::Owner)?;
    audit::record(
        conn,
        origin,
        event(AuditKind::OwnershipTransferred, owner).target(format!("{} ({})", to.email, to.id)),
    )?;
    Ok(to)
}

pub fn sign_out_everywhere(
    conn: &mut DbConnection,
    actor: &User,
    target: &UserId,
    origin: &Origin,
) -> Result<(User, usize), AppError> {
    let actor = &current_actor(conn, actor)?;
    let target = live_member_of_company(conn, &actor.company_id, target)?;
    authorize(Actor::Member(actor), Action::SignOutEverywhere(&target)).map_err(denied)?;
    let ended = User::end_all_sessions(conn, &target.id)?;
    audit::record(
        conn,
        origin,
        event(AuditKind::SessionsEnded, actor)
            .target(format!("{} ({})", target.email, target.id))
            .detail(format!("{ended} sessions")),
    )?;
    Ok((target, ended))
}

/// Checked company settings.
pub struct CompanySettings {
    pub name: Label,
    pub require_invitation: bool,
    pub domains: Vec<String>,
}

fn valid_domain(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

pub fn parse_settings(
    name: &str,
    require_invitation: bool,
    domains: &str,
) -> Result<CompanySettings, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = Label::parse("name", "company name", name, 100)
        .map_err(|e| errors.push(e))
        .ok();
    let mut list: Vec<String> = Vec::new();
    for raw in domains.lines() {
        let d = raw.trim().trim_start_matches('@').to_lowercase();
        if d.is_empty() {
            continue;
        }
        if !valid_domain(&d) {
            errors.push(FieldError::new(
                "allowed_domains",
                format!("“{d}” is not a domain name like example.com."),
            ));
            continue;
        }
        if !list.contains(&d) {
            list.push(d);
        }
    }
    match name {
        Some(name) if errors.is_empty() => Ok(CompanySettings {
            name,
            require_invitation,
            domains: list,
        }),
        _ => Err(errors),
    }
}

pub fn update_settings(
    conn: &mut DbConnection,
    admin: &User,
    settings: CompanySettings,
    origin: &Origin,
) -> Result<Result<Company, Vec<FieldError>>, AppError> {
    use crate::db::schema::companies;
    use diesel::prelude::*;
    authorize(Actor::Member(admin), Action::ViewAdminArea).map_err(denied)?;
    if let DbConnection::Postgres(pg) = conn {
        // Two companies claiming one domain at once must not both succeed: claims take turns.
        diesel::connection::SimpleConnection::batch_execute(
            pg,
            "LOCK TABLE companies IN SHARE ROW EXCLUSIVE MODE",
        )?;
    }
    let company = Company::find(conn, &admin.company_id)?;
    let current: Vec<&str> = company.domains();
    let own_domain = Email::parse("email", &admin.email)
        .map(|e| e.domain().to_owned())
        .unwrap_or_default();
    let mut errors = Vec::new();
    for d in settings
        .domains
        .iter()
        .filter(|d| !current.contains(&d.as_str()))
    {
        if crate::services::joining::is_public_mail_domain(d) {
            errors.push(FieldError::new(
                "allowed_domains",
                format!("“{d}” is a public email provider: anyone can have an address there, so it cannot be a company domain."),
            ));
            continue;
        }
        if *d != own_domain {
            errors.push(FieldError::new(
                "allowed_domains",
                format!("You can only add the domain of your own email address ({own_domain}); “{d}” is not it."),
            ));
            continue;
        }
        let claimed_elsewhere = companies::table
            .filter(companies::id.ne(&company.id))
            .filter(companies::allowed_domains.like(format!("%{d}%")))
            .load::<Company>(conn)?
            .iter()
            .any(|c| c.domains().contains(&d.as_str()));
        if claimed_elsewhere {
            errors.push(FieldError::new(
                "allowed_domains",
                format!("“{d}” belongs to another company."),
            ));
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let domains = settings.domains.join("\n");
    let mut changes = Vec::new();
    if company.name != settings.name.as_str() {
        changes.push(format!("name → {}", settings.name.as_str()));
    }
    if company.require_invitation != settings.require_invitation {
        changes.push(format!(
            "require_invitation → {}",
            settings.require_invitation
        ));
    }
    if company.allowed_domains != domains {
        changes.push(format!("domains → [{}]", settings.domains.join(", ")));
    }
    diesel::update(companies::table.find(&company.id))
        .set((
            companies::name.eq(settings.name.as_str()),
            companies::require_invitation.eq(settings.require_invitation),
            companies::allowed_domains.eq(&domains),
        ))
        .execute(conn)?;
    if !changes.is_empty() {
        audit::record(
            conn,
            origin,
            event(AuditKind::SettingsChanged, admin).detail(changes.join("; ")),
        )?;
    }
    Ok(Ok(Company::find(conn, &company.id)?))
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
