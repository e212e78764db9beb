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
use crate::services::credentials::{self, Grace, KeyChange};
use crate::services::usage;

use super::context::Member;
use super::integrations::{cut_over_note, expiry_from_preset, RegenerateForm, RegeneratePage};
use super::page::{render, render_with_status, FlashKind, FormErrors, Shell};
use super::usage_view::UsageView;
use super::views::{fmt_date, fmt_time, CredentialLists, CredentialRow};
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
    /// What the one-time secret replaced, when it came from "Regenerate…".
    new_secret_note: String,
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
    let prefixes: std::collections::HashMap<ApiKeyId, String> = keys
        .iter()
        .map(|(k, _)| (k.id.clone(), k.prefix.clone()))
        .collect();
    let prefix_of = |id: &Option<ApiKeyId>| {
        id.as_ref()
            .map(|id| prefixes.get(id).cloned().unwrap_or_else(|| id.to_string()))
    };
    let rows = keys
        .into_iter()
        .map(|(k, creator)| CredentialRow {
            replaced_by: prefix_of(&k.replaced_by),
            replaces: prefix_of(&k.replaces),
            works_until: k
                .superseded_at
                .filter(|s| *s > at && k.revoked_at.is_none())
                .map(|s| fmt_time(Some(s))),
            status: k.status(at).label(),
            expiry: Expiry::of(Some(k.expires_at), at),
            expires_at: Some(k.expires_at),
            detail_href: paths::admin_api_key(&k.id),
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
        new_secret_note: String::new(),
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

async fn find_key(m: &Member, id: ApiKeyId) -> Result<PlatformApiKey, AppError> {
    let company = m.me.company.id.clone();
    m.app
        .db
        .run(move |conn| PlatformApiKey::find_in_company(conn, &company, &id))
        .await?
        .ok_or(AppError::NotFound)
}

fn regenerate_page(shell: Shell, key: &PlatformApiKey, errors: FormErrors) -> RegeneratePage {
    RegeneratePage {
        name: key.name.clone(),
        prefix: key.prefix.clone(),
        action: paths::admin_api_key_regenerate(&key.id),
        back: paths::ADMIN_API_KEYS,
        back_label: "Platform API Keys",
        ..RegeneratePage::new(shell, "API key", Grace::DEFAULT, errors)
    }
}

/// "Regenerate…": the choice of how long the old key keeps working.
async fn regenerate_form(
    m: Member,
    shell: Shell,
    id: web::Path<ApiKeyId>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageApiKeys)?;
    let key = find_key(&m, id.into_inner()).await?;
    render(&regenerate_page(shell, &key, FormErrors::default()))
}

async fn regenerate(
    m: Member,
    shell: Shell,
    id: web::Path<ApiKeyId>,
    form: web::Form<RegenerateForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageApiKeys)?;
    let id = id.into_inner();
    let grace = match Grace::parse(&form.into_inner().grace) {
        Ok(grace) => grace,
        Err(refusal) => {
            let key = find_key(&m, id).await?;
            let errors = FormErrors(vec![refusal.as_field_error("grace")]);
            return render_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &regenerate_page(shell, &key, errors),
            );
        }
    };
    let keys = m.app.keys.clone();
    let done = credentials::regenerate_api_key(&m.app.db, keys, m.acting(), id, grace).await?;
    let rows = load_rows(&m).await?;
    render(&ApiKeysPage {
        new_secret: Some(tokens::reveal(&done.issued).to_owned()),
        new_secret_name: done.successor.name,
        new_secret_note: cut_over_note(&done.predecessor.prefix, grace, done.cut_over),
        ..page(shell, rows, m.now)
    })
}

#[derive(Template)]
#[template(path = "admin/api_key.html")]
struct ApiKeyPage {
    shell: Shell,
    section: &'static str,
    credential: CredentialRow,
    usage: UsageView,
}

/// One of the company's keys, with its usage.
async fn key_page(
    m: Member,
    shell: Shell,
    id: web::Path<ApiKeyId>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageApiKeys)?;
    let key = find_key(&m, id.into_inner()).await?;
    let report = usage::report(&m.app.db, key.id.to_string(), m.now).await?;
    // The row as the list shows it (creator's name, predecessor and successor).
    let id = key.id.to_string();
    let lists = load_rows(&m).await?;
    let credential = lists
        .active
        .into_iter()
        .chain(lists.inactive)
        .find(|row| row.id == id)
        .ok_or(AppError::NotFound)?;
    render(&ApiKeyPage {
        shell,
        section: "api-keys",
        credential,
        usage: UsageView::build(report, m.now),
    })
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::ADMIN_API_KEYS, web::get().to(list))
        .route(paths::ADMIN_API_KEYS, web::post().to(create))
        .route(paths::ADMIN_API_KEY_DEACTIVATE, web::post().to(deactivate))
        .route(paths::ADMIN_API_KEY_ACTIVATE, web::post().to(activate))
        .route(paths::ADMIN_API_KEY_REVOKE, web::post().to(revoke))
        .route(
            paths::ADMIN_API_KEY_REGENERATE,
            web::get().to(regenerate_form),
        )
        .route(paths::ADMIN_API_KEY_REGENERATE, web::post().to(regenerate))
        .route(paths::ADMIN_API_KEY, web::get().to(key_page));
}
