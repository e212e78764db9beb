//! Settings → SSO: this company's SAML identity provider and "Enforce SSO".

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::saml;
use crate::authz::Action;
use crate::db::models::SamlConfig;
use crate::domain::FieldError;
use crate::error::AppError;
use crate::paths;
use crate::services::sso_settings;
use crate::web::context::Member;
use crate::web::page::{render, render_with_status, FlashKind, FormErrors, Shell};
use crate::web::views::Version;

#[derive(Template)]
#[template(path = "settings/sso.html")]
struct SsoPage {
    shell: Shell,
    section: &'static str,
    entity_id: String,
    acs_url: String,
    metadata_url: String,
    configured: Option<(String, String)>,
    allow_sha1: bool,
    allow_idp_initiated: bool,
    enforce_sso: bool,
    metadata_xml: String,
    errors: FormErrors,
    can_manage: bool,
    /// The saved configuration the form edits: its `updated_at` (see `Version`).
    version: Version,
}

async fn page(shell: Shell, m: &Member) -> Result<SsoPage, AppError> {
    let me = &m.me;
    let company = me.company.id.clone();
    let config = m
        .app
        .db
        .run(move |conn| SamlConfig::find(conn, &company))
        .await?;
    let urls = saml::sp_urls(&m.app.settings.public_url, &me.company.slug);
    Ok(SsoPage {
        shell,
        section: "sso",
        entity_id: urls.entity_id,
        acs_url: urls.acs_url,
        metadata_url: urls.metadata_url,
        allow_sha1: config.as_ref().is_some_and(|c| c.allow_sha1),
        allow_idp_initiated: config.as_ref().is_some_and(|c| c.allow_idp_initiated),
        version: Version(config.as_ref().map(|c| c.updated_at)),
        configured: config.map(|c| (c.idp_entity_id, c.idp_sso_url)),
        enforce_sso: me.company.sso_enforced,
        metadata_xml: String::new(),
        errors: FormErrors::default(),
        can_manage: crate::authz::authorize(
            crate::authz::Actor::Member(&me.user),
            Action::ManageSso,
        )
        .is_ok(),
    })
}

async fn show(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    m.require(Action::ViewAdminArea)?;
    render(&page(shell, &m).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct SsoForm {
    #[serde(default)]
    metadata_xml: String,
    allow_sha1: Option<String>,
    allow_idp_initiated: Option<String>,
    enforce_sso: Option<String>,
    /// The page's `Version`; without it, the configuration read by this request.
    version: Option<String>,
}

async fn save(m: Member, shell: Shell, form: web::Form<SsoForm>) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageSso)?;
    let me = &m.me;
    let form = form.into_inner();
    let (allow_sha1, allow_idp_initiated, enforce) = (
        form.allow_sha1.is_some(),
        form.allow_idp_initiated.is_some(),
        form.enforce_sso.is_some(),
    );
    let pasted = form.metadata_xml.trim().to_owned();
    let parsed = if pasted.is_empty() {
        None
    } else {
        Some(saml::parse_idp_metadata(&pasted))
    };
    let mut errors = Vec::new();
    if let Some(Err(message)) = &parsed {
        errors.push(FieldError::new("metadata_xml", message.clone()));
    }
    let company = me.company.id.clone();
    let existing = m
        .app
        .db
        .run(move |conn| SamlConfig::find(conn, &company))
        .await?;
    let version = match form.version.as_deref() {
        Some(raw) => Version::parse(raw)?,
        None => Version(existing.as_ref().map(|c| c.updated_at)),
    };
    if errors.is_empty() && existing.is_none() && parsed.is_none() {
        errors.push(FieldError::new(
            "metadata_xml",
            "Paste your identity provider's metadata XML.",
        ));
    }
    if !errors.is_empty() {
        let mut p = page(shell, &m).await?;
        p.metadata_xml = form.metadata_xml;
        p.allow_sha1 = allow_sha1;
        p.allow_idp_initiated = allow_idp_initiated;
        p.enforce_sso = enforce;
        p.version = version;
        p.errors = FormErrors(errors);
        return render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &p);
    }
    let config = match (parsed, existing) {
        (Some(Ok(idp)), _) => SamlConfig {
            company_id: me.company.id.clone(),
            idp_entity_id: idp.entity_id,
            idp_sso_url: idp.sso_url,
            metadata_xml: pasted,
            allow_sha1,
            allow_idp_initiated,
            updated_at: version.next(),
        },
        (_, Some(existing)) => SamlConfig {
            allow_sha1,
            allow_idp_initiated,
            updated_at: version.next(),
            ..existing
        },
        _ => {
            return Err(AppError::BadRequest(
                "No identity provider metadata.".into(),
            ))
        }
    };
    sso_settings::save(&m.app.db, m.acting(), config, version.0, enforce).await?;
    Ok(m.redirect_with_flash(
        paths::SSO_SETTINGS,
        FlashKind::Success,
        "Single sign-on settings saved.",
    ))
}

async fn remove(m: Member) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageSso)?;
    sso_settings::remove(&m.app.db, m.acting()).await?;
    Ok(m.redirect_with_flash(
        paths::SSO_SETTINGS,
        FlashKind::Success,
        "SAML single sign-on removed.",
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::SSO_SETTINGS, web::get().to(show))
        .route(paths::SSO_SETTINGS, web::post().to(save))
        .route(paths::SSO_SETTINGS_REMOVE, web::post().to(remove));
}
