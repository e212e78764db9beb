//! The second step of a password sign-in for people with two-factor on, and the redirect to
//! enrolment when their company requires it. SSO sign-ins never come here: their IdP decides.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::paths;
use askama::Template;
use serde::Deserialize;

use crate::auth::session::{self, ENROLMENT_PATH};
use crate::db::models::User;
use crate::error::AppError;
use crate::services::two_factor;
use crate::web::context::Visitor;
use crate::web::page::{redirect, render, render_with_status, FlashKind, Shell};

pub const SECOND_STEP_PATH: &str = paths::LOGIN_TWO_FACTOR;

#[derive(Template)]
#[template(path = "auth/two_factor.html")]
struct SecondStepPage {
    shell: Shell,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// After a right password: with two-factor on, opens the second step and says where to go.
pub async fn after_password(
    v: &Visitor,
    session: &Session,
    user: &User,
) -> Result<Option<HttpResponse>, AppError> {
    if !two_factor::is_enrolled(&v.app.db, user).await? {
        return Ok(None);
    }
    session::begin_second_step(session, &user.id, v.now.and_utc().timestamp())?;
    Ok(Some(redirect(SECOND_STEP_PATH)))
}

/// After a password sign-in completes: to enrolment first when the company requires it.
pub async fn enrolment_if_required(
    v: &Visitor,
    session: &Session,
    user: &User,
) -> Result<HttpResponse, AppError> {
    let company = user.company_id.clone();
    let required = v
        .app
        .db
        .run(move |conn| crate::db::models::Company::find(conn, &company))
        .await?
        .require_two_factor;
    if required && !two_factor::is_enrolled(&v.app.db, user).await? {
        session::require_enrolment(session)?;
        return Ok(v.redirect_with_flash(
            ENROLMENT_PATH,
            FlashKind::Error,
            "Your company requires two-factor sign-in. Set it up to continue.",
        ));
    }
    Ok(redirect("/dashboard"))
}

async fn show(v: Visitor, shell: Shell, session: Session) -> Result<HttpResponse, AppError> {
    if session::pending_second_step(&session, v.now.and_utc().timestamp()).is_none() {
        return Ok(redirect("/login"));
    }
    render(&SecondStepPage { shell, error: None })
}

async fn submit(
    v: Visitor,
    shell: Shell,
    session: Session,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user_id) = session::pending_second_step(&session, v.now.and_utc().timestamp()) else {
        return Ok(v.redirect_with_flash(
            "/login",
            FlashKind::Error,
            "Sign in again: the time for your code ran out.",
        ));
    };
    let ip = v.origin.ip.clone().unwrap_or_default();
    v.app
        .limits
        .two_factor_attempt(&ip, user_id.as_str())
        .await
        .map_err(|r| AppError::RateLimited {
            retry_after_secs: r.0,
        })?;
    let id = user_id.clone();
    let user = v.app.db.run(move |conn| User::find(conn, &id)).await?;
    let Some(user) = user.filter(User::is_active) else {
        session::sign_out(&session);
        return Ok(redirect("/login"));
    };
    let keys = v.app.keys.clone();
    let code = form.into_inner().code;
    match two_factor::verify_sign_in(&v.app.db, keys, user, code, v.origin.clone(), v.now).await {
        Ok(()) => {
            session::sign_in(&session, &user_id, session::SignInMethod::Password)?;
            Ok(redirect("/dashboard"))
        }
        Err(AppError::Refused(r)) => render_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SecondStepPage {
                shell,
                error: Some(r.message),
            },
        ),
        Err(e) => Err(e),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::LOGIN_TWO_FACTOR, web::get().to(show))
        .route(paths::LOGIN_TWO_FACTOR, web::post().to(submit));
}
