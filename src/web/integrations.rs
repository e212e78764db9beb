//! Integrations → API: each user's own Personal Access Tokens.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

pub mod shown_once;

use crate::auth::tokens;
use crate::db::models::PersonalAccessToken;
use crate::domain::TokenId;
use crate::error::{AppError, RefusalKind};
use crate::paths;
use crate::services::credentials::{self, Grace};
use crate::services::usage;

use super::context::Member;
use super::page::{redirect, render, render_with_status, FlashKind, FormErrors, Shell};
use super::usage_view::UsageView;
use super::views::{fmt_time, CredentialLists, CredentialRow, ExpiryChoice, When};
use crate::domain::{Expiry, FieldError};
use shown_once::{NewSecret, OneTime};

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
    /// The new token after a create or regenerate, or the words for "already shown".
    one_time: OneTime,
    what: &'static str,
    form_name: String,
    form_expiry: String,
    form_custom: String,
    errors: FormErrors,
    today: String,
    expiry_options: Vec<ExpiryChoice>,
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

/// `?new=<id>`: the list page right after a token was issued.
#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    pub new: Option<String>,
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
            created: When::at(t.created_at, at),
            expires: When::of(t.expires_at, at),
            last_used: When::of(t.last_used_at, at),
            last_used_ip: t.last_used_ip.unwrap_or_default(),
            note: t.note.unwrap_or_default(),
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

async fn tokens_page(
    m: Member,
    shell: Shell,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    let tokens = load_rows(&m).await?;
    let one_time = one_time(&m, &tokens, query.into_inner().new);
    render(&TokensPage {
        one_time,
        ..page(&m, shell, tokens).await?
    })
}

/// The one-time box for `?new=<id>`, when the id is one of the member's working tokens.
fn one_time(m: &Member, tokens: &CredentialLists, new: Option<String>) -> OneTime {
    let new = new.filter(|id| tokens.active.iter().any(|t| t.id == *id));
    shown_once::one_time(
        &m.req,
        &m.app.keys,
        &m.me.user.id,
        new.as_deref(),
        m.now,
        |id: &str| paths::api_token_regenerate(id),
    )
}

