//! Company settings (name, Require Invitation, email domains) and the ownership transfer.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::authz::Action;
use crate::db::models::{Company, CompanyDomain, PersonalAccessToken, User};
use crate::domain::{FieldError, Role, UserId};
use crate::error::AppError;
use crate::paths;
use crate::services::audit::{self, AuditKind, Event};
use crate::services::credential_policy::{
    self, parse_max_lifetime, PatPolicy, MAX_LIFETIME_CHOICES,
};
use crate::services::team;
use crate::web::context::Member;
use crate::web::page::{render, render_with_status, FlashKind, FormErrors, Shell};

/// A claimed domain as the page shows it.
pub struct DomainRow {
    pub domain: String,
    pub verified: bool,
    pub txt: String,
}

pub struct AdminChoice {
    pub id: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "settings/company.html")]
struct CompanyPage {
    shell: Shell,
    section: &'static str,
    name: String,
    require_invitation: bool,
    require_two_factor: bool,
    allowed_domains: String,
    own_domain: String,
    domains: Vec<DomainRow>,
    is_owner: bool,
    admins: Vec<AdminChoice>,
    errors: FormErrors,
    transfer_errors: FormErrors,
    max_pat_lifetime_days: Option<i32>,
    members_may_create_pats: bool,
    lifetime_choices: &'static [i32],
    /// Working tokens of members, shown while members may not create new ones.
    active_member_tokens: i64,
    policy_errors: FormErrors,
}

async fn page(shell: Shell, m: &Member) -> Result<CompanyPage, AppError> {
    let me = &m.me;
    let company = me.company.id.clone();
    let me_id = me.user.id.clone();
    let admins = m
        .app
        .db
        .run(move |conn| User::active_in_company(conn, &company))
        .await?
        .into_iter()
        .filter(|u| u.role() == Role::Admin && u.id != me_id)
        .map(|u| AdminChoice {
            id: u.id.to_string(),
            label: format!("{} ({})", u.name, u.email),
        })
        .collect();
    let company = me.company.id.clone();
    let domains = m
        .app
        .db
        .run(move |conn| CompanyDomain::of_company(conn, &company))
        .await?
        .into_iter()
        .map(|d| DomainRow {
            verified: d.is_verified(),
            txt: format!("{}{}", crate::services::dns::TXT_PREFIX, d.dns_token),
            domain: d.domain,
        })
        .collect();
    let company = me.company.id.clone();
    let now = m.now;
    let active_member_tokens = m
        .app
        .db
        .run(move |conn| PersonalAccessToken::count_active_of_members(conn, &company, now))
        .await?;
    // Fresh from the database: the signed-in context may predate a save.
    let company = me.company.id.clone();
    let policy = m
        .app
        .db
        .run(move |conn| Company::find(conn, &company))
        .await
        .map(|c| PatPolicy::of(&c))?;
    Ok(CompanyPage {
        max_pat_lifetime_days: policy.max_lifetime_days,
        members_may_create_pats: policy.members_may_create,
        lifetime_choices: &MAX_LIFETIME_CHOICES,
        active_member_tokens,
        policy_errors: FormErrors::default(),
        domains,
        shell,
        section: "company",
        name: me.company.name.clone(),
        require_invitation: me.company.require_invitation,
        require_two_factor: me.company.require_two_factor,
        allowed_domains: me.company.allowed_domains.clone(),
        own_domain: me
            .user
            .email
            .rsplit_once('@')
            .map(|(_, d)| d.to_owned())
            .unwrap_or_default(),
        is_owner: me.user.role() == Role::Owner,
        admins,
        errors: FormErrors::default(),
        transfer_errors: FormErrors::default(),
    })
}

