//! Profile → Two-factor: enrol (QR code and secret, confirmed by a first code; recovery codes
//! shown once), see the state, turn it off with the password and a code.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::paths;
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::session;
use crate::domain::FieldError;
use crate::error::AppError;
use crate::services::two_factor::{self, Enrolment, Status};
use crate::web::context::Member;
use crate::web::page::{render, render_with_status, FlashKind, FormErrors, Shell};

#[derive(Template)]
#[template(path = "account/two_factor.html")]
struct TwoFactorPage {
    shell: Shell,
    enrolment: Option<Enrolment>,
    recovery_codes_left: i64,
    recovery_codes: Vec<String>,
    errors: FormErrors,
}

impl TwoFactorPage {
    fn of(shell: Shell, status: Status) -> Self {
        let (enrolment, left) = match status {
            Status::Pending(e) => (Some(e), 0),
            Status::Enabled {
                recovery_codes_left,
            } => (None, recovery_codes_left),
        };
        Self {
            shell,
            enrolment,
            recovery_codes_left: left,
            recovery_codes: Vec::new(),
            errors: FormErrors::default(),
        }
    }
}

async fn status(m: &Member) -> Result<Status, AppError> {
    two_factor::status_or_start(&m.app.db, m.app.keys.clone(), m.acting()).await
}

async fn show(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    render(&TwoFactorPage::of(shell, status(&m).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    code: String,
}

async fn limit(m: &Member) -> Result<(), AppError> {
    let ip = m.origin.ip.clone().unwrap_or_default();
    m.app
        .limits
        .two_factor_attempt(&ip, m.me.user.id.as_str())
        .await
        .map_err(|r| AppError::RateLimited {
            retry_after_secs: r.0,
        })
}

async fn confirm(
    m: Member,
    shell: Shell,
    session: Session,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    limit(&m).await?;
    let code = form.into_inner().code;
    match two_factor::confirm(&m.app.db, m.app.keys.clone(), m.acting(), code).await {
        Ok(codes) => {
            session::enrolment_done(&session);
            let mut page = TwoFactorPage::of(
                shell,
                Status::Enabled {
                    recovery_codes_left: codes.len() as i64,
                },
            );
            page.recovery_codes = codes;
            render(&page)
        }
        Err(AppError::Refused(r)) => {
            let mut page = TwoFactorPage::of(shell, status(&m).await?);
            page.errors = FormErrors(vec![r.as_field_error("code")]);
            render_with_status(r.status(), &page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

async fn disable(
    m: Member,
    shell: Shell,
    form: web::Form<DisableForm>,
) -> Result<HttpResponse, AppError> {
    limit(&m).await?;
    let form = form.into_inner();
    let password_ok = m
        .app
        .hasher
        .verify(
            m.me.user.password_hash.clone(),
            SecretString::from(form.password),
        )
        .await?;
    let outcome = if password_ok {
        two_factor::disable(&m.app.db, m.app.keys.clone(), m.acting(), form.code).await
    } else {
        Err(AppError::Refused(
            FieldError::new("password", "That is not your password.").into(),
        ))
    };
    match outcome {
        Ok(()) => Ok(m.redirect_with_flash(
            "/profile/two-factor",
            FlashKind::Success,
            "Two-factor sign-in is off.",
        )),
        Err(AppError::Refused(r)) => {
            let mut page = TwoFactorPage::of(shell, status(&m).await?);
            page.errors = FormErrors(vec![r.as_field_error("code")]);
            let status = match r.status() {
                StatusCode::FORBIDDEN => StatusCode::FORBIDDEN,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            render_with_status(status, &page)
        }
        Err(e) => Err(e),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::PROFILE_TWO_FACTOR, web::get().to(show))
        .route(paths::PROFILE_TWO_FACTOR_CONFIRM, web::post().to(confirm))
        .route(paths::PROFILE_TWO_FACTOR_DISABLE, web::post().to(disable))
        .route(
            paths::COMPANY_TWO_FACTOR,
            web::post().to(require_for_company),
        );
}

#[derive(Debug, Default, Deserialize)]
pub struct RequirementForm {
    /// Present ("on") when the checkbox is ticked.
    require_two_factor: Option<String>,
}

/// Settings → Company: "Require two-factor for password sign-in" (owners and admins).
async fn require_for_company(
    m: Member,
    form: web::Form<RequirementForm>,
) -> Result<HttpResponse, AppError> {
    m.require(crate::authz::Action::ViewAdminArea)?;
    let required = form.into_inner().require_two_factor.is_some();
    two_factor::set_company_requirement(&m.app.db, m.acting(), required).await?;
    Ok(m.redirect_with_flash(
        "/settings/company",
        FlashKind::Success,
        if required {
            "Two-factor is now required for password sign-in."
        } else {
            "Two-factor is no longer required."
        },
    ))
}
