//! Who may do what: the one place for every permission rule of the console and the API.
//! Handlers ask `authorize(actor, action)`; none decides on roles by itself.

use crate::db::models::User;
use crate::domain::{CompanyId, Role, UserId};

/// Who is acting, and through what.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// A person in the browser console.
    Member(&'a User),
    /// A Personal Access Token: its owner, with the owner's role, minus credential and
    /// user-lifecycle management.
    Pat(&'a User),
    /// A Platform API Key: full access to its company's resources, acting as the user named in
    /// `x-meetergo-api-user-id` (when there is one).
    ApiKey {
        company: &'a CompanyId,
        acting: Option<&'a UserId>,
    },
    /// The company's identity provider through SCIM: creates, updates and deprovisions its
    /// people, and nothing else.
    Scim { company: &'a CompanyId },
}

/// Anything that acts as an `Actor`: what services take when they run on their own thread
/// and must own who asked (a console member, an API principal).
pub trait Principal: Send + 'static {
    fn actor(&self) -> Actor<'_>;
}

impl Principal for User {
    fn actor(&self) -> Actor<'_> {
        Actor::Member(self)
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// The admin area: members, company settings, audit log, SSO.
    ViewAdminArea,
    /// Create, deactivate, activate and revoke Platform API Keys.
    ManageApiKeys,
    /// Create and revoke one's own Personal Access Tokens (browser only).
    ManageOwnTokens,
    /// List the users of the company.
    ListUsers,
    /// Read this user's appointments.
    ReadAppointmentsOf(&'a User),
    CreateUser,
    UpdateUser(&'a User),
    DeleteUser(&'a User),
    /// Delete a meeting type that belongs to this user.
    DeleteMeetingTypeOf(&'a User),
    ChangeRole {
        target: &'a User,
        to: Role,
    },
    TransferOwnership {
        to: &'a User,
    },
    Offboard(&'a User),
    Invite {
        role: Role,
    },
    SignOutEverywhere(&'a User),
    /// Change or remove the company's SAML identity provider and Enforce SSO: whoever controls
    /// the IdP can sign in as any member, so this is the owner's alone.
    ManageSso,
    /// Create (or regenerate) one's own Personal Access Token, under the company's policy
    /// "Members may create PATs".
    CreatePat {
        members_may_create: bool,
    },
    /// The company's credential policy (maximum PAT lifetime, who may create PATs).
    ManageCredentialPolicy,
    /// Settings → Credentials: every member's PATs and the company's API keys (owners, admins).
    ViewCredentials,
    /// Revoke this member's Personal Access Token from the credentials inventory.
    RevokePatOf(&'a User),
    /// Rename this member's Personal Access Token or change its note: its owner only (an admin
    /// revokes a member's token but does not relabel it).
    DescribePatOf(&'a User),
    /// Settings → Provisioning: turn SCIM on or off, issue or revoke the SCIM secret, choose
    /// who receives a deprovisioned person's work (owners, admins).
    ManageProvisioning,
    /// Download everything the console holds about this person (the GDPR export): oneself,
    /// or as an owner or admin any member of the company; through the API, Platform API Keys
    /// only.
    ExportPersonalData(&'a User),
    /// Settings → Webhooks and the webhooks API: register, change, delete endpoints, rotate
    /// their secrets, redeliver, send test events. Owners and admins (in the console or with
    /// their Personal Access Token) and Platform API Keys (meetergo: "manage webhooks").
    ManageWebhooks,
}

/// meetergo's documentation: a Personal Access Token cannot trigger GDPR exports.
pub const PAT_CANNOT_EXPORT: &str =
    "A Personal Access Token cannot trigger GDPR exports; use a Platform API Key.";

/// meetergo's wording for a meeting type someone may not delete.
pub const MEETING_TYPE_NOT_YOURS: &str = "Not authorized to delete this meeting type";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub &'static str);

fn same_company(actor: &Actor<'_>, target: &User) -> bool {
    match actor {
        Actor::Member(u) | Actor::Pat(u) => u.company_id == target.company_id,
        Actor::ApiKey { company, .. } | Actor::Scim { company } => **company == target.company_id,
    }
}

fn allow(condition: bool, reason: &'static str) -> Result<(), Denied> {
    if condition {
        Ok(())
    } else {
        Err(Denied(reason))
    }
}

pub fn authorize(actor: Actor<'_>, action: Action<'_>) -> Result<(), Denied> {
    let target = match action {
        Action::ReadAppointmentsOf(t)
        | Action::UpdateUser(t)
        | Action::DeleteUser(t)
        | Action::DeleteMeetingTypeOf(t)
        | Action::ChangeRole { target: t, .. }
        | Action::TransferOwnership { to: t }
        | Action::Offboard(t)
        | Action::SignOutEverywhere(t)
        | Action::RevokePatOf(t)
        | Action::DescribePatOf(t)
        | Action::ExportPersonalData(t) => Some(t),
        _ => None,
    };
    if let Some(t) = target {
        allow(same_company(&actor, t), "That user is not in your company.")?;
    }

    match actor {
        Actor::ApiKey { acting, .. } => match action {
            Action::ManageApiKeys
            | Action::ManageOwnTokens
            | Action::ViewAdminArea
            | Action::ManageSso
            | Action::CreatePat { .. }
            | Action::ManageCredentialPolicy
            | Action::ViewCredentials
            | Action::ManageProvisioning
            | Action::RevokePatOf(_)
            | Action::DescribePatOf(_) => Err(Denied(
                "A Platform API Key cannot manage credentials or settings.",
            )),
            Action::DeleteUser(t) | Action::Offboard(t) => {
                allow(acting != Some(&t.id), "You cannot remove yourself.")?;
                allow(
                    t.role() != Role::Owner,
                    "The company owner cannot be removed.",
                )
            }
            Action::ChangeRole { target, to } => allow(
                target.role() != Role::Owner && to != Role::Owner,
                "Ownership changes only through a transfer by the owner.",
            ),
            Action::TransferOwnership { .. } => {
                Err(Denied("Only the owner can transfer ownership."))
            }
            _ => Ok(()),
        },
        Actor::Scim { .. } => match action {
            Action::ListUsers | Action::CreateUser | Action::UpdateUser(_) => Ok(()),
            Action::DeleteUser(t) | Action::Offboard(t) => allow(
                t.role() != Role::Owner,
                "The company owner cannot be deprovisioned; transfer ownership first.",
            ),
            _ => Err(Denied(
                "SCIM provisions people; it cannot do anything else.",
            )),
        },
        Actor::Pat(me) => match action {
            Action::ListUsers => allow(me.role().is_admin(), "Listing users needs an admin role."),
            Action::ReadAppointmentsOf(t) => allow(
                t.id == me.id || me.role().is_admin(),
                "Only admins can read other users' appointments.",
            ),
            Action::UpdateUser(t) => allow(
                t.id == me.id,
                "A Personal Access Token can update only its owner's profile.",
            ),
            Action::DeleteMeetingTypeOf(t) => allow(
                t.id == me.id || me.role().is_admin(),
                MEETING_TYPE_NOT_YOURS,
            ),
            Action::ExportPersonalData(_) => Err(Denied(PAT_CANNOT_EXPORT)),
            Action::ManageWebhooks => allow(
                me.role().is_admin(),
                "Managing webhooks needs an owner's or admin's token, or a Platform API Key.",
            ),
            _ => Err(Denied("This needs a Platform API Key or the dashboard.")),
        },
        Actor::Member(me) => {
            let admin = me.role().is_admin();
            let owner = me.role() == Role::Owner;
            match action {
                Action::ManageOwnTokens => Ok(()),
                Action::ManageSso => allow(owner, "Only the owner changes single sign-on."),
                Action::CreatePat { members_may_create } => allow(
                    members_may_create || admin,
                    "Your company lets only owners and admins create personal access tokens.",
                ),
                Action::ManageCredentialPolicy => {
                    allow(owner, "Only the owner changes the credential policy.")
                }
                Action::ViewAdminArea
                | Action::ManageApiKeys
                | Action::ManageProvisioning
                | Action::ManageWebhooks
                | Action::ViewCredentials
                | Action::ListUsers
                | Action::CreateUser => allow(admin, "This page is for admins."),
                Action::ReadAppointmentsOf(t) => allow(
                    t.id == me.id || admin,
                    "Only admins can see other users' appointments.",
                ),
                Action::UpdateUser(t) => {
                    allow(t.id == me.id || admin, "Only admins can edit other users.")
                }
                Action::DeleteMeetingTypeOf(t) => {
                    allow(t.id == me.id || admin, MEETING_TYPE_NOT_YOURS)
                }
                Action::Invite { role } => {
                    allow(admin, "Only admins invite.")?;
                    allow(
                        role != Role::Owner,
                        "Ownership is transferred, not invited.",
                    )?;
                    // The same rule as for role changes: only the owner makes admins.
                    allow(
                        owner || role == Role::Member,
                        "Only the owner invites admins.",
                    )
                }
                Action::ChangeRole { target, to } => {
                    allow(admin, "Only admins change roles.")?;
                    allow(target.id != me.id, "You cannot change your own role.")?;
                    allow(
                        target.role() != Role::Owner,
                        "Nobody can demote the owner; the owner transfers ownership.",
                    )?;
                    allow(to != Role::Owner, "Ownership is transferred, not assigned.")?;
                    allow(
                        owner || (target.role() != Role::Admin && to != Role::Admin),
                        "Only the owner changes an admin's role or makes admins.",
                    )
                }
                Action::TransferOwnership { to } => {
                    allow(owner, "Only the owner can transfer ownership.")?;
                    allow(to.id != me.id, "You already own this company.")?;
                    allow(
                        to.role() == Role::Admin && to.is_active(),
                        "Ownership goes to an active admin.",
                    )
                }
                Action::Offboard(t) | Action::DeleteUser(t) => {
                    allow(admin, "Only admins offboard members.")?;
                    allow(t.id != me.id, "You cannot offboard yourself.")?;
                    allow(
                        t.role() != Role::Owner,
                        "Transfer ownership before offboarding the owner.",
                    )?;
                    allow(
                        owner || t.role() != Role::Admin,
                        "Only the owner offboards an admin.",
                    )
                }
                Action::DescribePatOf(t) => allow(
                    t.id == me.id,
                    "Only the token's owner renames it or changes its note.",
                ),
                Action::RevokePatOf(t) => {
                    // One's own token is one's own business; the owner's is nobody else's.
                    if t.id == me.id {
                        return Ok(());
                    }
                    allow(admin, "Only admins revoke other members' tokens.")?;
                    allow(
                        t.role() != Role::Owner,
                        "Only the owner revokes the owner's tokens.",
                    )?;
                    allow(
                        owner || t.role() != Role::Admin,
                        "Only the owner revokes an admin's tokens.",
                    )
                }
                // An admin answers a member's access request; the owner's data included, since
                // admins already see the owner's credentials and audit trail.
                Action::ExportPersonalData(t) => allow(
                    t.id == me.id || admin,
                    "Only owners and admins export another member's data.",
                ),
                Action::SignOutEverywhere(t) => {
                    allow(
                        t.id == me.id || admin,
                        "Only admins sign out other members.",
                    )?;
                    allow(
                        t.id == me.id || t.role() != Role::Owner || owner,
                        "Only the owner signs out the owner.",
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::models::now;
    use crate::domain::UserId;

    fn user(company: &CompanyId, role: Role) -> User {
        User {
            id: UserId::new(),
            company_id: company.clone(),
            email: format!("{}@example.com", role.as_str()),
            name: role.as_str().into(),
            role,
            status: crate::domain::UserStatus::Active,
            password_hash: None,
            created_at: now(),
            updated_at: now(),
            last_sign_in_at: None,
            timezone: "UTC".into(),
            email_verified_at: None,
        }
    }

    #[test]
    fn members_cannot_enter_the_admin_area() {
        let c = CompanyId::new();
        let member = user(&c, Role::Member);
        assert!(authorize(Actor::Member(&member), Action::ViewAdminArea).is_err());
        assert!(authorize(Actor::Member(&member), Action::ManageOwnTokens).is_ok());
        let admin = user(&c, Role::Admin);
        assert!(authorize(Actor::Member(&admin), Action::ViewAdminArea).is_ok());
    }

    #[test]
    fn role_changes_follow_the_hierarchy() {
        let c = CompanyId::new();
        let (owner, admin, admin2, member) = (
            user(&c, Role::Owner),
            user(&c, Role::Admin),
            user(&c, Role::Admin),
            user(&c, Role::Member),
        );
        let change = |a: &User, t: &User, to| {
            authorize(Actor::Member(a), Action::ChangeRole { target: t, to })
        };
        assert!(change(&admin, &member, Role::Member).is_ok());
        assert!(change(&admin, &member, Role::Admin).is_err());
        assert!(change(&admin, &admin2, Role::Member).is_err());
        assert!(change(&owner, &admin2, Role::Member).is_ok());
        assert!(change(&owner, &member, Role::Admin).is_ok());
        assert!(change(&admin, &owner, Role::Member).is_err());
        assert!(change(&member, &member, Role::Admin).is_err());
    }

    #[test]
    fn nobody_reaches_across_companies() {
        let (a, b) = (CompanyId::new(), CompanyId::new());
        let admin_a = user(&a, Role::Admin);
        let member_b = user(&b, Role::Member);
        assert!(authorize(Actor::Member(&admin_a), Action::Offboard(&member_b)).is_err());
        assert!(authorize(
            Actor::ApiKey {
                company: &a,
                acting: None
            },
            Action::DeleteUser(&member_b)
        )
        .is_err());
        assert!(authorize(Actor::Pat(&admin_a), Action::ReadAppointmentsOf(&member_b)).is_err());
    }

    #[test]
    fn pats_act_as_their_owner_but_never_manage_users_or_credentials() {
        let c = CompanyId::new();
        let (admin, member) = (user(&c, Role::Admin), user(&c, Role::Member));
        assert!(authorize(Actor::Pat(&admin), Action::ListUsers).is_ok());
        assert!(authorize(Actor::Pat(&member), Action::ListUsers).is_err());
        assert!(authorize(Actor::Pat(&admin), Action::ReadAppointmentsOf(&member)).is_ok());
        assert!(authorize(Actor::Pat(&member), Action::ReadAppointmentsOf(&admin)).is_err());
        assert!(authorize(Actor::Pat(&admin), Action::CreateUser).is_err());
        assert!(authorize(Actor::Pat(&admin), Action::DeleteUser(&member)).is_err());
        assert!(authorize(Actor::Pat(&admin), Action::UpdateUser(&member)).is_err());
        assert!(authorize(Actor::Pat(&member), Action::UpdateUser(&member)).is_ok());
        assert!(authorize(Actor::Pat(&admin), Action::ManageApiKeys).is_err());
        assert!(authorize(Actor::Pat(&admin), Action::ManageOwnTokens).is_err());
    }

    #[test]
    fn only_the_owner_manages_sso() {
        let c = CompanyId::new();
        let (owner, admin) = (user(&c, Role::Owner), user(&c, Role::Admin));
        assert!(authorize(Actor::Member(&owner), Action::ManageSso).is_ok());
        assert!(authorize(Actor::Member(&admin), Action::ManageSso).is_err());
        assert!(authorize(
            Actor::ApiKey {
                company: &c,
                acting: None
            },
            Action::ManageSso
        )
        .is_err());
    }

    #[test]
    fn only_the_owner_invites_admins() {
        let c = CompanyId::new();
        let (owner, admin, member) = (
            user(&c, Role::Owner),
            user(&c, Role::Admin),
            user(&c, Role::Member),
        );
        let invite = |a: &User, role| authorize(Actor::Member(a), Action::Invite { role });
        assert!(invite(&admin, Role::Member).is_ok());
        assert!(invite(&admin, Role::Admin).is_err());
        assert!(invite(&owner, Role::Admin).is_ok());
        assert!(invite(&owner, Role::Owner).is_err());
        assert!(invite(&member, Role::Member).is_err());
    }

    #[test]
    fn the_credential_policy_is_the_owners_and_members_may_be_kept_from_pats() {
        let c = CompanyId::new();
        let (owner, admin, member) = (
            user(&c, Role::Owner),
            user(&c, Role::Admin),
            user(&c, Role::Member),
        );
        assert!(authorize(Actor::Member(&owner), Action::ManageCredentialPolicy).is_ok());
        assert!(authorize(Actor::Member(&admin), Action::ManageCredentialPolicy).is_err());
        let create = |u: &User, members_may_create| {
            authorize(Actor::Member(u), Action::CreatePat { members_may_create })
        };
        assert!(create(&member, true).is_ok());
        assert!(create(&member, false).is_err());
        assert!(create(&admin, false).is_ok());
        assert!(create(&owner, false).is_ok());
        let pat = Action::CreatePat {
            members_may_create: true,
        };
        assert!(authorize(Actor::Pat(&owner), pat).is_err());
        assert!(authorize(
            Actor::ApiKey {
                company: &c,
                acting: None
            },
            pat
        )
        .is_err());
    }

    #[test]
    fn who_revokes_whose_tokens_from_the_inventory() {
        let c = CompanyId::new();
        let (owner, admin, admin2, member, member2) = (
            user(&c, Role::Owner),
            user(&c, Role::Admin),
            user(&c, Role::Admin),
            user(&c, Role::Member),
            user(&c, Role::Member),
        );
        let revoke = |a: &User, t: &User| authorize(Actor::Member(a), Action::RevokePatOf(t));
        assert!(revoke(&admin, &member).is_ok());
        assert!(revoke(&admin, &admin2).is_err());
        assert!(revoke(&admin, &owner).is_err());
        assert!(revoke(&owner, &admin).is_ok());
        assert!(revoke(&owner, &member).is_ok());
        assert!(revoke(&owner, &owner).is_ok());
        assert!(revoke(&member, &member2).is_err());
        assert!(authorize(Actor::Member(&member), Action::ViewCredentials).is_err());
        assert!(authorize(Actor::Member(&admin), Action::ViewCredentials).is_ok());
        assert!(authorize(Actor::Pat(&owner), Action::RevokePatOf(&member)).is_err());
        let other = user(&CompanyId::new(), Role::Member);
        assert!(revoke(&owner, &other).is_err());
    }

    #[test]
    fn only_a_tokens_owner_renames_it_or_changes_its_note() {
        let c = CompanyId::new();
        let (owner, member) = (user(&c, Role::Owner), user(&c, Role::Member));
        let describe = |a: &User, t: &User| authorize(Actor::Member(a), Action::DescribePatOf(t));
        assert!(describe(&member, &member).is_ok());
        assert!(describe(&owner, &owner).is_ok());
        assert!(describe(&owner, &member).is_err());
        assert!(describe(&member, &owner).is_err());
        assert!(authorize(Actor::Pat(&member), Action::DescribePatOf(&member)).is_err());
        let other = user(&CompanyId::new(), Role::Owner);
        assert!(describe(&other, &member).is_err());
    }

    #[test]
    fn scim_provisions_its_own_company_only_and_never_removes_the_owner() {
        let c = CompanyId::new();
        let (owner, admin, member) = (
            user(&c, Role::Owner),
            user(&c, Role::Admin),
            user(&c, Role::Member),
        );
        let scim = Actor::Scim { company: &c };
        assert!(authorize(scim, Action::CreateUser).is_ok());
        assert!(authorize(scim, Action::UpdateUser(&admin)).is_ok());
        assert!(authorize(scim, Action::Offboard(&member)).is_ok());
        assert!(authorize(scim, Action::Offboard(&admin)).is_ok());
        assert!(authorize(scim, Action::Offboard(&owner)).is_err());
        assert!(authorize(scim, Action::ManageApiKeys).is_err());
        assert!(authorize(scim, Action::ManageProvisioning).is_err());
        let stranger = user(&CompanyId::new(), Role::Member);
        assert!(authorize(scim, Action::UpdateUser(&stranger)).is_err());
        assert!(authorize(scim, Action::Offboard(&stranger)).is_err());
        assert!(authorize(Actor::Member(&admin), Action::ManageProvisioning).is_ok());
        assert!(authorize(Actor::Member(&owner), Action::ManageProvisioning).is_ok());
        assert!(authorize(Actor::Member(&member), Action::ManageProvisioning).is_err());
        assert!(authorize(Actor::Pat(&owner), Action::ManageProvisioning).is_err());
    }

    #[test]
    fn personal_data_is_exported_by_oneself_admins_and_api_keys_never_pats() {
        let c = CompanyId::new();
        let (owner, admin, member, member2) = (
            user(&c, Role::Owner),
            user(&c, Role::Admin),
            user(&c, Role::Member),
            user(&c, Role::Member),
        );
        let export =
            |a: &User, t: &User| authorize(Actor::Member(a), Action::ExportPersonalData(t));
        assert!(export(&member, &member).is_ok());
        assert!(export(&member, &member2).is_err());
        assert!(export(&member, &admin).is_err());
        assert!(export(&admin, &member).is_ok());
        assert!(export(&admin, &owner).is_ok());
        assert!(export(&owner, &admin).is_ok());
        let key = Actor::ApiKey {
            company: &c,
            acting: Some(&admin.id),
        };
        assert!(authorize(key, Action::ExportPersonalData(&member)).is_ok());
        assert_eq!(
            authorize(Actor::Pat(&owner), Action::ExportPersonalData(&owner)),
            Err(Denied(PAT_CANNOT_EXPORT))
        );
        let stranger = user(&CompanyId::new(), Role::Member);
        assert!(export(&owner, &stranger).is_err());
        let other_key = Actor::ApiKey {
            company: &stranger.company_id,
            acting: None,
        };
        assert!(authorize(other_key, Action::ExportPersonalData(&member)).is_err());
    }

    #[test]
    fn webhooks_are_for_owners_admins_their_pats_and_api_keys() {
        let c = CompanyId::new();
        let (owner, admin, member) = (
            user(&c, Role::Owner),
            user(&c, Role::Admin),
            user(&c, Role::Member),
        );
        for who in [&owner, &admin] {
            assert!(authorize(Actor::Member(who), Action::ManageWebhooks).is_ok());
            assert!(authorize(Actor::Pat(who), Action::ManageWebhooks).is_ok());
        }
        assert!(authorize(Actor::Member(&member), Action::ManageWebhooks).is_err());
        assert!(authorize(Actor::Pat(&member), Action::ManageWebhooks).is_err());
        let key = Actor::ApiKey {
            company: &c,
            acting: Some(&member.id),
        };
        assert!(authorize(key, Action::ManageWebhooks).is_ok());
        assert!(authorize(Actor::Scim { company: &c }, Action::ManageWebhooks).is_err());
    }

    #[test]
    fn owners_are_not_offboarded() {
        let c = CompanyId::new();
        let (owner, admin) = (user(&c, Role::Owner), user(&c, Role::Admin));
        assert!(authorize(Actor::Member(&admin), Action::Offboard(&owner)).is_err());
        assert!(authorize(Actor::Member(&owner), Action::Offboard(&owner)).is_err());
        assert!(authorize(
            Actor::ApiKey {
                company: &c,
                acting: None
            },
            Action::DeleteUser(&owner)
        )
        .is_err());
        assert!(authorize(Actor::Member(&owner), Action::Offboard(&admin)).is_ok());
    }
}
