//! Signing up, in and out with email and password.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::password::PasswordHasherPool;
use crate::auth::rate_limit::RateLimits;
use crate::auth::session::{self, signed_in_user_id};
use crate::config::Settings;
use crate::db::models::User;
use crate::db::Db;
use crate::domain::password::{NewPassword, RECOMMENDED_LENGTH};
use crate::domain::{Email, FieldError, Label};
use crate::error::AppError;
use crate::services::audit::{self, AuditKind, Event, Origin};
use crate::services::joining::{self, Joining, NewAccount};
use crate::services::sso;
use crate::web::paths;

use super::page::{
    redirect, redirect_with_flash, render, render_with_status, FlashKind, FormErrors, Shell,
};

pub const BAD_CREDENTIALS: &str = "Invalid email or password";

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    shell: Shell,
    email: String,
    error: Option<String>,
    sso_error: Option<String>,
    providers: Vec<(String, String)>,
}

fn providers(settings: &Settings) -> Vec<(String, String)> {
    settings
        .oidc_providers
        .iter()
        .map(|p| (p.key.clone(), p.display_name.clone()))
        .collect()
}

fn login_page(
    shell: Shell,
    settings: &Settings,
    email: String,
    error: Option<String>,
) -> LoginPage {
    LoginPage {
        shell,
        email,
        error,
        sso_error: None,
        providers: providers(settings),
    }
}

