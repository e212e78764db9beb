//! Accepting an invitation: the link leads to a sign-up form with the email fixed.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::session::{self, SignInMethod};
use crate::domain::password::{NewPassword, RECOMMENDED_LENGTH};
use crate::domain::Label;
use crate::error::AppError;
use crate::paths;
use crate::services::invitations;

use super::context::Visitor;
use super::page::{render, render_with_status, FlashKind, FormErrors, Shell};

#[derive(Template)]
#[template(path = "auth/invite.html")]
struct AcceptPage {
    shell: Shell,
    token: String,
    company: String,
    email: String,
    role: String,
    name: String,
    errors: FormErrors,
    recommended: usize,
    providers: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "auth/invite_problem.html")]
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

async fn open(v: Visitor, shell: Shell, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    match invitations::open(&v.app.db, v.app.keys.clone(), token.clone(), v.now).await {
        Err(e) => problem(shell, e),
        Ok((invitation, company)) => render(&AcceptPage {
            shell,
            token,
            company: company.name,
            email: invitation.email,
            role: invitation.role.to_string(),
            name: String::new(),
            errors: FormErrors::default(),
            recommended: RECOMMENDED_LENGTH,
            providers: v
                .app
                .settings
                .oidc_providers
                .iter()
                .map(|p| (p.key.clone(), p.display_name.clone()))
                .collect(),
        }),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn accept(
    v: Visitor,
    shell: Shell,
    session: Session,
    path: web::Path<String>,
    form: web::Form<AcceptForm>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let ip = v.origin.ip.clone().unwrap_or_default();
    v.app
        .limits
        .login_attempt(&ip, None)
        .await
        .map_err(|r| AppError::RateLimited {
            retry_after_secs: r.0,
        })?;
    let keys = v.app.keys.clone();
    let (invitation, company) =
        match invitations::open(&v.app.db, keys.clone(), token.clone(), v.now).await {
            Err(e) => return problem(shell, e),
            Ok(found) => found,
        };
    let form = form.into_inner();
    let name = Label::parse("name", "name", &form.name, 100);
    let password = NewPassword::parse("password", &form.password);
    let (name, password) = match (name, password) {
        (Ok(n), Ok(p)) => (n, p),
        (n, p) => {
            return render_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &AcceptPage {
                    shell,
                    token,
                    company: company.name,
                    email: invitation.email,
                    role: invitation.role.to_string(),
                    name: form.name,
                    errors: FormErrors([n.err(), p.err()].into_iter().flatten().collect()),
                    recommended: RECOMMENDED_LENGTH,
                    providers: Vec::new(),
                },
            )
        }
    };
    let hash = v.app.hasher.hash(password.secret().clone()).await?;
    let acceptance = invitations::Acceptance {
        token,
        name,
        password_hash: Some(hash),
    };
    match invitations::accept(&v.app.db, keys, acceptance, v.origin.clone(), v.now).await {
        Err(e) => problem(shell, e),
        Ok(user) => {
            session::sign_in(&session, &user.id, SignInMethod::Password)?;
            // A company that requires two-factor gets it from newcomers too, before anything else.
            let next =
                super::two_factor_sign_in::enrolment_if_required(&v, &session, &user).await?;
            if next
                .headers()
                .get(actix_web::http::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                != Some(paths::DASHBOARD)
            {
                return Ok(next);
            }
            Ok(v.redirect_with_flash(
                paths::DASHBOARD,
                FlashKind::Success,
                &format!("Welcome to {}!", company.name),
            ))
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::INVITATION, web::get().to(open))
        .route(paths::INVITATION, web::post().to(accept));
}
