//! Integrations → API: each user's own Personal Access Tokens.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::auth::tokens;
use crate::db::models::PersonalAccessToken;
use crate::domain::TokenId;
use crate::error::AppError;
use crate::paths;
use crate::services::credentials;

use super::context::Member;
use super::page::{render, render_with_status, FlashKind, FormErrors, Shell};
use super::views::{fmt_date, fmt_time, pat_detail_path, CredentialLists, CredentialRow};
use crate::domain::Expiry;

const PAT_EXPIRY_OPTIONS: &[(&str, &str)] = &[
    ("7", "7 days"),
    ("30", "30 days"),
    ("60", "60 days"),
    ("90", "90 days"),
    ("none", "No expiry"),
    ("custom", "Custom date"),
];

#[derive(Template)]
#[template(path = "integrations/index.html")]
struct IntegrationsPage {
    shell: Shell,
    active_tokens: usize,
}

#[derive(Template)]
#[template(path = "integrations/api.html")]
struct TokensPage {
    shell: Shell,
    tokens: CredentialLists,
    new_secret: Option<String>,
    new_secret_name: String,
    form_name: String,
    form_expiry: String,
    form_custom: String,
    errors: FormErrors,
    today: String,
    expiry_options: &'static [(&'static str, &'static str)],
}

#[derive(Debug, Default, Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    name: String,
    /// A preset ("7", "30", "60", "90", "none", "custom").
    #[serde(default)]
    expiry: String,
    /// The date for "custom" (or a date given directly), `YYYY-MM-DD`.
    #[serde(default)]
    expires_at: String,
}

fn rows(tokens: Vec<PersonalAccessToken>, at: NaiveDateTime) -> Vec<CredentialRow> {
    tokens
        .into_iter()
        .map(|t| CredentialRow {
            status: t.status(at).label(),
            expiry: Expiry::of(t.expires_at, at),
            expires_at: t.expires_at,
            detail_href: pat_detail_path(&t.id),
            id: t.id.to_string(),
            name: t.name,
            prefix: t.prefix,
            created_by: String::new(),
            created: fmt_time(Some(t.created_at)),
            expires: t
                .expires_at
                .map(|e| fmt_date(Some(e)))
                .unwrap_or_else(|| "never".into()),
            last_used: fmt_time(t.last_used_at),
            last_used_ip: t.last_used_ip.unwrap_or_default(),
        })
        .collect()
}

async fn load_rows(m: &Member) -> Result<CredentialLists, AppError> {
    let id = m.me.user.id.clone();
    let tokens = m
        .app
        .db
        .run(move |conn| PersonalAccessToken::list_for_user(conn, &id))
        .await?;
    Ok(CredentialLists::split(rows(tokens, m.now)))
}

async fn integrations(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    let active_tokens = load_rows(&m).await?.active_count();
    render(&IntegrationsPage {
        shell,
        active_tokens,
    })
}

async fn tokens_page(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    let tokens = load_rows(&m).await?;
    render(&page(shell, tokens, m.now))
}

fn page(shell: Shell, tokens: CredentialLists, now: NaiveDateTime) -> TokensPage {
    TokensPage {
        shell,
        tokens,
        new_secret: None,
        new_secret_name: String::new(),
        form_name: String::new(),
        form_expiry: "30".into(),
        form_custom: String::new(),
        errors: FormErrors::default(),
        today: now.date().to_string(),
        expiry_options: PAT_EXPIRY_OPTIONS,
    }
}

/// Turns a preset into a date string: "30" → today + 30 days; "none" → "".
pub fn expiry_from_preset(preset: &str, custom: &str, now: NaiveDateTime) -> String {
    match preset.trim() {
        "none" => String::new(),
        "custom" | "" => custom.trim().to_owned(),
        days => match days.parse::<i64>() {
            Ok(d) if (1..=3650).contains(&d) => {
                (now.date() + chrono::Duration::days(d)).to_string()
            }
            _ => "invalid".into(),
        },
    }
}

async fn create_token(
    m: Member,
    shell: Shell,
    form: web::Form<NewTokenForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let expires_at = expiry_from_preset(&form.expiry, &form.expires_at, m.now);
    let outcome = match credentials::parse_request(&form.name, &expires_at, false, m.now) {
        Err(errors) => Err(errors),
        Ok(request) => {
            let keys = m.app.keys.clone();
            match credentials::create_pat(&m.app.db, keys, m.acting(), request).await {
                Ok(created) => Ok(created),
                Err(AppError::Refused(r)) => Err(vec![r.as_field_error("name")]),
                Err(e) => return Err(e),
            }
        }
    };
    let base = page(shell, load_rows(&m).await?, m.now);
    match outcome {
        // The one and only time the clear token is sent; the response is not cached.
        Ok((token, issued)) => render(&TokensPage {
            new_secret: Some(tokens::reveal(&issued).to_owned()),
            new_secret_name: token.name,
            ..base
        }),
        Err(errors) => render_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &TokensPage {
                form_name: form.name,
                form_expiry: if form.expiry.is_empty() {
                    "custom".into()
                } else {
                    form.expiry
                },
                form_custom: form.expires_at,
                errors: FormErrors(errors),
                ..base
            },
        ),
    }
}

async fn revoke_token(m: Member, id: web::Path<TokenId>) -> Result<HttpResponse, AppError> {
    let token = credentials::revoke_pat(&m.app.db, m.acting(), id.into_inner()).await?;
    Ok(m.redirect_with_flash(
        paths::API_TOKENS,
        FlashKind::Success,
        &format!(
            "Token \u{201c}{}\u{201d} revoked. It no longer works.",
            token.name
        ),
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::INTEGRATIONS, web::get().to(integrations))
        .route(paths::API_TOKENS, web::get().to(tokens_page))
        .route(paths::API_TOKEN_CREATE, web::post().to(create_token))
        .route(paths::API_TOKEN_REVOKE, web::post().to(revoke_token));
}
