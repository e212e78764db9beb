//! Profile → Password: change it with the current one, or set a first one (people who sign in
//! only through a provider) unless the company enforces SSO. Other sessions end; this one stays.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::session;
use crate::domain::password::{NewPassword, RECOMMENDED_LENGTH};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::paths;
use crate::services::passwords;
use crate::web::context::Member;
use crate::web::page::{render, render_with_status, FlashKind, FormErrors, Shell};

const WRONG_CURRENT: &str = "This is not your current password.";

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    shell: Shell,
    has_password: bool,
    may_set: bool,
    errors: FormErrors,
    recommended: usize,
}

async fn page(m: &Member, shell: Shell, errors: Vec<FieldError>) -> Result<PasswordPage, AppError> {
    let has_password = passwords::needs_current_password(&m.me.user);
    let may_set = has_password || passwords::may_set_password(&m.app.db, m.me.user.clone()).await?;
    Ok(PasswordPage {
        shell,
        has_password,
        may_set,
        errors: FormErrors(errors),
        recommended: RECOMMENDED_LENGTH,
    })
}

async fn show(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    render(&page(&m, shell, Vec::new()).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn change(
    m: Member,
    shell: Shell,
    session: Session,
    form: web::Form<ChangeForm>,
) -> Result<HttpResponse, AppError> {
    let ip = m.origin.ip.clone().unwrap_or_default();
    m.app
        .limits
        .recovery_attempt(&ip, &m.me.user.email)
        .await
        .map_err(|r| AppError::RateLimited {
            retry_after_secs: r.0,
        })?;
    let form = form.into_inner();
    let stored = m.me.user.password_hash.clone();
    if stored.is_some() {
        let current = SecretString::from(form.current_password);
        if !m.app.hasher.verify(stored.clone(), current).await? {
            let wrong = FieldError::new("current_password", WRONG_CURRENT);
            let page = page(&m, shell, vec![wrong]).await?;
            return render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    }
    let new = match NewPassword::parse("new_password", &form.new_password) {
        Ok(p) => p,
        Err(e) => {
            let page = page(&m, shell, vec![e]).await?;
            return render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let hash = m.app.hasher.hash(new.secret().clone()).await?;
    match passwords::change(&m.app.db, m.acting(), stored, hash).await {
        Ok(_) => {
            session::keep_after_others_ended(&session);
            Ok(m.redirect_with_flash(
                paths::PROFILE_PASSWORD,
                FlashKind::Success,
                "Your password was saved. Your other sessions were signed out.",
            ))
        }
        Err(AppError::Refused(r)) => {
            let status = r.status();
            let page = page(&m, shell, vec![r.as_field_error("new_password")]).await?;
            render_with_status(status, &page)
        }
        Err(e) => Err(e),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::PROFILE_PASSWORD, web::get().to(show))
        .route(paths::PROFILE_PASSWORD, web::post().to(change));
}
