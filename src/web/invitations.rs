//! Accepting an invitation: the link leads to a sign-up form with the email fixed.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::keys::Keys;
use crate::auth::password::PasswordHasherPool;
use crate::auth::rate_limit::RateLimits;
use crate::auth::session;
use crate::db::Db;
use crate::domain::password::{NewPassword, RECOMMENDED_LENGTH};
use crate::domain::Label;
use crate::error::AppError;
use crate::services::audit::Origin;
use crate::services::invitations::{self, LinkProblem};
use crate::web::paths;

use super::page::{redirect_with_flash, render, render_with_status, FlashKind, FormErrors, Shell};

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
    message: &'static str,
}

fn problem(shell: Shell, p: LinkProblem) -> Result<HttpResponse, AppError> {
    let status = match p {
        LinkProblem::Unknown => StatusCode::NOT_FOUND,
        LinkProblem::EmailTaken => StatusCode::CONFLICT,
        LinkProblem::SsoRequired => StatusCode::FORBIDDEN,
        _ => StatusCode::GONE,
    };
    render_with_status(
        status,
        &ProblemPage {
            shell,
            message: p.message(),
        },
    )
}

async fn open(
    settings: web::Data<crate::config::Settings>,
    shell: Shell,
    db: web::Data<Db>,
    keys: web::Data<Keys>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let (keys, t) = (keys.clone(), token.clone());
    match db
        .run(move |conn| invitations::open_link(conn, &keys, &t))
        .await?
    {
        Err(p) => problem(shell, p),
        Ok((invitation, company)) => render(&AcceptPage {
            shell,
            token,
            company: company.name,
            email: invitation.email,
            role: invitation.role,
            name: String::new(),
            errors: FormErrors::default(),
            recommended: RECOMMENDED_LENGTH,
            providers: settings
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

#[allow(clippy::too_many_arguments)]
async fn accept(
    req: HttpRequest,
    shell: Shell,
    session: Session,
    db: web::Data<Db>,
    keys: web::Data<Keys>,
    hasher: web::Data<PasswordHasherPool>,
    limits: web::Data<RateLimits>,
    path: web::Path<String>,
    form: web::Form<AcceptForm>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let ip = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    limits
        .login_attempt(&ip, None)
        .map_err(|r| AppError::RateLimited {
            retry_after_secs: r.0,
        })?;
    let (k, t) = (keys.clone(), token.clone());
    let (invitation, company) = match db
        .run(move |conn| invitations::open_link(conn, &k, &t))
        .await?
    {
        Err(p) => return problem(shell, p),
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
                    role: invitation.role,
                    name: form.name,
                    errors: FormErrors([n.err(), p.err()].into_iter().flatten().collect()),
                    recommended: RECOMMENDED_LENGTH,
                    providers: Vec::new(),
                },
            )
        }
    };
    let hash = hasher.hash(password.secret().clone()).await?;
    let origin = Origin::of(&req);
    let keys = keys.clone();
    match db
        .transaction(move |conn| {
            invitations::accept(conn, &keys, &token, name, Some(hash), &origin)
        })
        .await?
    {
        Err(p) => problem(shell, p),
        Ok(user) => {
            session::sign_in(&session, &user.id)?;
            Ok(redirect_with_flash(
                &req,
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
