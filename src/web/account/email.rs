//! Profile → Email: confirming one's address (the link, "send it again") and changing it.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Duration;
use serde::Deserialize;

use crate::domain::Email;
use crate::error::AppError;
use crate::paths;
use crate::services::email_verification::{self as verification, JoinOutcome, Policy};
use crate::state::AppState;
use crate::web::context::{Member, Visitor};
use crate::web::page::{render, render_with_status, FlashKind, FormErrors, Shell};

fn policy(app: &AppState) -> Policy {
    Policy {
        ttl: Duration::hours(app.settings.email_verification_ttl_hours),
        resend_after: Duration::seconds(app.settings.email_verification_resend_secs),
    }
}

/// Mails a link confirming a new account's address; called right after sign-up.
pub async fn send_after_sign_up(
    app: &AppState,
    user: crate::db::models::User,
    now: chrono::NaiveDateTime,
) {
    let policy = policy(app);
    match verification::request_confirmation(&app.db, app.keys.clone(), user, now, policy).await {
        Ok(Some(link)) => {
            verification::send_link(&app.mailer, &app.settings.public_url, &link, policy.ttl).await;
        }
        Ok(None) => {}
        // The account exists; the banner's "send again" recovers from a failure here.
        Err(e) => tracing::warn!(error = %e, "verification link not issued"),
    }
}

#[derive(Template)]
#[template(path = "account/email_verified.html")]
struct VerifiedPage {
    shell: Shell,
    email: String,
    changed: bool,
    outcome: JoinOutcome,
}

#[derive(Template)]
#[template(path = "account/confirm_email.html")]
struct ConfirmPage {
    shell: Shell,
    email: String,
    token: String,
}

/// The mailed link opens a page with one button: a GET never uses the link up, so a mail
/// scanner that prefetches links leaves it working for the person.
async fn confirm_page(
    v: Visitor,
    shell: Shell,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let email = verification::open(&v.app.db, v.app.keys.clone(), token.clone(), v.now).await?;
    render(&ConfirmPage {
        shell,
        email,
        token,
    })
}

/// Pressing the button proves the address (it works whether or not one is signed in).
async fn verify_email(
    v: Visitor,
    shell: Shell,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let verified = verification::verify(
        &v.app.db,
        v.app.keys.clone(),
        token.into_inner(),
        v.origin.clone(),
        v.now,
    )
    .await?;
    if let Some(old) = &verified.previous_email {
        let notice = verification::change_notice(old, &verified.user.email);
        if let Err(e) = v.app.mailer.send(notice).await {
            tracing::warn!(error = %e, "email change notice not sent");
        }
    }
    render(&VerifiedPage {
        shell,
        email: verified.user.email,
        changed: verified.previous_email.is_some(),
        outcome: verified.outcome,
    })
}

/// "Send the link again" from the banner.
async fn resend(m: Member) -> Result<HttpResponse, AppError> {
    let policy = policy(&m.app);
    let issued = verification::request_confirmation(
        &m.app.db,
        m.app.keys.clone(),
        m.me.user.clone(),
        m.now,
        policy,
    )
    .await;
    let back = paths::PROFILE_EMAIL;
    Ok(match issued {
        Ok(Some(link)) => {
            if verification::send_link(&m.app.mailer, &m.app.settings.public_url, &link, policy.ttl)
                .await
            {
                m.redirect_with_flash(
                    back,
                    FlashKind::Success,
                    &format!("We sent a new link to {}.", link.to),
                )
            } else {
                m.redirect_with_flash(
                    back,
                    FlashKind::Error,
                    "The mail could not be sent. Try again later.",
                )
            }
        }
        Ok(None) => m.redirect_with_flash(
            back,
            FlashKind::Success,
            "Your address is already confirmed.",
        ),
        Err(AppError::Refused(r)) => m.redirect_with_flash(back, FlashKind::Error, &r.message),
        Err(e) => return Err(e),
    })
}

#[derive(Template)]
#[template(path = "account/email.html")]
struct EmailPage {
    shell: Shell,
    email: String,
    verified: bool,
    new_email: String,
    errors: FormErrors,
}

async fn email_page(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    render(&EmailPage {
        shell,
        email: m.me.user.email.clone(),
        verified: m.me.user.email_verified_at.is_some(),
        new_email: String::new(),
        errors: FormErrors(Vec::new()),
    })
}

#[derive(Deserialize)]
pub struct ChangeForm {
    email: String,
}

/// A change of address: a link goes to the new address; nothing changes until it is followed.
async fn change_email(
    m: Member,
    shell: Shell,
    form: web::Form<ChangeForm>,
) -> Result<HttpResponse, AppError> {
    let rerender = |shell, errors| {
        render_with_status(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            &EmailPage {
                shell,
                email: m.me.user.email.clone(),
                verified: m.me.user.email_verified_at.is_some(),
                new_email: form.email.clone(),
                errors: FormErrors(errors),
            },
        )
    };
    let new_email = match Email::parse("email", &form.email) {
        Ok(e) => e,
        Err(e) => return rerender(shell, vec![e]),
    };
    let policy = policy(&m.app);
    let issued = verification::request_change(
        &m.app.db,
        m.app.keys.clone(),
        m.me.user.clone(),
        new_email,
        m.now,
        policy,
    )
    .await;
    match issued {
        Ok(link) => {
            let sent = verification::send_link(
                &m.app.mailer,
                &m.app.settings.public_url,
                &link,
                policy.ttl,
            )
            .await;
            Ok(if sent {
                m.redirect_with_flash(
                    paths::PROFILE_EMAIL,
                    FlashKind::Success,
                    &format!(
                        "We sent a link to {}. Your address changes when you open it.",
                        link.to
                    ),
                )
            } else {
                m.redirect_with_flash(
                    paths::PROFILE_EMAIL,
                    FlashKind::Error,
                    "The mail could not be sent. Try again later.",
                )
            })
        }
        Err(AppError::Refused(r)) => rerender(shell, vec![r.as_field_error("email")]),
        Err(e) => Err(e),
    }
}

pub fn public_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::VERIFY_EMAIL, web::get().to(confirm_page))
        .route(paths::VERIFY_EMAIL, web::post().to(verify_email));
}

pub fn signed_in_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::PROFILE_EMAIL, web::get().to(email_page))
        .route(paths::PROFILE_EMAIL, web::post().to(change_email))
        .route(paths::PROFILE_EMAIL_RESEND, web::post().to(resend));
}
