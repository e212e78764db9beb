//! Settings → API: the company's Platform API Keys (owners and admins).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::keys::Keys;
use crate::auth::session::CurrentUser;
use crate::auth::tokens;
use crate::authz::Action;
use crate::db::models::{now, PlatformApiKey};
use crate::db::Db;
use crate::domain::ApiKeyId;
use crate::error::AppError;
use crate::services::audit::Origin;
use crate::services::credentials::{self, CreateOutcome, KeyChange};
use crate::web::paths;

use super::integrations::expiry_from_preset;
use super::page::{redirect_with_flash, render, render_with_status, FlashKind, FormErrors, Shell};
use super::require;
use super::views::{fmt_date, fmt_time, CredentialRow};

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
    keys: Vec<CredentialRow>,
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

async fn load_rows(db: &Db, me: &CurrentUser) -> Result<Vec<CredentialRow>, AppError> {
    let company = me.company.id.clone();
    let keys = db
        .run(move |conn| PlatformApiKey::list_for_company(conn, &company))
        .await?;
    let at = now();
    Ok(keys
        .into_iter()
        .map(|(k, creator)| CredentialRow {
            status: k.status(at).label(),
            id: k.id.to_string(),
            name: k.name,
            prefix: k.prefix,
            created_by: creator,
            created: fmt_time(Some(k.created_at)),
            expires: fmt_date(Some(k.expires_at)),
            last_used: fmt_time(k.last_used_at),
            last_used_ip: k.last_used_ip.unwrap_or_default(),
        })
        .collect())
}

fn page(shell: Shell, keys: Vec<CredentialRow>) -> ApiKeysPage {
    let today = now().date();
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

async fn list(
    shell: Shell,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    require(&me, Action::ManageApiKeys)?;
    let keys = load_rows(&db, &me).await?;
    render(&page(shell, keys))
}

async fn create(
    req: HttpRequest,
    shell: Shell,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
    keys: web::Data<Keys>,
    form: web::Form<NewKeyForm>,
) -> Result<HttpResponse, AppError> {
    require(&me, Action::ManageApiKeys)?;
    let me = me.into_inner();
    let form = form.into_inner();
    let expires_at = if form.expiry == "none" {
        String::new()
    } else {
        expiry_from_preset(&form.expiry, &form.expires_at)
    };
    let origin = Origin::of(&req);
    let outcome = match credentials::parse_request(&form.name, &expires_at, true) {
        Err(errors) => CreateOutcome::Invalid(errors),
        Ok(request) => {
            let (keys, user) = (keys.clone(), me.user.clone());
            db.transaction(move |conn| {
                credentials::create_api_key(conn, &keys, &user, request, &origin)
            })
            .await?
        }
    };
    let rows = load_rows(&db, &me).await?;
    match outcome {
        CreateOutcome::Created(key, issued) => render(&ApiKeysPage {
            new_secret: Some(tokens::reveal(&issued).to_owned()),
            new_secret_name: key.name,
            ..page(shell, rows)
        }),
        CreateOutcome::Invalid(errors) => render_with_status(
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
                ..page(shell, rows)
            },
        ),
    }
}

async fn change(
    req: HttpRequest,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
    id: String,
    change: KeyChange,
) -> Result<HttpResponse, AppError> {
    require(&me, Action::ManageApiKeys)?;
    let id: ApiKeyId = id.parse().map_err(|_| AppError::NotFound)?;
    let user = me.into_inner().user;
    let origin = Origin::of(&req);
    let key = db
        .transaction(move |conn| credentials::change_api_key(conn, &user, &id, change, &origin))
        .await?;
    let what = match change {
        KeyChange::Deactivate => "deactivated. It stops working until you activate it again",
        KeyChange::Activate => "activated. It works again",
        KeyChange::Revoke => "revoked. It can never be used again",
    };
    Ok(redirect_with_flash(
        &req,
        paths::ADMIN_API_KEYS,
        FlashKind::Success,
        &format!("API key \u{201c}{}\u{201d} {what}.", key.name),
    ))
}

async fn deactivate(
    req: HttpRequest,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    change(req, me, db, id.into_inner(), KeyChange::Deactivate).await
}

async fn activate(
    req: HttpRequest,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    change(req, me, db, id.into_inner(), KeyChange::Activate).await
}

async fn revoke(
    req: HttpRequest,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    change(req, me, db, id.into_inner(), KeyChange::Revoke).await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::ADMIN_API_KEYS, web::get().to(list))
        .route(paths::ADMIN_API_KEYS, web::post().to(create))
        .route(paths::ADMIN_API_KEY_DEACTIVATE, web::post().to(deactivate))
        .route(paths::ADMIN_API_KEY_ACTIVATE, web::post().to(activate))
        .route(paths::ADMIN_API_KEY_REVOKE, web::post().to(revoke));
}
