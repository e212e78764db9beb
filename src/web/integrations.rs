//! Integrations → API: each user's own Personal Access Tokens.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::auth::tokens;
use crate::db::models::PersonalAccessToken;
use crate::domain::TokenId;
use crate::error::{AppError, RefusalKind};
use crate::paths;
use crate::services::credentials::{self, Grace};
use crate::services::usage;

use super::context::Member;
use super::page::{render, render_with_status, FlashKind, FormErrors, Shell};
use super::usage_view::UsageView;
use super::views::{fmt_date, fmt_time, CredentialLists, CredentialRow};
use crate::domain::Expiry;

const PAT_EXPIRY_OPTIONS: &[(&str, &str)] = &[
    ("7", "7 days"),
    ("30", "30 days"),
    ("60", "60 days"),
    ("90", "90 days"),
    ("none", "No expiry"),
    ("custom", "Custom date"),
];

/// Under a company's maximum lifetime there is no "No expiry".
const PAT_EXPIRY_OPTIONS_LIMITED: &[(&str, &str)] = &[
    ("7", "7 days"),
    ("30", "30 days"),
    ("60", "60 days"),
    ("90", "90 days"),
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
    /// What the one-time secret replaced, when it came from "Regenerate…".
    new_secret_note: String,
    /// Why this member may not create tokens (the form is not shown then).
    creation_refused: Option<String>,
    max_lifetime_days: Option<i32>,
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
    let prefixes: std::collections::HashMap<TokenId, String> = tokens
        .iter()
        .map(|t| (t.id.clone(), t.prefix.clone()))
        .collect();
    let prefix_of = |id: &Option<TokenId>| {
        id.as_ref()
            .map(|id| prefixes.get(id).cloned().unwrap_or_else(|| id.to_string()))
    };
    tokens
        .into_iter()
        .map(|t| CredentialRow {
            replaced_by: prefix_of(&t.replaced_by),
            replaces: prefix_of(&t.replaces),
            works_until: t
                .superseded_at
                .filter(|s| *s > at && t.revoked_at.is_none())
                .map(|s| fmt_time(Some(s))),
            status: t.status(at).label(),
            expiry: Expiry::of(t.expires_at, at),
            expires_at: t.expires_at,
            detail_href: paths::api_token(&t.id),
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
    render(&page(&m, shell, tokens).await?)
}

/// The page, with the form as the company's policy allows it for this member.
async fn page(m: &Member, shell: Shell, tokens: CredentialLists) -> Result<TokensPage, AppError> {
    let base = bare_page(shell, tokens, m.now);
    Ok(
        match credentials::may_create_pat(&m.app.db, m.me.user.clone()).await? {
            Ok(policy) => TokensPage {
                max_lifetime_days: policy.max_lifetime_days,
                expiry_options: if policy.max_lifetime_days.is_some() {
                    PAT_EXPIRY_OPTIONS_LIMITED
                } else {
                    PAT_EXPIRY_OPTIONS
                },
                ..base
            },
            Err(why) => TokensPage {
                creation_refused: Some(why),
                ..base
            },
        },
    )
}

fn bare_page(shell: Shell, tokens: CredentialLists, now: NaiveDateTime) -> TokensPage {
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
        new_secret_note: String::new(),
        creation_refused: None,
        max_lifetime_days: None,
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
                Err(AppError::Refused(r)) if r.kind == RefusalKind::Invalid => {
                    Err(vec![r.as_field_error("name")])
                }
                Err(e) => return Err(e),
            }
        }
    };
    let base = page(&m, shell, load_rows(&m).await?).await?;
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

