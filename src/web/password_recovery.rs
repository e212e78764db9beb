//! "Forgot password?": a form that answers the same whether or not the address has an account,
//! a mail with a single-use link, and the page behind the link that sets a new password.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::models::User;
use crate::domain::password::{NewPassword, RECOMMENDED_LENGTH};
use crate::domain::Email;
use crate::error::AppError;
use crate::paths;
use crate::services::mail::Mail;
use crate::services::passwords::{self, RESET_TTL_MINUTES};

use super::context::Visitor;
use super::page::{render, render_with_status, FlashKind, FormErrors, Shell};

#[derive(Template)]
#[template(path = "auth/forgot_password.html")]
struct ForgotPage {
    shell: Shell,
    /// What was typed (named apart from the macro's `email` argument).
    typed_email: String,
    errors: FormErrors,
    sent: bool,
}

#[derive(Template)]
#[template(path = "auth/reset_password.html")]
struct ResetPage {
    shell: Shell,
    token: String,
    email: String,
    errors: FormErrors,
    recommended: usize,
}

#[derive(Template)]
#[template(path = "auth/reset_problem.html")]
struct ProblemPage {
    shell: Shell,
    message: String,
}

/// The page for a link that cannot be used, with the refusal's status; other errors pass.
fn problem(shell: Shell, e: AppError) -> Result<HttpResponse, AppError> {
    match e {
        AppError::Refused(r) => render_with_status(
            r.status(),
            &ProblemPage {
                shell,
                message: r.message,
            },
        ),
        other => Err(other),
    }
}

fn rate_limited(retry: crate::auth::rate_limit::RetryAfter) -> AppError {
    AppError::RateLimited {
        retry_after_secs: retry.0,
    }
}

async fn forgot_form(shell: Shell) -> Result<HttpResponse, AppError> {
    render(&ForgotPage {
        shell,
        typed_email: String::new(),
        errors: FormErrors::default(),
        sent: false,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

async fn forgot(
    v: Visitor,
    shell: Shell,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    let typed = form.into_inner().email;
    let ip = v.origin.ip.clone().unwrap_or_default();
    v.app
        .limits
        .recovery_attempt(&ip, &super::sign_in::account_key(&typed))
        .await
        .map_err(rate_limited)?;
    let email = match Email::parse("email", &typed) {
        Ok(email) => email,
        Err(e) => {
            return render_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ForgotPage {
                    shell,
                    typed_email: typed,
                    errors: FormErrors(vec![e]),
                    sent: false,
                },
            )
        }
    };
    let issued = passwords::request_reset(
        &v.app.db,
        v.app.keys.clone(),
        email,
        v.origin.clone(),
        v.now,
    )
    .await?;
    if let Some((user, token)) = issued {
        send_link(&v, &user, &token);
    }
    // The same page whether or not the address has an account.
    render(&ForgotPage {
        shell,
        typed_email: String::new(),
        errors: FormErrors::default(),
        sent: true,
    })
}

/// Mails the link in the background: the answer must not take longer when an account exists.
fn send_link(v: &Visitor, user: &User, token: &str) {
    let mailer = v.app.mailer.clone();
    let mail = Mail {
        to: user.email.clone(),
        subject: "Reset your meetergo console password".into(),
        body: format!(
            "Hello {},\n\n\
             someone, hopefully you, asked to reset the password of your\n\
             meetergo console account. Choose a new one within {RESET_TTL_MINUTES} minutes:\n\n\
             {}{}\n\n\
             The link works once. If you did not ask for it, ignore this\n\
             mail: your password stays as it is.\n",
            user.name,
            v.app.settings.public_url,
            paths::password_reset(token)
        ),
    };
    actix_web::rt::spawn(async move {
        if let Err(e) = mailer.send(mail).await {
            tracing::warn!(error = %e, "the password reset mail could not be sent");
        }
    });
}

async fn reset_form(
    v: Visitor,
    shell: Shell,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    match passwords::open_reset(&v.app.db, v.app.keys.clone(), token.clone(), v.now).await {
        Err(e) => problem(shell, e),
        Ok(user) => render(&ResetPage {
            shell,
            token,
            email: user.email,
            errors: FormErrors::default(),
            recommended: RECOMMENDED_LENGTH,
        }),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
}

async fn reset(
    v: Visitor,
    shell: Shell,
    path: web::Path<String>,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let user =
        match passwords::open_reset(&v.app.db, v.app.keys.clone(), token.clone(), v.now).await {
            Err(e) => return problem(shell, e),
            Ok(user) => user,
        };
    let ip = v.origin.ip.clone().unwrap_or_default();
    v.app
        .limits
        .recovery_attempt(&ip, &user.email)
        .await
        .map_err(rate_limited)?;
    let password = match NewPassword::parse("password", &form.into_inner().password) {
        Ok(p) => p,
        Err(e) => {
            return render_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ResetPage {
                    shell,
                    token,
                    email: user.email,
                    errors: FormErrors(vec![e]),
                    recommended: RECOMMENDED_LENGTH,
                },
            )
        }
    };
    let hash = v.app.hasher.hash(password.secret().clone()).await?;
    let reset = passwords::reset(
        &v.app.db,
        v.app.keys.clone(),
        token,
        hash,
        v.origin.clone(),
        v.now,
    );
    match reset.await {
        Err(e) => problem(shell, e),
        Ok(_) => Ok(v.redirect_with_flash(
            paths::LOGIN,
            FlashKind::Success,
            "Your password was changed and every session of your account was signed out. Sign in with the new password.",
        )),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::PASSWORD_FORGOT, web::get().to(forgot_form))
        .route(paths::PASSWORD_FORGOT, web::post().to(forgot))
        .route(paths::PASSWORD_RESET, web::get().to(reset_form))
        .route(paths::PASSWORD_RESET, web::post().to(reset));
}
