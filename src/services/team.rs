//! Team administration: roles, ownership, company settings, ending sessions (invitations are
//! `services::invitations`).
//! Each operation opens its own transaction, re-reads the actor inside it and asks `authz`
//! before it acts.

use crate::authz::{authorize, Action, Actor};
use crate::db::models::{Company, CompanyDomain, User};
use crate::db::{Db, DbConnection, Tx};
use crate::domain::{CompanyId, Email, FieldError, Label, Role, UserId};
use crate::error::{AppError, Refusal, RefusalKind};
use crate::services::audit::{self, AuditKind, Event};
use crate::services::Acting;
use std::sync::Arc;

pub(super) fn denied(e: crate::authz::Denied) -> AppError {
    tracing::info!(reason = e.0, "refused by authorization");
    AppError::Forbidden
}

pub(super) fn event(kind: AuditKind, actor: &User) -> Event {
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
        return Err(Refusal::new(RefusalKind::Conflict, "This member has been offboarded.").into());
    }
    Ok(user)
}

/// Changes `target`'s role to `to`. `from` is the role the actor saw (the page sends it): if
/// it is no longer the target's role, someone changed it meanwhile and this is a conflict, not
/// a silent second change. Without `from`, the role read in this transaction is the expected one.
pub async fn change_role(
    db: &Db,
    by: Acting,
    target: UserId,
    from: Option<Role>,
    to: Role,
) -> Result<User, AppError> {
    db.transaction(move |tx| change_role_in(tx, &by, &target, from, to))
        .await
}