/// "Regenerate…": the choice of how long the old token keeps working.
async fn regenerate_form(
    m: Member,
    shell: Shell,
    id: web::Path<TokenId>,
) -> Result<HttpResponse, AppError> {
    let (owner, id) = (m.me.user.id.clone(), id.into_inner());
    let token = m
        .app
        .db
        .run(move |conn| PersonalAccessToken::find_for_user(conn, &owner, &id))
        .await?
        .ok_or(AppError::NotFound)?;
    render(&RegeneratePage::for_token(
        shell,
        &token,
        Grace::DEFAULT,
        FormErrors::default(),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct RegenerateForm {
    #[serde(default)]
    pub grace: String,
}

async fn regenerate_token(
    m: Member,
    shell: Shell,
    id: web::Path<TokenId>,
    form: web::Form<RegenerateForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let grace = match Grace::parse(&form.grace) {
        Ok(grace) => grace,
        Err(refusal) => {
            let (owner, id) = (m.me.user.id.clone(), id.clone());
            let token = m
                .app
                .db
                .run(move |conn| PersonalAccessToken::find_for_user(conn, &owner, &id))
                .await?
                .ok_or(AppError::NotFound)?;
            let errors = FormErrors(vec![refusal.as_field_error("grace")]);
            return render_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &RegeneratePage::for_token(shell, &token, Grace::DEFAULT, errors),
            );
        }
    };
    let keys = m.app.keys.clone();
    let done = credentials::regenerate_pat(&m.app.db, keys, m.acting(), id, grace).await?;
    let base = page(&m, shell, load_rows(&m).await?).await?;
    // The one and only time the new token is sent, as at creation.
    render(&TokensPage {
        new_secret: Some(tokens::reveal(&done.issued).to_owned()),
        new_secret_name: done.successor.name,
        new_secret_note: cut_over_note(&done.predecessor.prefix, grace, done.cut_over),
        ..base
    })
}

/// What the page says about the predecessor after "Regenerate".
pub fn cut_over_note(old_prefix: &str, grace: Grace, cut_over: NaiveDateTime) -> String {
    match grace {
        Grace::None => format!("The old one ({old_prefix}) stopped working."),
        _ => format!(
            "The old one ({old_prefix}) keeps working until the new one is first used, or until {} at the latest.",
            fmt_time(Some(cut_over))
        ),
    }
}

/// The confirmation page of "Regenerate…", for a token or a key.
#[derive(Template)]
#[template(path = "credentials/regenerate.html")]
pub struct RegeneratePage {
    pub shell: Shell,
    pub what: &'static str,
    pub name: String,
    pub prefix: String,
    pub action: String,
    pub back: &'static str,
    pub back_label: &'static str,
    pub graces: Vec<(&'static str, &'static str)>,
    pub grace: &'static str,
    pub errors: FormErrors,
}

impl RegeneratePage {
    pub fn new(shell: Shell, what: &'static str, grace: Grace, errors: FormErrors) -> Self {
        Self {
            shell,
            what,
            name: String::new(),
            prefix: String::new(),
            action: String::new(),
            back: paths::API_TOKENS,
            back_label: "Personal Access Tokens",
            graces: Grace::ALL.iter().map(|g| (g.as_str(), g.label())).collect(),
            grace: grace.as_str(),
            errors,
        }
    }

    fn for_token(shell: Shell, t: &PersonalAccessToken, grace: Grace, errors: FormErrors) -> Self {
        Self {
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            action: paths::api_token_regenerate(&t.id),
            ..Self::new(shell, "token", grace, errors)
        }
    }
}

#[derive(Template)]
#[template(path = "integrations/token.html")]
struct TokenPage {
    shell: Shell,
    credential: CredentialRow,
    usage: UsageView,
}

/// One of the member's own tokens, with its usage; anyone else's is not found.
async fn token_page(
    m: Member,
    shell: Shell,
    id: web::Path<TokenId>,
) -> Result<HttpResponse, AppError> {
    let (me, id) = (m.me.user.id.clone(), id.into_inner());
    let token = m
        .app
        .db
        .run(move |conn| PersonalAccessToken::find_for_user(conn, &me, &id))
        .await?
        .ok_or(AppError::NotFound)?;
    let report = usage::report(&m.app.db, token.id.to_string(), m.now).await?;
    let credential = rows(vec![token], m.now).pop().ok_or(AppError::NotFound)?;
    render(&TokenPage {
        shell,
        credential,
        usage: UsageView::build(report, m.now),
    })
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::INTEGRATIONS, web::get().to(integrations))
        .route(paths::API_TOKENS, web::get().to(tokens_page))
        .route(paths::API_TOKEN_CREATE, web::post().to(create_token))
        .route(paths::API_TOKEN_REVOKE, web::post().to(revoke_token))
        .route(paths::API_TOKEN_REGENERATE, web::get().to(regenerate_form))
        .route(
            paths::API_TOKEN_REGENERATE,
            web::post().to(regenerate_token),
        )
        .route(paths::API_TOKEN, web::get().to(token_page));
}
