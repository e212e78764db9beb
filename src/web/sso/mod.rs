//! Single sign-on: OIDC providers (`oidc`), per-company SAML (`saml`), the profile's linked
//! identities (`profile`), and what they share: the refusal page, the browser binding cookie
//! and the audit of refusals.

mod oidc;
mod profile;
mod saml;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::auth::sso_binding;
use crate::db::Db;
use crate::error::AppError;
use crate::paths;
use crate::services::audit::{self, AuditKind, Event, Origin};

use super::page::{render_with_status, Shell};

/// How long a started SSO round trip may take.
pub(super) const REQUEST_TTL_MINUTES: i64 = 10;

#[derive(Template)]
#[template(path = "auth/sso_problem.html")]
pub(super) struct ProblemPage {
    shell: Shell,
    message: String,
    /// What the company's administrator should check, when the cause is in the set-up.
    admin_hint: Option<String>,
}

pub(super) fn refused(shell: Shell, message: impl Into<String>) -> Result<HttpResponse, AppError> {
    refused_with_hint(shell, message, None)
}

pub(super) fn refused_with_hint(
    shell: Shell,
    message: impl Into<String>,
    admin_hint: Option<String>,
) -> Result<HttpResponse, AppError> {
    render_with_status(
        StatusCode::FORBIDDEN,
        &ProblemPage {
            shell,
            message: message.into(),
            admin_hint,
        },
    )
}

/// The browser's binding value, and whether it must be set as a cookie on this response.
pub(super) fn binding(req: &HttpRequest) -> (String, bool) {
    match sso_binding::from_request(req) {
        Some(b) => (b, false),
        None => (sso_binding::new_value(), true),
    }
}

pub(super) fn with_binding(
    mut response: HttpResponse,
    value: &str,
    fresh: bool,
    https: bool,
) -> HttpResponse {
    if fresh {
        let _ = response.add_cookie(&sso_binding::cookie(value, https));
    }
    response
}

pub(super) async fn audit_refusal(
    db: &Db,
    origin: Origin,
    company: Option<crate::domain::CompanyId>,
    detail: String,
) -> Result<(), AppError> {
    tracing::info!(reason = %detail, "single sign-on refused");
    db.run(move |conn| {
        let mut event = Event::new(AuditKind::SignInFailed).detail(detail);
        event.company = company;
        audit::record(conn, &origin, event)
    })
    .await
}

pub fn public_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::OIDC_START, web::get().to(oidc::oidc_start))
        .route(paths::OIDC_CALLBACK, web::get().to(oidc::oidc_callback))
        .route(paths::SSO_START, web::post().to(saml::saml_start))
        .route(paths::SAML_METADATA, web::get().to(saml::saml_metadata))
        .route(paths::SAML_ACS, web::post().to(saml::saml_acs));
}

pub fn signed_in_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::PROFILE, web::get().to(profile::profile))
        .route(paths::IDENTITY_UNLINK, web::post().to(profile::unlink));
}