/// The login page with a message beside the "Sign in with SSO" form.
pub async fn login_with_sso_error(
    shell: Shell,
    _db: &Db,
    settings: &Settings,
    message: &str,
) -> Result<HttpResponse, AppError> {
    let mut page = login_page(shell, settings, String::new(), None);
    page.sso_error = Some(message.to_owned());
    render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

#[derive(Template)]
#[template(path = "auth/signup.html")]
struct SignupPage {
    shell: Shell,
    providers: Vec<(String, String)>,
    form: SignupForm,
    errors: FormErrors,
    recommended: usize,
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn home(session: Session) -> HttpResponse {
    match signed_in_user_id(&session) {
        Some(_) => redirect(paths::DASHBOARD),
        None => redirect(paths::LOGIN),
    }
}

async fn login_form(
    shell: Shell,
    session: Session,
    settings: web::Data<Settings>,
) -> Result<HttpResponse, AppError> {
    if signed_in_user_id(&session).is_some() {
        return Ok(redirect(paths::DASHBOARD));
    }
    render(&login_page(shell, &settings, String::new(), None))
}

fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

/// Counts an attempt against the IP and the account; over the limit, audits and refuses.
async fn limit_attempt(
    req: &HttpRequest,
    db: &Db,
    limits: &RateLimits,
    account: &str,
    what: &str,
) -> Result<(), AppError> {
    let ip = client_ip(req);
    if let Err(retry) = limits.login_attempt(&ip, Some(account)) {
        let origin = Origin::of(req);
        let detail = format!("{what} attempts over the limit");
        db.run(move |conn| {
            audit::record(
                conn,
                &origin,
                Event::new(AuditKind::RateLimited).detail(detail),
            )
        })
        .await?;
        return Err(AppError::RateLimited {
            retry_after_secs: retry.0,
        });
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn login(
    req: HttpRequest,
    shell: Shell,
    session: Session,
    db: web::Data<Db>,
    hasher: web::Data<PasswordHasherPool>,
    limits: web::Data<RateLimits>,
    settings: web::Data<Settings>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let email_key = form.email.trim().to_lowercase();
    limit_attempt(&req, &db, &limits, &email_key, "sign-in").await?;

    let email = Email::parse("email", &form.email).ok();
    let lookup = email.clone();
    let user = match lookup {
        Some(email) => {
            db.run(move |conn| User::find_by_email(conn, &email))
                .await?
        }
        None => None,
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let password_ok = hasher
        .verify(stored, SecretString::from(form.password))
        .await?;
    let origin = Origin::of(&req);
    match user {
        Some(user) if password_ok && user.is_active() => {
            let (id, company) = (user.id.clone(), user.company_id.clone());
            let check_origin = origin.clone();
            let allowed = db
                .run(move |conn| sso::check_sso_enforcement(conn, &user, &check_origin, "password"))
                .await?
                .map(|_| ());
            // Recording the sign-in is bookkeeping (`Db::run_bookkeeping`): the session that
            // follows cannot outlive it.
            let allowed = match allowed {
                Ok(()) => db
                    .run_bookkeeping(move |conn| {
                        User::record_sign_in(conn, &id)?;
                        audit::record(
                            conn,
                            &origin,
                            Event::new(AuditKind::SignInSucceeded)
                                .company(&company)
                                .actor(&id),
                        )?;
                        Ok::<_, AppError>(id)
                    })
                    .await
                    .map(Ok)?,
                Err(refusal) => Err(refusal),
            };
            match allowed {
                Ok(id) => {
                    session::sign_in(&session, &id)?;
                    Ok(redirect(paths::DASHBOARD))
                }
                Err(refusal) => render_with_status(
                    StatusCode::FORBIDDEN,
                    &login_page(shell, &settings, form.email, Some(refusal.0)),
                ),
            }
        }
        other => {
            let event = match &other {
                Some(u) => Event::new(AuditKind::SignInFailed)
                    .company(&u.company_id)
                    .target(u.id.to_string()),
                None => Event::new(AuditKind::SignInFailed),
            }
            .detail("password sign-in refused");
            db.run(move |conn| audit::record(conn, &origin, event))
                .await?;
            render_with_status(
                StatusCode::UNAUTHORIZED,
                &login_page(shell, &settings, form.email, Some(BAD_CREDENTIALS.into())),
            )
        }
    }
}

async fn logout(
    req: HttpRequest,
    session: Session,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    if let Some(user_id) = signed_in_user_id(&session) {
        let origin = Origin::of(&req);
        db.run(move |conn| {
            let company = User::find(conn, &user_id)?.map(|u| u.company_id);
            let mut event = Event::new(AuditKind::SignedOut).actor(&user_id);
            event.company = company;
            audit::record(conn, &origin, event)
        })
        .await?;
    }
    session::sign_out(&session);
    Ok(redirect_with_flash(
        &req,
        paths::LOGIN,
        FlashKind::Success,
        "You have been signed out.",
    ))
}

async fn signup_form(
    shell: Shell,
    settings: web::Data<Settings>,
) -> Result<HttpResponse, AppError> {
    render(&SignupPage {
        shell,
        providers: providers(&settings),
        form: SignupForm::default(),
        errors: FormErrors::default(),
        recommended: RECOMMENDED_LENGTH,
    })
}

struct ValidSignup {
    company: Label,
    name: Label,
    email: Email,
    password: NewPassword,
}

fn parse_signup(form: &SignupForm) -> Result<ValidSignup, Vec<FieldError>> {
    let company = Label::parse("company_name", "company name", &form.company_name, 100);
    let name = Label::parse("name", "name", &form.name, 100);
    let email = Email::parse("email", &form.email);
    let password = NewPassword::parse("password", &form.password);
    match (company, name, email, password) {
        (Ok(company), Ok(name), Ok(email), Ok(password)) => Ok(ValidSignup {
            company,
            name,
            email,
            password,
        }),
        (c, n, e, p) => Err([c.err(), n.err(), e.err(), p.err()]
            .into_iter()
            .flatten()
            .collect()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn signup(
    req: HttpRequest,
    shell: Shell,
    session: Session,
    db: web::Data<Db>,
    hasher: web::Data<PasswordHasherPool>,
    limits: web::Data<RateLimits>,
    settings: web::Data<Settings>,
    form: web::Form<SignupForm>,
) -> Result<HttpResponse, AppError> {
    let providers = providers(&settings);
    let mut form = form.into_inner();
    limit_attempt(
        &req,
        &db,
        &limits,
        &form.email.trim().to_lowercase(),
        "sign-up",
    )
    .await?;
    let rerender = |shell, mut form: SignupForm, errors| {
        form.password.clear();
        render_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SignupPage {
                shell,
                providers: providers.clone(),
                form,
                errors: FormErrors(errors),
                recommended: RECOMMENDED_LENGTH,
            },
        )
    };
    let valid = match parse_signup(&form) {
        Ok(v) => v,
        Err(errors) => return rerender(shell, form, errors),
    };
    let hash = hasher.hash(valid.password.secret().clone()).await?;
    form.password.clear();
    let origin = Origin::of(&req);
    let outcome = db
        .transaction(move |conn| {
            let account = NewAccount {
                name: valid.name,
                email: valid.email.clone(),
                password_hash: Some(hash),
            };
            let user = match joining::decide(conn, &valid.email)? {
                Joining::NeedsInvitation(_) => {
                    return Ok(Err(FieldError::new(
                        "email",
                        joining::NEEDS_INVITATION_MESSAGE,
                    )))
                }
                Joining::JoinCompany(company) if joining::joins_only_through_sso(&company) => {
                    return Ok(Err(FieldError::new("email", joining::SSO_REQUIRED_MESSAGE)))
                }
                Joining::JoinCompany(company) => {
                    joining::add_member(conn, &company.id, account, crate::domain::Role::Member)?
                }
                Joining::NewCompany => joining::create_workspace(conn, &valid.company, account)?.1,
            };
            audit::record(
                conn,
                &origin,
                Event::new(AuditKind::SignedUp)
                    .company(&user.company_id)
                    .actor(&user.id),
            )?;
            Ok(Ok(user))
        })
        .await;
    match outcome {
        Ok(Ok(user)) => {
            session::sign_in(&session, &user.id)?;
            Ok(redirect_with_flash(
                &req,
                paths::DASHBOARD,
                FlashKind::Success,
                "Welcome! Your account is ready.",
            ))
        }
        Ok(Err(field_error)) => rerender(shell, form, vec![field_error]),
        Err(AppError::Conflict(message)) => {
            rerender(shell, form, vec![FieldError::new("email", message)])
        }
        Err(e) => Err(e),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::HOME, web::get().to(home))
        .route(paths::LOGIN, web::get().to(login_form))
        .route(paths::LOGIN, web::post().to(login))
        .route(paths::LOGOUT, web::post().to(logout))
        .route(paths::SIGNUP, web::get().to(signup_form))
        .route(paths::SIGNUP, web::post().to(signup));
}
