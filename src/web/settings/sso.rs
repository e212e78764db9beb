//! Settings → SSO: this company's SAML identity provider and "Enforce SSO".

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::saml;
use crate::auth::session::CurrentUser;
use crate::authz::Action;
use crate::config::Settings;
use crate::db::models::SamlConfig;
use crate::db::schema::companies;
use crate::db::Db;
use crate::domain::FieldError;
use crate::error::AppError;
use crate::services::audit::{self, AuditKind, Event, Origin};
use crate::web::page::{
    redirect_with_flash, render, render_with_status, FlashKind, FormErrors, Shell,
};
use crate::web::paths;
use crate::web::require;
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

const CHANGED_MEANWHILE: &str =
    "Someone changed the single sign-on settings meanwhile. Reload the page to see them, then make your change again.";

async fn page(
    shell: Shell,
    me: &CurrentUser,
    db: &Db,
    settings: &Settings,
) -> Result<SsoPage, AppError> {
    let company = me.company.id.clone();
    let config = db.run(move |conn| SamlConfig::find(conn, &company)).await?;
    let urls = saml::sp_urls(&settings.public_url, &me.company.slug);
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

async fn show(
    shell: Shell,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
    settings: web::Data<Settings>,
) -> Result<HttpResponse, AppError> {
    require(&me, Action::ViewAdminArea)?;
    render(&page(shell, &me, &db, &settings).await?)
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

async fn save(
    req: HttpRequest,
    shell: Shell,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    form: web::Form<SsoForm>,
) -> Result<HttpResponse, AppError> {
    require(&me, Action::ManageSso)?;
    let me = me.into_inner();
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
    let existing = db.run(move |conn| SamlConfig::find(conn, &company)).await?;
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
        let mut p = page(shell, &me, &db, &settings).await?;
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
    let (actor, origin) = (me.user.clone(), Origin::of(&req));
    db.transaction(move |conn| {
        if !config.save_over(conn, version.0)? {
            return Err(AppError::Conflict(CHANGED_MEANWHILE.into()));
        }
        diesel::update(companies::table.find(&actor.company_id))
            .set(companies::sso_enforced.eq(enforce))
            .execute(conn)?;
        audit::record(
            conn,
            &origin,
            Event::new(AuditKind::SsoConfigChanged)
                .company(&actor.company_id)
                .actor(&actor.id)
                .detail(format!(
                    "idp {}; sha1 {}; idp-initiated {}; enforce {}",
                    config.idp_entity_id, allow_sha1, allow_idp_initiated, enforce
                )),
        )?;
        Ok(())
    })
    .await?;
    Ok(redirect_with_flash(
        &req,
        paths::SSO_SETTINGS,
        FlashKind::Success,
        "Single sign-on settings saved.",
    ))
}

async fn remove(
    req: HttpRequest,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    require(&me, Action::ManageSso)?;
    let (actor, origin) = (me.into_inner().user, Origin::of(&req));
    db.transaction(move |conn| {
        if SamlConfig::delete(conn, &actor.company_id)? == 0 {
            return Err(AppError::Conflict(CHANGED_MEANWHILE.into()));
        }
        diesel::update(companies::table.find(&actor.company_id))
            .set(companies::sso_enforced.eq(false))
            .execute(conn)?;
        audit::record(
            conn,
            &origin,
            Event::new(AuditKind::SsoConfigChanged)
                .company(&actor.company_id)
                .actor(&actor.id)
                .detail("SAML removed; enforce off"),
        )?;
        Ok(())
    })
    .await?;
    Ok(redirect_with_flash(
        &req,
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