async fn show(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    render(&page(shell, &m).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    name: String,
    /// Present ("on") when the checkbox is ticked.
    require_invitation: Option<String>,
    #[serde(default)]
    allowed_domains: String,
}

async fn save(
    m: Member,
    shell: Shell,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    let form = form.into_inner();
    let require_invitation = form.require_invitation.is_some();
    let outcome = match team::parse_settings(&form.name, require_invitation, &form.allowed_domains)
    {
        Err(errors) => Err(errors),
        Ok(settings) => match team::update_settings(&m.app.db, m.acting(), settings).await {
            Ok(_) => Ok(()),
            Err(AppError::Refused(r)) => Err(vec![r.as_field_error("allowed_domains")]),
            Err(e) => return Err(e),
        },
    };
    match outcome {
        Ok(()) => Ok(m.redirect_with_flash(
            paths::COMPANY,
            FlashKind::Success,
            "Company settings saved.",
        )),
        Err(errors) => {
            let mut p = page(shell, &m).await?;
            p.name = form.name;
            p.require_invitation = require_invitation;
            p.allowed_domains = form.allowed_domains;
            p.errors = FormErrors(errors);
            render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TransferForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    password: String,
}

async fn transfer(
    m: Member,
    shell: Shell,
    form: web::Form<TransferForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    let me = &m.me;
    let form = form.into_inner();
    // A password prompt is a password check: the same limit as signing in.
    let ip = m.origin.ip.clone().unwrap_or_default();
    m.app
        .limits
        .login_attempt(&ip, Some(&me.user.email))
        .await
        .map_err(|r| AppError::RateLimited {
            retry_after_secs: r.0,
        })?;
    // Who may transfer is decided in authz (via team::transfer_ownership); the password re-check is extra.
    let password_ok = m
        .app
        .hasher
        .verify(
            me.user.password_hash.clone(),
            SecretString::from(form.password),
        )
        .await?;
    let to: Option<UserId> = form.user_id.parse().ok();
    let problem = match (&to, password_ok) {
        (None, _) => Some(FieldError::new(
            "user_id",
            "Choose the admin who becomes the owner.",
        )),
        (_, false) => Some(FieldError::new("password", "That is not your password.")),
        _ => None,
    };
    if !password_ok {
        let event = Event::new(AuditKind::SignInFailed)
            .company(&me.company.id)
            .actor(&me.user.id)
            .detail("wrong password when transferring ownership");
        audit::record_now(&m.app.db, m.origin.clone(), event).await?;
    }
    if let (None, Some(to)) = (problem.clone(), to) {
        let new_owner = team::transfer_ownership(&m.app.db, m.acting(), to).await?;
        return Ok(m.redirect_with_flash(
            paths::COMPANY,
            FlashKind::Success,
            &format!("{} now owns the company. You are an admin.", new_owner.name),
        ));
    }
    let mut p = page(shell, &m).await?;
    p.transfer_errors = FormErrors(problem.into_iter().collect());
    render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &p)
}

#[derive(Debug, Default, Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    max_pat_lifetime_days: String,
    /// Present ("on") when the checkbox is ticked.
    members_may_create_pats: Option<String>,
}

/// Settings → Company → Credential policy (owners). A new limit shortens longer-lived tokens;
/// their owners are mailed.
async fn save_policy(
    m: Member,
    shell: Shell,
    form: web::Form<PolicyForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageCredentialPolicy)?;
    let form = form.into_inner();
    let members_may_create = form.members_may_create_pats.is_some();
    let max_lifetime_days = match parse_max_lifetime(&form.max_pat_lifetime_days) {
        Ok(days) => days,
        Err(e) => {
            let mut p = page(shell, &m).await?;
            p.members_may_create_pats = members_may_create;
            p.policy_errors = FormErrors(vec![e]);
            return render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &p);
        }
    };
    let policy = PatPolicy {
        max_lifetime_days,
        members_may_create,
    };
    let saved = credential_policy::save(&m.app.db, m.acting(), policy).await?;
    let mailer = m.app.mailer.clone();
    let mails: Vec<_> = saved
        .shortened
        .iter()
        .map(|s| credential_policy::shortened_mail(&m.app.settings.public_url, s))
        .collect();
    actix_web::rt::spawn(async move {
        for mail in mails {
            if let Err(e) = mailer.send(mail).await {
                tracing::warn!(error = %e, "a shortened-token notice could not be sent");
            }
        }
    });
    let mut text = String::from("Credential policy saved.");
    if !saved.shortened.is_empty() {
        text.push_str(&format!(
            " {} token(s) now expire sooner; their owners were mailed.",
            saved.shortened.len()
        ));
    }
    if !members_may_create {
        text.push_str(&format!(
            " Members can no longer create tokens; {} active member token(s) keep working.",
            saved.active_member_tokens
        ));
    }
    Ok(m.redirect_with_flash(paths::COMPANY, FlashKind::Success, &text))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::COMPANY, web::get().to(show))
        .route(
            paths::COMPANY_CREDENTIAL_POLICY,
            web::post().to(save_policy),
        )
        .route(paths::COMPANY, web::post().to(save))
        .route(paths::TRANSFER_OWNERSHIP, web::post().to(transfer))
        .route(paths::DOMAIN_VERIFY, web::post().to(verify_domain));
}

#[derive(Debug, Default, Deserialize)]
pub struct VerifyDomainForm {
    #[serde(default)]
    domain: String,
}

/// "Verify now" beside a pending domain.
async fn verify_domain(
    m: Member,
    form: web::Form<VerifyDomainForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    let domain = form.into_inner().domain.trim().to_lowercase();
    let back = paths::COMPANY;
    Ok(
        match team::verify_domain(&m.app.db, m.acting(), domain, m.app.dns.clone()).await {
            Ok(d) => m.redirect_with_flash(
                back,
                FlashKind::Success,
                &format!("{} is verified.", d.domain),
            ),
            Err(AppError::Refused(r)) => m.redirect_with_flash(back, FlashKind::Error, &r.message),
            Err(e) => return Err(e),
        },
    )
}