fn change_role_in(
    conn: &mut Tx<'_>,
    by: &Acting,
    target: &UserId,
    from: Option<Role>,
    to: Role,
) -> Result<User, AppError> {
    let actor = &current_actor(conn, &by.user)?;
    let target = live_member_of_company(conn, &actor.company_id, target)?;
    if from.is_some_and(|from| from != target.role()) {
        return Err(AppError::from(Refusal::conflict(format!(
            "{}'s role was changed meanwhile; they are now {}. Check the list and try again.",
            target.name,
            target.role()
        ))));
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
        set_role(conn, by, &target.id, target.role(), to)?;
        audit::record(
            conn,
            &by.origin,
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
fn set_role(
    conn: &mut Tx<'_>,
    by: &Acting,
    id: &UserId,
    from: Role,
    to: Role,
) -> Result<(), AppError> {
    use crate::db::schema::users;
    use diesel::prelude::*;
    let changed = diesel::update(
        users::table
            .find(id)
            .filter(users::role.eq(from))
            .filter(users::status.ne(crate::domain::UserStatus::Removed)),
    )
    .set((users::role.eq(to), users::updated_at.eq(by.now)))
    .execute(&mut **conn)?;
    if changed != 1 {
        return Err(AppError::from(Refusal::conflict(
            "Roles changed meanwhile. Reload the page and try again.",
        )));
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
pub async fn transfer_ownership(db: &Db, by: Acting, to: UserId) -> Result<User, AppError> {
    db.transaction(move |tx| transfer_ownership_in(tx, &by, &to))
        .await
}

fn transfer_ownership_in(conn: &mut Tx<'_>, by: &Acting, to: &UserId) -> Result<User, AppError> {
    let was_owner = by.user.role() == Role::Owner;
    let owner = &current_actor(conn, &by.user)?;
    let to = live_member_of_company(conn, &owner.company_id, to)?;
    // An owner whose ownership moved since they signed in (another transfer that won) is told
    // so, rather than refused as if they never had the right.
    if was_owner && (owner.role() != Role::Owner || (to.role() == Role::Owner && to.id != owner.id))
    {
        return Err(Refusal::conflict(
            "The ownership was transferred meanwhile. Reload the page to see who owns the company now.",
        )
        .into());
    }
    authorize(Actor::Member(owner), Action::TransferOwnership { to: &to }).map_err(denied)?;
    set_role(conn, by, &owner.id, Role::Owner, Role::Admin)?;
    set_role(conn, by, &to.id, Role::Admin, Role::Owner)?;
    audit::record(
        conn,
        &by.origin,
        event(AuditKind::OwnershipTransferred, owner).target(format!("{} ({})", to.email, to.id)),
    )?;
    Ok(to)
}

pub async fn sign_out_everywhere(
    db: &Db,
    by: Acting,
    target: UserId,
) -> Result<(User, usize), AppError> {
    db.transaction(move |conn| {
        let actor = &current_actor(conn, &by.user)?;
        let target = live_member_of_company(conn, &actor.company_id, &target)?;
        authorize(Actor::Member(actor), Action::SignOutEverywhere(&target)).map_err(denied)?;
        let ended = User::end_all_sessions(conn, &target.id)?;
        audit::record(
            conn,
            &by.origin,
            event(AuditKind::SessionsEnded, actor)
                .target(format!("{} ({})", target.email, target.id))
                .detail(format!("{ended} sessions")),
        )?;
        Ok((target, ended))
    })
    .await
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

/// Saves the company settings; a domain the company may not claim is refused beside the field.
pub async fn update_settings(
    db: &Db,
    by: Acting,
    settings: CompanySettings,
) -> Result<Company, AppError> {
    db.transaction(move |tx| update_settings_in(tx, &by, settings))
        .await
}

fn update_settings_in(
    conn: &mut Tx<'_>,
    by: &Acting,
    settings: CompanySettings,
) -> Result<Company, AppError> {
    use crate::db::schema::companies;
    use diesel::prelude::*;
    let admin = &current_actor(conn, &by.user)?;
    authorize(Actor::Member(admin), Action::ViewAdminArea).map_err(denied)?;
    if let DbConnection::Postgres(pg) = &mut **conn {
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
    let new_claims: Vec<&String> = settings
        .domains
        .iter()
        .filter(|d| !current.contains(&d.as_str()))
        .collect();
    if !new_claims.is_empty() && admin.email_verified_at.is_none() {
        return Err(Refusal::field(
            "allowed_domains",
            "Confirm your email address first (open the link we mailed you): only then can you claim a domain.",
        )
        .into());
    }
    for d in new_claims {
        if crate::services::joining::is_public_mail_domain(d) {
            errors.push(FieldError::new(
                "allowed_domains",
                format!("“{d}” is a public email provider: anyone can have an address there, so it cannot be a company domain."),
            ));
            continue;
        }
        // Pending claims elsewhere do not block: only a proven one does.
        let claimed_elsewhere =
            CompanyDomain::verified_owner(conn, d)?.is_some_and(|owner| owner != company.id);
        if claimed_elsewhere {
            errors.push(FieldError::new(
                "allowed_domains",
                format!("“{d}” belongs to another company."),
            ));
        }
    }
    if !errors.is_empty() {
        // One message beside the field, naming every domain that cannot be claimed.
        let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
        return Err(Refusal::field("allowed_domains", messages.join(" ")).into());
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
        .execute(&mut **conn)?;
    sync_domain_claims(conn, &company.id, &settings.domains, admin, &own_domain, by)?;
    if !changes.is_empty() {
        audit::record(
            conn,
            &by.origin,
            event(AuditKind::SettingsChanged, admin).detail(changes.join("; ")),
        )?;
    }
    Ok(Company::find(conn, &company.id)?)
}

/// The claim rows follow the domain list: new ones start pending with a fresh DNS token, or
/// verified at once when the acting admin's own proven address is at that domain (proof a).
fn sync_domain_claims(
    conn: &mut Tx<'_>,
    company: &CompanyId,
    domains: &[String],
    admin: &User,
    own_domain: &str,
    by: &Acting,
) -> Result<(), AppError> {
    CompanyDomain::delete_except(conn, company, domains)?;
    for d in domains {
        if CompanyDomain::find(conn, company, d)?.is_some() {
            continue;
        }
        let proven_by_email = admin.email_verified_at.is_some() && d == own_domain;
        CompanyDomain {
            company_id: company.clone(),
            domain: d.clone(),
            dns_token: crate::auth::tokens::random_base62(32),
            created_at: by.now,
            verified_at: None,
        }
        .insert(conn)?;
        if proven_by_email {
            verify_domain_in(
                conn,
                company,
                d,
                admin,
                by,
                "the admin's confirmed email address",
            )?;
        }
    }
    Ok(())
}

/// Marks a claim verified, unless another company holds the domain verified already.
fn verify_domain_in(
    conn: &mut Tx<'_>,
    company: &CompanyId,
    domain: &str,
    admin: &User,
    by: &Acting,
    proof: &str,
) -> Result<(), AppError> {
    if CompanyDomain::verified_owner(conn, domain)?.is_some_and(|owner| owner != *company) {
        return Err(Refusal::field(
            "allowed_domains",
            format!("“{domain}” belongs to another company."),
        )
        .with_kind(RefusalKind::Conflict)
        .into());
    }
    if CompanyDomain::mark_verified(conn, company, domain, by.now)? == 1 {
        audit::record(
            conn,
            &by.origin,
            event(AuditKind::DomainVerified, admin)
                .target(domain.to_owned())
                .detail(format!("proven by {proof}")),
        )?;
    }
    Ok(())
}

/// "Verify now": proves a pending claim by the acting admin's confirmed address at the domain,
/// or by the TXT record `meetergo-console-verification=<token>` that `dns` found.
pub async fn verify_domain(
    db: &Db,
    by: Acting,
    domain: String,
    dns: Arc<crate::services::dns::DnsCheck>,
) -> Result<CompanyDomain, AppError> {
    let company = by.user.company_id.clone();
    let (lookup_domain, claim_company) = (domain.clone(), company.clone());
    let claim = db
        .run(move |conn| CompanyDomain::find(conn, &claim_company, &lookup_domain))
        .await?
        .ok_or(AppError::NotFound)?;
    if claim.is_verified() {
        return Ok(claim);
    }
    // The DNS look-up happens outside the transaction: it may take seconds.
    let found = dns.has_token(&claim.domain, &claim.dns_token).await;
    db.transaction(move |tx| {
        let admin = &current_actor(tx, &by.user)?;
        authorize(Actor::Member(admin), Action::ViewAdminArea).map_err(denied)?;
        let own = Email::parse("email", &admin.email)
            .map(|e| e.domain() == domain)
            .unwrap_or(false);
        let proof = if own && admin.email_verified_at.is_some() {
            "the admin's confirmed email address"
        } else if found {
            "its DNS TXT record"
        } else {
            return Err(Refusal::field(
                "allowed_domains",
                format!("No TXT record “meetergo-console-verification={}” was found on {domain} yet. DNS changes can take a while, so try again later.", claim.dns_token),
            )
            .into());
        };
        verify_domain_in(tx, &company, &domain, admin, &by, proof)?;
        CompanyDomain::find(tx, &company, &domain)?.ok_or(AppError::NotFound)
    })
    .await
}
