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
use super::integrations::shown_once::{self, NewSecret, OneTime};
use super::integrations::{
    chosen_expiry, cut_over_note, preset_to_echo, DescribeForm, NewQuery, RegenerateForm,
    RegeneratePage,
};
use super::page::{redirect, render, render_with_status, FlashKind, FormErrors, Shell};
use super::usage_view::UsageView;
use super::views::{fmt_time, CredentialLists, CredentialRow, ExpiryChoice, When};
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
    /// The new key after a create or regenerate, or the words for "already shown".
    one_time: OneTime,
    what: &'static str,
    form_name: String,
    form_expiry: String,
    form_custom: String,
    errors: FormErrors,
    today: String,
    expiry_options: Vec<ExpiryChoice>,
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
            created: When::at(k.created_at, at),
            expires: Some(When::at(k.expires_at, at)),
            last_used: When::of(k.last_used_at, at),
            last_used_ip: k.last_used_ip.unwrap_or_default(),
            note: k.note.unwrap_or_default(),
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
        one_time: OneTime::Nothing,
        what: "key",
        form_name: String::new(),
        form_expiry: "30".into(),
        form_custom: String::new(),
        errors: FormErrors::default(),
        today: today.to_string(),
        expiry_options: ExpiryChoice::list(KEY_EXPIRY_OPTIONS, now),
        max_date: (today + chrono::Duration::days(credentials::API_KEY_MAX_DAYS))
            .format("%-d %b %Y")
            .to_string(),
    }
}

async fn list(
    m: Member,
    shell: Shell,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageApiKeys)?;
    let keys = load_rows(&m).await?;
    // `?new=<id>` of one of the company's working keys: the box for the key just issued.
    let new = query
        .into_inner()
        .new
        .filter(|id| keys.active.iter().any(|k| k.id == *id));
    let one_time = shown_once::one_time(
        &m.req,
        &m.app.keys,
        &m.me.user.id,
        new.as_deref(),
        m.now,
        |id: &str| paths::admin_api_key_regenerate(id),
    );
    render(&ApiKeysPage {
        one_time,
        ..page(shell, keys, m.now)
    })
}

/// Keeps the new key for one display and sends the browser to the list that shows it.
fn show_once(m: &Member, secret: NewSecret) -> HttpResponse {
    let to = format!("{}?new={}", paths::ADMIN_API_KEYS, secret.credential_id);
    shown_once::keep(&m.req, &m.app.keys, &m.me.user.id, secret, m.now);
    redirect(&to)
}

async fn create(
    m: Member,
    shell: Shell,
    form: web::Form<NewKeyForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageApiKeys)?;
    let form = form.into_inner();
    // "none" is not offered for keys; sent anyway, it asks for no date, which is refused.
    let outcome = match chosen_expiry(&form.expiry, &form.expires_at, m.now)
        .map_err(|e| vec![e])
        .and_then(|at| credentials::parse_request(&form.name, &at, true, m.now))
    {
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
    match outcome {
        // Post/redirect/get: the secret waits, sealed, in the session for one display.
        Ok((key, issued)) => Ok(show_once(
            &m,
            NewSecret {
                credential_id: key.id.to_string(),
                name: key.name,
                secret: tokens::reveal(&issued).to_owned(),
                expires_at: Some(key.expires_at),
                note: String::new(),
                kept_at: None,
            },
        )),
        Err(errors) => render_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ApiKeysPage {
                form_name: form.name,
                form_expiry: preset_to_echo(form.expiry, &form.expires_at),
                form_custom: form.expires_at,
                errors: FormErrors(errors),
                ..page(shell, load_rows(&m).await?, m.now)
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
    // Shown once after the redirect, as at creation.
    Ok(show_once(
        &m,
        NewSecret {
            credential_id: done.successor.id.to_string(),
            note: cut_over_note(&done.predecessor.prefix, grace, done.cut_over),
            name: done.successor.name,
            secret: tokens::reveal(&done.issued).to_owned(),
            expires_at: Some(done.successor.expires_at),
            kept_at: None,
        },
    ))
}

#[derive(Template)]
#[template(path = "admin/api_key.html")]
struct ApiKeyPage {
    shell: Shell,
    section: &'static str,
    credential: CredentialRow,
    usage: UsageView,
    /// The "Name and note" form: what was typed, and why it was refused.
    form_name: String,
    form_note: String,
    errors: FormErrors,
    note_max: usize,
}

/// One of the company's keys, with its usage.
async fn key_page(
    m: Member,
    shell: Shell,
    id: web::Path<ApiKeyId>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageApiKeys)?;
    render(&key_view(&m, shell, id.into_inner(), None, FormErrors::default()).await?)
}

async fn key_view(
    m: &Member,
    shell: Shell,
    id: ApiKeyId,
    typed: Option<DescribeForm>,
    errors: FormErrors,
) -> Result<ApiKeyPage, AppError> {
    let key = find_key(m, id).await?;
    let report = usage::report(&m.app.db, key.id.to_string(), m.now).await?;
    // The row as the list shows it (creator's name, predecessor and successor).
    let id = key.id.to_string();
    let lists = load_rows(m).await?;
    let credential = lists
        .active
        .into_iter()
        .chain(lists.inactive)
        .find(|row| row.id == id)
        .ok_or(AppError::NotFound)?;
    let typed = typed.unwrap_or_else(|| DescribeForm {
        name: credential.name.clone(),
        note: credential.note.clone(),
    });
    Ok(ApiKeyPage {
        shell,
        section: "api-keys",
        credential,
        usage: UsageView::build(report, m.now),
        form_name: typed.name,
        form_note: typed.note,
        errors,
        note_max: credentials::NOTE_MAX_CHARS,
    })
}

/// "Name and note" on a key's page (owners and admins).
async fn describe(
    m: Member,
    shell: Shell,
    id: web::Path<ApiKeyId>,
    form: web::Form<DescribeForm>,
) -> Result<HttpResponse, AppError> {
    m.require(Action::ManageApiKeys)?;
    let (id, form) = (id.into_inner(), form.into_inner());
    match credentials::parse_description(&form.name, &form.note) {
        Ok(description) => {
            let key = credentials::describe_api_key(&m.app.db, m.acting(), id, description).await?;
            Ok(m.redirect_with_flash(
                &paths::admin_api_key(&key.id),
                FlashKind::Success,
                &format!("Saved: the API key is called \u{201c}{}\u{201d}.", key.name),
            ))
        }
        Err(errors) => render_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &key_view(&m, shell, id, Some(form), FormErrors(errors)).await?,
        ),
    }
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
        .route(paths::ADMIN_API_KEY, web::get().to(key_page))
        .route(paths::ADMIN_API_KEY_DESCRIBE, web::post().to(describe));
}
