//! Signing up, in and out with email and password.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::session::{self, signed_in_user_id, SignInMethod};
use crate::config::Settings;
use crate::db::models::User;
use crate::db::Db;
use crate::domain::password::{NewPassword, RECOMMENDED_LENGTH};
use crate::domain::{Email, FieldError, Label};
use crate::error::AppError;
use crate::paths;
use crate::services::audit::{self, AuditKind, Event};
use crate::services::joining::{self, NewAccount};
use crate::services::mail::Mail;
use crate::services::sso;
use crate::web::context::Visitor;

use super::page::{redirect, render, render_with_status, FlashKind, FormErrors, Shell};

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
    crate::services::audit::Origin::of(req)
        .ip
        .unwrap_or_default()
}

/// The account an attempt counts against: the address as stored, so spellings that reach the
/// same account (`%65xample.com`, full-width letters) share one budget.
pub fn account_key(typed: &str) -> String {
    match Email::parse("email", typed) {
        Ok(email) => email.as_str().to_owned(),
        Err(_) => typed.trim().to_lowercase(),
    }
}

/// Counts an attempt against the IP and the account; over the limit, audits and refuses.
async fn limit_attempt(v: &Visitor, account: &str, what: &str) -> Result<(), AppError> {
    let ip = client_ip(&v.req);
    if let Err(retry) = v.app.limits.login_attempt(&ip, Some(account)).await {
        let event =
            Event::new(AuditKind::RateLimited).detail(format!("{what} attempts over the limit"));
        audit::record_now(&v.app.db, v.origin.clone(), event).await?;
        return Err(AppError::RateLimited {
            retry_after_secs: retry.0,
        });
    }
    Ok(())
}

async fn login(
    v: Visitor,
    shell: Shell,
    session: Session,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let (db, settings) = (&v.app.db, &v.app.settings);
    let form = form.into_inner();
    let email_key = account_key(&form.email);
    limit_attempt(&v, &email_key, "sign-in").await?;
    if v.app.limits.account_failures_exceeded(&email_key).await {
        let event = Event::new(AuditKind::RateLimited)
            .detail("sign-in refused: too many failures for this account this hour");
        audit::record_now(&v.app.db, v.origin.clone(), event).await?;
        return Err(AppError::RateLimited {
            retry_after_secs: 3600,
        });
    }

    let email = Email::parse("email", &form.email).ok();
    let user = match email {
        Some(email) => {
            db.run(move |conn| User::find_by_email(conn, &email))
                .await?
        }
        None => None,
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let password_ok = v
        .app
        .hasher
        .verify(stored, SecretString::from(form.password))
        .await?;
    let origin = v.origin.clone();
    match user {
        Some(user) if password_ok && user.is_active() => {
            let (id, company) = (user.id.clone(), user.company_id.clone());
            let person = user.clone();
            match sso::enforcement(db, user, origin.clone(), "password").await {
                Ok(_) => {}
                Err(AppError::Refused(refusal)) => {
                    return render_with_status(
                        StatusCode::FORBIDDEN,
                        &login_page(shell, settings, form.email, Some(refusal.message)),
                    )
                }
                Err(e) => return Err(e),
            }
            if let Some(next) =
                super::two_factor_sign_in::after_password(&v, &session, &person).await?
            {
                return Ok(next);
            }
            // Recording the sign-in is bookkeeping (`Db::run_bookkeeping`): the session that
            // follows cannot outlive it.
            let id = db
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
                .await?;
            session::sign_in(&session, &id, SignInMethod::Password)?;
            super::two_factor_sign_in::enrolment_if_required(&v, &session, &person).await
        }
        other => {
            let event = match &other {
                Some(u) => Event::new(AuditKind::SignInFailed)
                    .company(&u.company_id)
                    .target(u.id.to_string()),
                None => Event::new(AuditKind::SignInFailed),
            }
            .detail("password sign-in refused");
            audit::record_now(db, origin, event).await?;
            if v.app.limits.sign_in_failed(&email_key).await {
                if let Some(u) = &other {
                    warn_of_failures(&v, u);
                }
            }
            render_with_status(
                StatusCode::UNAUTHORIZED,
                &login_page(shell, settings, form.email, Some(BAD_CREDENTIALS.into())),
            )
        }
    }
}

/// Tells the person that their account refuses password sign-in for an hour, in the
/// background so the answer takes as long as any other failure.
fn warn_of_failures(v: &Visitor, user: &User) {
    let mailer = v.app.mailer.clone();
    let mail = Mail {
        to: user.email.clone(),
        subject: "Many failed sign-ins to your meetergo console account".into(),
        body: format!(
            "Someone failed to sign in to your meetergo console account\n\
             ({}) with a wrong password many times in the last hour,\n\
             so password sign-in to it is paused for up to an hour.\n\n\
             If this was not you, nobody got in. Once the pause ends you\n\
             can reset your password at {}{}\n",
            user.email,
            v.app.settings.public_url,
            paths::PASSWORD_FORGOT
        ),
    };
    actix_web::rt::spawn(async move {
        if let Err(e) = mailer.send(mail).await {
            tracing::warn!(error = %e, "the failed sign-ins notice could not be sent");
        }
    });
}

async fn logout(v: Visitor, session: Session) -> Result<HttpResponse, AppError> {
    if let Some(user_id) = signed_in_user_id(&session) {
        let origin = v.origin.clone();
        v.app
            .db
            .run(move |conn| {
                let company = User::find(conn, &user_id)?.map(|u| u.company_id);
                let mut event = Event::new(AuditKind::SignedOut).actor(&user_id);
                event.company = company;
                audit::record(conn, &origin, event)
            })
            .await?;
    }
    session::sign_out(&session);
    Ok(v.redirect_with_flash(
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

async fn signup(
    v: Visitor,
    shell: Shell,
    session: Session,
    form: web::Form<SignupForm>,
) -> Result<HttpResponse, AppError> {
    let providers = providers(&v.app.settings);
    let mut form = form.into_inner();
    limit_attempt(&v, &account_key(&form.email), "sign-up").await?;
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
    let hash = v.app.hasher.hash(valid.password.secret().clone()).await?;
    form.password.clear();
    let account = NewAccount {
        name: valid.name,
        email: valid.email,
        password_hash: Some(hash),
        email_verified_at: None,
    };
    match joining::sign_up(&v.app.db, account, valid.company, v.origin.clone()).await {
        Ok(user) => {
            session::sign_in(&session, &user.id, SignInMethod::Password)?;
            crate::web::account::email::send_after_sign_up(&v.app, user.clone(), v.now).await;
            Ok(v.redirect_with_flash(
                paths::DASHBOARD,
                FlashKind::Success,
                "Welcome! Your account is ready.",
            ))
        }
        Err(AppError::Refused(r)) => rerender(shell, form, vec![r.as_field_error("email")]),
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

#[cfg(test)]
mod tests {
    use super::account_key;

    #[test]
    fn spellings_of_one_address_share_one_attempt_budget() {
        let key = account_key("alice@example.com");
        for spelling in [
            " Alice@Example.COM ",
            "alice@ｅxample.com",
            "alice@%65xample.com",
        ] {
            assert_eq!(account_key(spelling), key, "{spelling}");
        }
        assert_eq!(account_key("not an address"), "not an address");
    }
}
