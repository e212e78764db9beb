//! Settings → API: the company's Platform API Keys (owners and admins).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::tokens;
use crate::authz::Action;
use crate::db::models::PlatformApiKey;
use crate::domain::ApiKeyId;
use crate::error::AppError;
use crate::paths;
use crate::services::credentials::{self, KeyChange};

use super::context::Member;
use super::integrations::expiry_from_preset;
use super::page::{render, render_with_status, FlashKind, FormErrors, Shell};
use super::views::{fmt_date, fmt_time, key_detail_path, CredentialLists, CredentialRow};
use crate::domain::Expiry;

const KEY_EXPIRY_OPTIONS: &[(&str, &str)] = &[
    ("7", "7 days"),
    ("30", "30 days"),
    ("60", "60 days"),
    ("90", "90 days"),
    ("custom", "Custom date"),
];

#[derive(Template)]
#[template(path = "admin/api_keys.html")]
struct ApiKeysPage {
    shell: Shell,
    section: &'static str,
    keys: CredentialLists,
    new_secret: Option<String>,
    new_secret_name: String,
    form_name: String,
    form_expiry: String,
    form_custom: String,
    errors: FormErrors,
    today: String,
    expiry_options: &'static [(&'static str, &'static str)],
    max_date: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expiry: String,
    #[serde(default)]
    expires_at: String,
}

async fn load_rows(m: &Member) -> Result<CredentialLists, AppError> {
    let company = m.me.company.id.clone();
    let keys = m
        .app
        .db
        .run(move |conn| PlatformApiKey::list_for_company(conn, &company))
        .await?;
    let at = m.now;
    let rows = keys
        .into_iter()
        .map(|(k, creator)| CredentialRow {
            status: k.status(at).label(),
            expiry: Expiry::of(Some(k.expires_at), at),
            expires_at: Some(k.expires_at),
            detail_href: key_detail_path(&k.id),
            id: k.id.to_string(),
            name: k.name,
            prefix: k.prefix,
            created_by: creator,
            created: fmt_time(Some(k.created_at)),
            expires: fmt_date(Some(k.expires_at)),
            last_used: fmt_time(k.last_used_at),
            last_used_ip: k.last_used_ip.unwrap_or_default(),
        })
        .collect();
    Ok(CredentialLists::split(rows))
}

fn page(shell: Shell, keys: CredentialLists, now: chrono::NaiveDateTime) -> ApiKeysPage {
    let today = now.date();
    ApiKeysPage {
        shell,
        section: "api-keys",
        keys,
        new_secret: None,
        new_secret_name: String::new(),
        form_name: String::new(),
        form_expiry: "30".into(),
        form_custom: String::new(),
        errors: FormErrors::default(),
        today: today.to_string(),
        expiry_options: KEY_EXPIRY_OPTIONS,
        max_date: (today + chrono::Duration::days(credentials::API_KEY_MAX_DAYS)).to_string(),
    }
}

async fn list(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageApiKeys)?;
    let keys = load_rows(&m).await?;
    render(&page(shell, keys, m.now))
}

async fn create(
    m: Member,
    shell: Shell,
    form: web::Form<NewKeyForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageApiKeys)?;
    let form = form.into_inner();
    let expires_at = if form.expiry == "none" {
        String::new()
    } else {
        expiry_from_preset(&form.expiry, &form.expires_at, m.now)
    };
    let outcome = match credentials::parse_request(&form.name, &expires_at, true, m.now) {
        Err(errors) => Err(errors),
        Ok(request) => {
            let keys = m.app.keys.clone();
            match credentials::create_api_key(&m.app.db, keys, m.acting(), request).await {
                Ok(created) => Ok(created),
                Err(AppError::Refused(r)) => Err(vec![r.as_field_error("name")]),
                Err(e) => return Err(e),
            }
        }
    };
    let rows = load_rows(&m).await?;
    match outcome {
        Ok((key, issued)) => render(&ApiKeysPage {
            new_secret: Some(tokens::reveal(&issued).to_owned()),
            new_secret_name: key.name,
            ..page(shell, rows, m.now)
        }),
        Err(errors) => render_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ApiKeysPage {
                form_name: form.name,
                form_expiry: if form.expiry.is_empty() {
                    "custom".into()
                } else {
                    form.expiry
                },
                form_custom: form.expires_at,
                errors: FormErrors(errors),
                ..page(shell, rows, m.now)
            },
        ),
    }
}

async fn change(m: Member, id: ApiKeyId, change: KeyChange) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageApiKeys)?;
    let key = credentials::change_api_key(&m.app.db, m.acting(), id, change).await?;
    let what = match change {
        KeyChange::Deactivate => "deactivated. It stops working until you activate it again",
        KeyChange::Activate => "activated. It works again",
        KeyChange::Revoke => "revoked. It can never be used again",
    };
    Ok(m.redirect_with_flash(
        paths::ADMIN_API_KEYS,
        FlashKind::Success,
        &format!("API key \u{201c}{}\u{201d} {what}.", key.name),
    ))
}

async fn deactivate(m: Member, id: web::Path<ApiKeyId>) -> Result<HttpResponse, AppError> {
    change(m, id.into_inner(), KeyChange::Deactivate).await
}

async fn activate(m: Member, id: web::Path<ApiKeyId>) -> Result<HttpResponse, AppError> {
    change(m, id.into_inner(), KeyChange::Activate).await
}

async fn revoke(m: Member, id: web::Path<ApiKeyId>) -> Result<HttpResponse, AppError> {
    change(m, id.into_inner(), KeyChange::Revoke).await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::ADMIN_API_KEYS, web::get().to(list))
        .route(paths::ADMIN_API_KEYS, web::post().to(create))
        .route(paths::ADMIN_API_KEY_DEACTIVATE, web::post().to(deactivate))
        .route(paths::ADMIN_API_KEY_ACTIVATE, web::post().to(activate))
        .route(paths::ADMIN_API_KEY_REVOKE, web::post().to(revoke));
}