/// The page, with the form as the company's policy allows it for this member.
async fn page(m: &Member, shell: Shell, tokens: CredentialLists) -> Result<TokensPage, AppError> {
    let base = bare_page(shell, tokens, m.now);
    Ok(
        match credentials::may_create_pat(&m.app.db, m.me.user.clone()).await? {
            Ok(policy) => TokensPage {
                max_lifetime_days: policy.max_lifetime_days,
                expiry_options: ExpiryChoice::list(
                    if policy.max_lifetime_days.is_some() {
                        PAT_EXPIRY_OPTIONS_LIMITED
                    } else {
                        PAT_EXPIRY_OPTIONS
                    },
                    m.now,
                ),
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
        one_time: OneTime::Nothing,
        what: "token",
        form_name: String::new(),
        form_expiry: "30".into(),
        form_custom: String::new(),
        errors: FormErrors::default(),
        today: now.date().to_string(),
        expiry_options: ExpiryChoice::list(PAT_EXPIRY_OPTIONS, now),
        creation_refused: None,
        max_lifetime_days: None,
    }
}

/// The expiry date a form asks for, as `YYYY-MM-DD` ("" for none): a typed date wins over the
/// preset, since without JavaScript both are sent and the date is what the person typed last;
/// "30" is today + 30 days; "custom" without a date is refused beside the date field.
pub fn chosen_expiry(preset: &str, custom: &str, now: NaiveDateTime) -> Result<String, FieldError> {
    let custom = custom.trim();
    if !custom.is_empty() {
        return Ok(custom.to_owned());
    }
    match preset.trim() {
        "none" => Ok(String::new()),
        "custom" => Err(FieldError::new(
            "expires_at",
            "Enter a date, or choose one of the other expiries.",
        )),
        "" => Ok(String::new()),
        days => match days.parse::<i64>() {
            Ok(d) if (1..=3650).contains(&d) => {
                Ok((now.date() + chrono::Duration::days(d)).to_string())
            }
            _ => Err(FieldError::new("expires_at", "Choose one of the expiries.")),
        },
    }
}

/// The preset to show checked again when a form comes back with errors: "custom" when a date
/// was typed, since that is what counted.
pub fn preset_to_echo(preset: String, custom: &str) -> String {
    if preset.is_empty() || !custom.trim().is_empty() {
        "custom".into()
    } else {
        preset
    }
}

async fn create_token(
    m: Member,
    shell: Shell,
    form: web::Form<NewTokenForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let outcome = match chosen_expiry(&form.expiry, &form.expires_at, m.now)
        .map_err(|e| vec![e])
        .and_then(|at| credentials::parse_request(&form.name, &at, false, m.now))
    {
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
    match outcome {
        // Post/redirect/get: the secret waits, sealed, in the session for one display.
        Ok((token, issued)) => Ok(show_once(
            &m,
            NewSecret {
                credential_id: token.id.to_string(),
                name: token.name,
                secret: tokens::reveal(&issued).to_owned(),
                expires_at: token.expires_at,
                note: String::new(),
                kept_at: None,
            },
        )),
        Err(errors) => {
            let base = page(&m, shell, load_rows(&m).await?).await?;
            render_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &TokensPage {
                    form_name: form.name,
                    form_expiry: preset_to_echo(form.expiry, &form.expires_at),
                    form_custom: form.expires_at,
                    errors: FormErrors(errors),
                    ..base
                },
            )
        }
    }
}

/// Keeps the new token for one display and sends the browser to the list that shows it.
fn show_once(m: &Member, secret: NewSecret) -> HttpResponse {
    let to = format!("{}?new={}", paths::API_TOKENS, secret.credential_id);
    shown_once::keep(&m.req, &m.app.keys, &m.me.user.id, secret, m.now);
    redirect(&to)
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
    // Shown once after the redirect, as at creation.
    Ok(show_once(
        &m,
        NewSecret {
            credential_id: done.successor.id.to_string(),
            note: cut_over_note(&done.predecessor.prefix, grace, done.cut_over),
            name: done.successor.name,
            secret: tokens::reveal(&done.issued).to_owned(),
            expires_at: done.successor.expires_at,
            kept_at: None,
        },
    ))
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
    /// The "Name and note" form: what was typed, and why it was refused.
    form_name: String,
    form_note: String,
    errors: FormErrors,
    note_max: usize,
}

/// The name-and-note form of a detail page.
#[derive(Debug, Default, Deserialize)]
pub struct DescribeForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub note: String,
}

/// One of the member's own tokens, with its usage; anyone else's is not found.
async fn token_page(
    m: Member,
    shell: Shell,
    id: web::Path<TokenId>,
) -> Result<HttpResponse, AppError> {
    render(&token_view(&m, shell, id.into_inner(), None, FormErrors::default()).await?)
}

async fn token_view(
    m: &Member,
    shell: Shell,
    id: TokenId,
    typed: Option<DescribeForm>,
    errors: FormErrors,
) -> Result<TokenPage, AppError> {
    let me = m.me.user.id.clone();
    let token = m
        .app
        .db
        .run(move |conn| PersonalAccessToken::find_for_user(conn, &me, &id))
        .await?
        .ok_or(AppError::NotFound)?;
    let report = usage::report(&m.app.db, token.id.to_string(), m.now).await?;
    let credential = rows(vec![token], m.now).pop().ok_or(AppError::NotFound)?;
    let typed = typed.unwrap_or_else(|| DescribeForm {
        name: credential.name.clone(),
        note: credential.note.clone(),
    });
    Ok(TokenPage {
        shell,
        credential,
        usage: UsageView::build(report, m.now),
        form_name: typed.name,
        form_note: typed.note,
        errors,
        note_max: credentials::NOTE_MAX_CHARS,
    })
}

/// "Name and note" on a token's page: its owner renames it or notes what uses it.
async fn describe_token(
    m: Member,
    shell: Shell,
    id: web::Path<TokenId>,
    form: web::Form<DescribeForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let outcome = match credentials::parse_description(&form.name, &form.note) {
        Err(errors) => Err(errors),
        Ok(description) => {
            match credentials::describe_pat(&m.app.db, m.acting(), id.clone(), description).await {
                Ok(token) => Ok(token),
                Err(AppError::Refused(r)) if r.kind == RefusalKind::Invalid => {
                    Err(vec![r.as_field_error("name")])
                }
                Err(e) => return Err(e),
            }
        }
    };
    match outcome {
        Ok(token) => Ok(m.redirect_with_flash(
            &paths::api_token(&token.id),
            FlashKind::Success,
            &format!("Saved: the token is called \u{201c}{}\u{201d}.", token.name),
        )),
        Err(errors) => render_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &token_view(&m, shell, id, Some(form), FormErrors(errors)).await?,
        ),
    }
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
        .route(paths::API_TOKEN, web::get().to(token_page))
        .route(paths::API_TOKEN_DESCRIBE, web::post().to(describe_token));
}
