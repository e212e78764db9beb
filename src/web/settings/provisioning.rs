//! Settings → Provisioning: SCIM for the company's identity provider (owners and admins). The
//! SCIM secret is shown once, on the page that generated it; the successor receives the work
//! of the people the identity provider deprovisions.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::tokens;
use crate::authz::Action;
use crate::domain::{FieldError, Role, UserId};
use crate::error::{AppError, RefusalKind};
use crate::paths;
use crate::services::scim::{self, Provisioning};
use crate::web::context::Member;
use crate::web::page::{render, render_with_status, FlashKind, FormErrors, Shell};
use crate::web::views::When;

/// One option of the successor select.
pub struct SuccessorChoice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "settings/provisioning.html")]
struct ProvisioningPage {
    shell: Shell,
    section: &'static str,
    enabled: bool,
    company_id: String,
    /// `/scim/v2` (Okta, Entra ID) and `/scim` (meetergo's documented path), absolute.
    base_url: String,
    legacy_base_url: String,
    secret_prefix: Option<String>,
    secret_created: Option<When>,
    secret_last_used: Option<When>,
    successors: Vec<SuccessorChoice>,
    errors: FormErrors,
    new_secret: Option<String>,
    new_secret_name: String,
    new_secret_note: String,
}

fn page(shell: Shell, m: &Member, p: Provisioning) -> ProvisioningPage {
    let public = m.app.settings.public_url.trim_end_matches('/');
    let chosen = p.config.successor_id.clone();
    let owner = p.candidates.iter().find(|u| u.role() == Role::Owner);
    let mut successors = vec![SuccessorChoice {
        value: String::new(),
        label: match owner {
            Some(o) => format!("The owner ({}, {})", o.name, o.email),
            None => "The owner".to_owned(),
        },
        selected: chosen.is_none(),
    }];
    successors.extend(p.candidates.iter().map(|u| SuccessorChoice {
        value: u.id.to_string(),
        label: format!("{} ({})", u.name, u.email),
        selected: chosen.as_ref() == Some(&u.id),
    }));
    ProvisioningPage {
        shell,
        section: "provisioning",
        enabled: p.config.enabled,
        company_id: m.me.company.id.to_string(),
        base_url: format!("{public}{}", paths::scim::SCOPE_V2),
        legacy_base_url: format!("{public}{}", paths::scim::SCOPE),
        secret_created: When::of(p.config.secret_created_at, m.now),
        secret_last_used: When::of(p.config.secret_last_used_at, m.now),
        secret_prefix: p.config.secret_prefix,
        successors,
        errors: FormErrors::default(),
        new_secret: None,
        new_secret_name: String::new(),
        new_secret_note: String::new(),
    }
}

async fn load(m: &Member, shell: Shell) -> Result<ProvisioningPage, AppError> {
    let p = scim::provisioning(&m.app.db, m.me.company.id.clone(), m.now).await?;
    Ok(page(shell, m, p))
}

async fn show(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageProvisioning)?;
    render(&load(&m, shell).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    enabled: Option<String>,
    #[serde(default)]
    scim_successor: String,
}

async fn save(
    m: Member,
    shell: Shell,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageProvisioning)?;
    let form = form.into_inner();
    let chosen = form.scim_successor.trim();
    let successor = if chosen.is_empty() {
        Ok(None)
    } else {
        chosen.parse::<UserId>().map(Some).map_err(|_| {
            FieldError::new("scim_successor", "Choose an active member of your company.")
        })
    };
    let outcome = match successor {
        Err(e) => Err(vec![e]),
        Ok(successor) => {
            match scim::save_settings(&m.app.db, m.acting(), form.enabled.is_some(), successor)
                .await
            {
                Ok(()) => Ok(()),
                Err(AppError::Refused(r)) if r.kind == RefusalKind::Invalid => {
                    Err(vec![r.as_field_error("scim_successor")])
                }
                Err(e) => return Err(e),
            }
        }
    };
    match outcome {
        Ok(()) => Ok(m.redirect_with_flash(
            paths::PROVISIONING,
            FlashKind::Success,
            "Provisioning settings saved.",
        )),
        Err(errors) => {
            let mut p = load(&m, shell).await?;
            p.enabled = form.enabled.is_some();
            p.errors = FormErrors(errors);
            render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}

async fn generate(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageProvisioning)?;
    let had = scim::provisioning(&m.app.db, m.me.company.id.clone(), m.now)
        .await?
        .config
        .secret_prefix;
    let issued = scim::generate_secret(&m.app.db, m.app.keys.clone(), m.acting()).await?;
    let mut p = load(&m, shell).await?;
    p.new_secret = Some(tokens::reveal(&issued).to_owned());
    p.new_secret_name = "SCIM secret".to_owned();
    if let Some(old) = had {
        p.new_secret_note = format!("It replaces {old}, which stopped working just now.");
    }
    render(&p)
}

async fn revoke(m: Member) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageProvisioning)?;
    scim::revoke_secret(&m.app.db, m.acting()).await?;
    Ok(m.redirect_with_flash(
        paths::PROVISIONING,
        FlashKind::Success,
        "SCIM secret revoked. Your identity provider can no longer provision until you generate a new one.",
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::PROVISIONING, web::get().to(show))
        .route(paths::PROVISIONING, web::post().to(save))
        .route(paths::PROVISIONING_SECRET, web::post().to(generate))
        .route(paths::PROVISIONING_SECRET_REVOKE, web::post().to(revoke));
}
