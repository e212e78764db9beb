//! Creating accounts: a new workspace with its owner, and the joining rule that every path
//! creating a user goes through.

use diesel::prelude::*;

use crate::db::models::{now, Company, CompanyDomain, User};
use crate::db::DbConnection;
use crate::domain::{CompanyId, Email, Label, Role, UserId, UserStatus};
use crate::error::{AppError, Refusal, RefusalKind};

/// Where a new account with this email belongs.
#[derive(Debug)]
pub enum Joining {
    /// A company claims the email's domain and lets such emails join as members.
    JoinCompany(Company),
    /// Nobody claims it: the person gets a workspace of their own.
    NewCompany,
    /// A company claims the domain but requires an invitation.
    NeedsInvitation(Company),
}

pub const SSO_REQUIRED_MESSAGE: &str =
    "This company signs in through its identity provider. Use “Sign in with SSO” with your work email; your account is created on the first sign-in.";

/// Joining a company that enforces SSO happens through its identity provider only.
pub fn joins_only_through_sso(company: &Company) -> bool {
    company.sso_enforced
}

pub const NEEDS_INVITATION_MESSAGE: &str =
    "Your organization requires an invitation to join. Ask an admin of your company for an invitation, or open the invitation link you were sent.";

/// Mail providers where anyone can get an address: never a company's domain.
const PUBLIC_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "gmx.com",
    "gmx.at",
    "gmx.ch",
    "web.de",
    "t-online.de",
    "freenet.de",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "mail.com",
    "mail.ru",
    "yandex.ru",
    "yandex.com",
    "zoho.com",
    "fastmail.com",
    "hey.com",
    "posteo.de",
    "mailbox.org",
    "tutanota.com",
    "qq.com",
    "163.com",
    "example.com",
    "example.org",
    "example.net",
];

pub fn is_public_mail_domain(domain: &str) -> bool {
    let domain = domain.trim().to_lowercase();
    PUBLIC_MAIL_DOMAINS.iter().any(|d| *d == domain)
        || domain.starts_with("yahoo.")
        || domain.starts_with("hotmail.")
        || domain.starts_with("outlook.")
}

/// The joining rule for an email without an invitation: only a domain the company has
/// proven (verified) counts; a pending claim joins and routes nobody.
pub fn decide(conn: &mut DbConnection, email: &Email) -> QueryResult<Joining> {
    let claimed = match CompanyDomain::verified_owner(conn, email.domain())? {
        Some(id) => Some(Company::find(conn, &id)?),
        None => None,
    };
    Ok(match claimed {
        Some(company) if company.require_invitation => Joining::NeedsInvitation(company),
        Some(company) => Joining::JoinCompany(company),
        None => Joining::NewCompany,
    })
}

pub struct NewAccount {
    pub name: Label,
    pub email: Email,
    pub password_hash: Option<String>,
    /// Set when the address is already proven (provider, the company's IdP, an invitation).
    pub email_verified_at: Option<chrono::NaiveDateTime>,
}

fn new_user(company: &CompanyId, account: NewAccount, role: Role) -> User {
    let at = now();
    User {
        id: UserId::new(),
        company_id: company.clone(),
        email: account.email.as_str().to_owned(),
        name: account.name.into_string(),
        role,
        status: UserStatus::Active,
        password_hash: account.password_hash,
        created_at: at,
        updated_at: at,
        last_sign_in_at: None,
        timezone: "UTC".into(),
        email_verified_at: account.email_verified_at,
    }
}

/// The joining rule, for a newcomer who signs up on their own (by password or a provider,
/// not through an invitation or their company's IdP): a member of the company that holds
/// their domain verified, unless it requires an invitation or joins only through SSO; otherwise
/// the owner of a new workspace called `workspace`. An address nobody has proven yet never
/// joins by domain: its owner gets a workspace, and the rule runs again on verification
/// (`services::email_verification`).
pub fn join(
    conn: &mut DbConnection,
    account: NewAccount,
    workspace: &Label,
) -> Result<User, AppError> {
    match decide(conn, &account.email)? {
        Joining::NeedsInvitation(_) => Err(Refusal::field("email", NEEDS_INVITATION_MESSAGE)
            .with_kind(RefusalKind::Forbidden)
            .into()),
        Joining::JoinCompany(company) if joins_only_through_sso(&company) => {
            Err(Refusal::field("email", SSO_REQUIRED_MESSAGE)
                .with_kind(RefusalKind::Forbidden)
                .into())
        }
        Joining::JoinCompany(company) if account.email_verified_at.is_some() => {
            add_member(conn, &company.id, account, Role::Member)
        }
        Joining::JoinCompany(_) | Joining::NewCompany => {
            Ok(create_workspace(conn, workspace, account)?.1)
        }
    }
}

/// Signs up with a password: the joining rule and the audit record, in one transaction.
pub async fn sign_up(
    db: &crate::db::Db,
    account: NewAccount,
    workspace: Label,
    origin: crate::services::audit::Origin,
) -> Result<User, AppError> {
    use crate::services::audit::{self, AuditKind, Event};
    db.transaction(move |conn| {
        let user = join(conn, account, &workspace)?;
        audit::record(
            conn,
            &origin,
            Event::new(AuditKind::SignedUp)
                .company(&user.company_id)
                .actor(&user.id)
                .subject(audit::Subject::Person(user.id.clone())),
        )?;
        Ok(user)
    })
    .await
}

/// Creates a company and its owner. Call inside a transaction.
pub fn create_workspace(
    conn: &mut DbConnection,
    company_name: &Label,
    account: NewAccount,
) -> Result<(Company, User), AppError> {
    ensure_email_free(conn, &account.email)?;
    let company = Company {
        id: CompanyId::new(),
        name: company_name.as_str().to_owned(),
        slug: Company::free_slug(conn, company_name.as_str())?
            .as_str()
            .to_owned(),
        require_invitation: false,
        allowed_domains: String::new(),
        sso_enforced: false,
        require_two_factor: false,
        created_at: now(),
        max_pat_lifetime_days: None,
        members_may_create_pats: true,
    };
    company.insert(conn)?;
    let owner = new_user(&company.id, account, Role::Owner);
    owner.insert(conn)?;
    Ok((company, owner))
}

/// Adds a user to an existing company. Call inside a transaction.
pub fn add_member(
    conn: &mut DbConnection,
    company: &CompanyId,
    account: NewAccount,
    role: Role,
) -> Result<User, AppError> {
    ensure_email_free(conn, &account.email)?;
    let user = new_user(company, account, role);
    user.insert(conn)?;
    Ok(user)
}

pub const EMAIL_TAKEN_MESSAGE: &str = "An account with this email already exists. Sign in instead.";

fn ensure_email_free(conn: &mut DbConnection, email: &Email) -> Result<(), AppError> {
    if User::find_by_email(conn, email)?.is_some() {
        return Err(Refusal::field("email", EMAIL_TAKEN_MESSAGE)
            .with_kind(RefusalKind::Conflict)
            .into());
    }
    Ok(())
}
