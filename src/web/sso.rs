//! Single sign-on: OIDC providers, per-company SAML, the profile's linked identities.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::keys::Keys;
use crate::auth::oidc::Oidc;
use crate::auth::saml::{self, SpUrls, Tolerances};
use crate::auth::session::{self, signed_in_user_id, CurrentUser};
use crate::auth::sso_binding;
use crate::config::Settings;
use crate::db::models::{now, Company, Identity, SamlConfig, SsoRequest, User};
use crate::db::Db;
use crate::domain::{Email, IdentityId};
use crate::error::AppError;
use crate::services::audit::{self, AuditKind, Event, Origin};
use crate::services::sso as sso_service;

use super::page::{redirect, redirect_with_flash, render, render_with_status, FlashKind, Shell};

const REQUEST_TTL_MINUTES: i64 = 10;

#[derive(Template)]
#[template(path = "auth/sso_problem.html")]
struct ProblemPage {
    shell: Shell,
    message: String,
}

fn refused(shell: Shell, message: impl Into<String>) -> Result<HttpResponse, AppError> {
    render_with_status(
        StatusCode::FORBIDDEN,
        &ProblemPage {
            shell,
            message: message.into(),
        },
    )
}

/// The browser's binding value, and whether it must be set as a cookie on this response.
fn binding(req: &HttpRequest) -> (String, bool) {
    match sso_binding::from_request(req) {
        Some(b) => (b, false),
        None => (sso_binding::new_value(), true),
    }
}

fn with_binding(mut response: HttpResponse, value: &str, fresh: bool, https: bool) -> HttpResponse {
    if fresh {
        let _ = response.add_cookie(&sso_binding::cookie(value, https));
    }
    response
}

async fn audit_refusal(
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

// ---------------------------------------------------------------- OpenID Connect

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    purpose: Option<String>,
    /// The secret of an invitation link the sign-in was started from.
    invitation: Option<String>,
}

#[allow(clippy::too_many_arguments)]
#[get("/auth/oidc/{provider}/start")]
async fn oidc_start(
    req: HttpRequest,
    shell: Shell,
    session: Session,
    db: web::Data<Db>,
    keys: web::Data<Keys>,
    oidc: web::Data<Oidc>,
    settings: web::Data<Settings>,
    path: web::Path<String>,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, AppError> {
    let provider = path.into_inner();
    oidc.provider(&provider).map_err(|_| AppError::NotFound)?;
    let link_user = match query.purpose.as_deref() {
        Some("link") => Some(signed_in_user_id(&session).ok_or(AppError::LoginRequired)?),
        _ => None,
    };
    // Started from an invitation link: check it now, so a dead link fails before the provider.
    let invitation_hash = match query.invitation.clone().filter(|_| link_user.is_none()) {
        Some(token) => {
            let (k, t) = (keys.clone(), token.clone());
            match db
                .run(move |conn| crate::services::team::open_link(conn, &k, &t))
                .await?
            {
                Ok(_) => Some(crate::services::team::invitation_hash(&keys, &token)),
                Err(problem) => return refused(shell, problem.message()),
            }
        }
        None => None,
    };
    let (value, fresh) = binding(&req);
    let state = sso_binding::random_token();
    let nonce = sso_binding::random_token();
    let verifier = sso_binding::pkce_verifier(&keys, &value, &state);
    let url = match oidc
        .authorization_url(&provider, &state, &nonce, &verifier)
        .await
    {
        Ok(url) => url,
        Err(e) => {
            let detail = format!("oidc:{provider}: {e}");
            audit_refusal(&db, Origin::of(&req), None, detail).await?;
            return render_with_status(
                StatusCode::BAD_GATEWAY,
                &ProblemPage {
                    shell,
                    message: "The sign-in provider could not be used right now. Try again later, or sign in another way.".into(),
                },
            );
        }
    };
    let request = SsoRequest {
        id: keys.opaque_hash("oidc-state", &state),
        kind: "oidc".into(),
        target: provider,
        purpose: if link_user.is_some() {
            "link".into()
        } else {
            "signin".into()
        },
        browser_hash: sso_binding::browser_hash(&keys, &value),
        nonce: Some(nonce),
        link_user_id: link_user.map(String::from),
        created_at: now(),
        expires_at: now() + chrono::Duration::minutes(REQUEST_TTL_MINUTES),
        used_at: None,
        invitation_hash,
    };
    db.run(move |conn| request.insert(conn)).await?;
    Ok(with_binding(
        redirect(&url),
        &value,
        fresh,
        settings.is_https(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// The issuer the authorization response names (RFC 9207), when the provider sends it.
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

#[allow(clippy::too_many_arguments)]
#[get("/auth/oidc/{provider}/callback")]
async fn oidc_callback(
    req: HttpRequest,
    shell: Shell,
    session: Session,
    db: web::Data<Db>,
    keys: web::Data<Keys>,
    oidc: web::Data<Oidc>,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, AppError> {
    let provider = path.into_inner();
    let origin = Origin::of(&req);
    oidc.provider(&provider).map_err(|_| AppError::NotFound)?;
    if let Some(error) = &query.error {
        let detail = format!(
            "oidc:{provider}: provider error {error}: {}",
            query.error_description.clone().unwrap_or_default()
        );
        audit_refusal(&db, origin, None, detail).await?;
        return refused(
            shell,
            "The sign-in was cancelled or refused by the provider.",
        );
    }
    let (Some(code), Some(state), Some(value)) = (
        query.code.clone(),
        query.state.clone(),
        sso_binding::from_request(&req),
    ) else {
        audit_refusal(
            &db,
            origin,
            None,
            format!("oidc:{provider}: callback without code, state or browser binding"),
        )
        .await?;
        return refused(
            shell,
            "This sign-in link is not valid. Start again from the sign-in page.",
        );
    };
    let (id, hash, target) = (
        keys.opaque_hash("oidc-state", &state),
        sso_binding::browser_hash(&keys, &value),
        provider.clone(),
    );
    let pending = db
        .run(move |conn| SsoRequest::take(conn, &id, "oidc", &target, &hash, now()))
        .await?;
    let Some(pending) = pending else {
        audit_refusal(
            &db,
            origin,
            None,
            format!("oidc:{provider}: state does not match a pending sign-in of this browser"),
        )
        .await?;
        return refused(shell, "This sign-in was not started in this browser, was already used, or has expired. Start again.");
    };
    let verifier = sso_binding::pkce_verifier(&keys, &value, &state);
    let nonce = pending.nonce.clone().unwrap_or_default();
    let external = match oidc
        .finish(&provider, &code, query.iss.as_deref(), &verifier, &nonce)
        .await
    {
        Ok(e) => e,
        Err(e) => {
            audit_refusal(&db, origin, None, format!("oidc:{provider}: {e}")).await?;
            return refused(shell, e.user_message());
        }
    };
    if pending.purpose == "link" {
        let current = signed_in_user_id(&session).map(String::from);
        if current.is_none() || current != pending.link_user_id {
            return Err(AppError::LoginRequired);
        }
        let user_id = signed_in_user_id(&session).ok_or(AppError::LoginRequired)?;
        let outcome = db
            .transaction(move |conn| {
                let user = User::find(conn, &user_id)?
                    .filter(User::is_active)
                    .ok_or(AppError::LoginRequired)?;
                sso_service::oidc_link(conn, &user, &external, &origin)
            })
            .await?;
        return Ok(match outcome {
            Ok(()) => redirect_with_flash(
                &req,
                "/profile",
                FlashKind::Success,
                &format!("{provider} is linked. You can sign in with it now."),
            ),
            Err(r) => redirect_with_flash(&req, "/profile", FlashKind::Error, &r.0),
        });
    }
    let audit_origin = origin.clone();
    let outcome = db
        .transaction(move |conn| {
            sso_service::oidc_sign_in(conn, &external, pending.invitation_hash.as_deref(), &origin)
        })
        .await?;
    match outcome {
        Ok(user) => {
            session::sign_in(&session, &user.id)?;
            Ok(redirect("/dashboard"))
        }
        Err(r) => {
            audit_refusal(&db, audit_origin, None, format!("oidc:{provider}: {}", r.0)).await?;
            refused(shell, r.0)
        }
    }
}

// ---------------------------------------------------------------- SAML

fn tolerances(settings: &Settings) -> Tolerances {
    Tolerances {
        clock_skew_secs: settings.saml_clock_skew_secs,
    }
}

#[derive(Debug, Deserialize)]
pub struct SsoStartForm {
    #[serde(default)]
    identifier: String,
}

/// Finds the company by slug, by the email's account, or by the email's domain.
fn company_for(
    conn: &mut crate::db::DbConnection,
    identifier: &str,
) -> Result<Option<Company>, AppError> {
    let identifier = identifier.trim().to_lowercase();
    if let Ok(email) = Email::parse("identifier", &identifier) {
        if let Some(user) = User::find_by_email(conn, &email)? {
            return Ok(Some(Company::find(conn, &user.company_id)?));
        }
        if let crate::services::joining::Joining::JoinCompany(c)
        | crate::services::joining::Joining::NeedsInvitation(c) =
            crate::services::joining::decide(conn, &email)?
        {
            return Ok(Some(c));
        }
        return Ok(None);
    }
    Ok(Company::find_by_slug(conn, &identifier)?)
}

#[post("/sso/start")]
async fn saml_start(
    req: HttpRequest,
    shell: Shell,
    db: web::Data<Db>,
    keys: web::Data<Keys>,
    settings: web::Data<Settings>,
    form: web::Form<SsoStartForm>,
) -> Result<HttpResponse, AppError> {
    let identifier = form.into_inner().identifier;
    let found = db
        .run(move |conn| {
            let Some(company) = company_for(conn, &identifier)? else {
                return Ok::<_, AppError>(None);
            };
            let config = SamlConfig::find(conn, &company.id)?;
            Ok(config.map(|c| (company, c)))
        })
        .await?;
    let Some((company, config)) = found else {
        return super::sign_in::login_with_sso_error(
            shell,
            &db,
            &settings,
            "No single sign-on is set up for that email or company.",
        )
        .await;
    };
    let urls = saml::sp_urls(&settings.public_url, &company.slug);
    let (value, fresh) = binding(&req);
    let (request_id, url) =
        saml::authn_request(&config, &urls, tolerances(&settings), &company.slug)
            .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let request = SsoRequest {
        id: request_id,
        kind: "saml".into(),
        target: company.id.to_string(),
        purpose: "signin".into(),
        browser_hash: sso_binding::browser_hash(&keys, &value),
        nonce: None,
        link_user_id: None,
        created_at: now(),
        expires_at: now() + chrono::Duration::minutes(REQUEST_TTL_MINUTES),
        used_at: None,
        invitation_hash: None,
    };
    db.run(move |conn| request.insert(conn)).await?;
    // A 303 answer to this form POST would be a form submission landing on another origin,
    // which the login page's CSP (`form-action 'self'`) forbids; a page that moves on by
    // itself (meta refresh, with a link for the rare browser that does not) is not.
    let page = render(&ContinuePage {
        shell,
        company: company.name.clone(),
        url,
    })?;
    Ok(with_binding(page, &value, fresh, settings.is_https()))
}

#[derive(Template)]
#[template(path = "auth/sso_continue.html")]
struct ContinuePage {
    shell: Shell,
    company: String,
    url: String,
}

#[get("/sso/saml/{slug}/metadata")]
async fn saml_metadata(
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let s = slug.clone();
    db.run(move |conn| Company::find_by_slug(conn, &s))
        .await?
        .ok_or(AppError::NotFound)?;
    let xml = saml::sp_metadata(&saml::sp_urls(&settings.public_url, &slug))
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    Ok(HttpResponse::Ok()
        .content_type("application/samlmetadata+xml")
        .body(xml))
}

#[derive(Debug, Deserialize)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse", default)]
    saml_response: String,
}

#[allow(clippy::too_many_arguments)]
#[post("/sso/saml/{slug}/acs")]
async fn saml_acs(
    req: HttpRequest,
    shell: Shell,
    session: Session,
    db: web::Data<Db>,
    keys: web::Data<Keys>,
    settings: web::Data<Settings>,
    path: web::Path<String>,
    form: web::Form<AcsForm>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let origin = Origin::of(&req);
    let browser = sso_binding::from_request(&req).map(|v| sso_binding::browser_hash(&keys, &v));
    let s = slug.clone();
    let b = browser.clone().unwrap_or_default();
    let b2 = b.clone();
    let found = db
        .run(move |conn| {
            let Some(company) = Company::find_by_slug(conn, &s)? else {
                return Ok::<_, AppError>(None);
            };
            let Some(config) = SamlConfig::find(conn, &company.id)? else {
                return Ok(None);
            };
            let pending = SsoRequest::pending_saml_ids(conn, company.id.as_str(), &b2, now())?;
            Ok(Some((company, config, pending)))
        })
        .await?;
    let Some((company, config, pending)) = found else {
        return Err(AppError::NotFound);
    };
    let urls: SpUrls = saml::sp_urls(&settings.public_url, &company.slug);
    let checked = saml::check_response(
        &config,
        &urls,
        tolerances(&settings),
        &form.saml_response,
        &pending,
    );
    let login = match checked {
        Ok(l) => l,
        Err(reason) => {
            audit_refusal(
                &db,
                origin,
                Some(company.id.clone()),
                format!("saml: {reason}"),
            )
            .await?;
            return refused(
                shell,
                "Your identity provider's answer was not accepted. Try signing in again.",
            );
        }
    };
    let (company2, audit_origin) = (company.clone(), origin.clone());
    let outcome = db
        .transaction(move |conn| {
            if let Some(irt) = &login.in_response_to {
                if SsoRequest::take(conn, irt, "saml", company2.id.as_str(), &b, now())?.is_none() {
                    return Ok(Err(sso_service::Refusal(
                        "saml: the request was already answered".into(),
                    )));
                }
            }
            let expires = login.expires_at.naive_utc();
            if !crate::db::models::remember_assertion(
                conn,
                &company2.id,
                &login.assertion_id,
                expires,
            )? {
                return Ok(Err(sso_service::Refusal("saml: replayed assertion".into())));
            }
            sso_service::saml_sign_in(conn, &company2, &login, &origin)
        })
        .await?;
    match outcome {
        Ok(user) => {
            session::sign_in(&session, &user.id)?;
            Ok(redirect("/dashboard"))
        }
        Err(r) => {
            audit_refusal(
                &db,
                audit_origin,
                Some(company.id.clone()),
                format!("saml: {}", r.0.trim_start_matches("saml: ")),
            )
            .await?;
            refused(
                shell,
                if r.0.starts_with("saml:") {
                    "Your identity provider's answer was not accepted. Try signing in again."
                        .to_owned()
                } else {
                    r.0
                },
            )
        }
    }
}

// ---------------------------------------------------------------- Profile: linked identities

pub struct IdentityRow {
    pub id: String,
    pub provider: String,
    pub email: String,
    pub linked: String,
    pub last_used: String,
}

pub struct ProviderLink {
    pub key: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    shell: Shell,
    name: String,
    email: String,
    role: String,
    has_password: bool,
    identities: Vec<IdentityRow>,
    providers: Vec<ProviderLink>,
}

#[get("/profile")]
async fn profile(
    shell: Shell,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
    oidc: web::Data<Oidc>,
) -> Result<HttpResponse, AppError> {
    let me = me.into_inner();
    let id = me.user.id.clone();
    let identities = db.run(move |conn| Identity::of_user(conn, &id)).await?;
    let providers = oidc
        .providers()
        .iter()
        .filter(|p| !identities.iter().any(|i| i.provider == p.key))
        .map(|p| ProviderLink {
            key: p.key.clone(),
            name: p.display_name.clone(),
        })
        .collect();
    render(&ProfilePage {
        shell,
        name: me.user.name.clone(),
        email: me.user.email.clone(),
        role: me.user.role().to_string(),
        has_password: me.user.password_hash.is_some(),
        identities: identities
            .into_iter()
            .map(|i| IdentityRow {
                id: i.id.to_string(),
                provider: i.provider,
                email: i.email,
                linked: super::views::fmt_time(Some(i.created_at)),
                last_used: super::views::fmt_time(i.last_used_at),
            })
            .collect(),
        providers,
    })
}

#[post("/profile/identities/{id}/unlink")]
async fn unlink(
    req: HttpRequest,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: IdentityId = path.into_inner().parse().map_err(|_| AppError::NotFound)?;
    let user = me.into_inner().user;
    let origin = Origin::of(&req);
    let outcome = db
        .transaction(move |conn| sso_service::unlink(conn, &user, &id, &origin))
        .await?;
    Ok(match outcome {
        Ok(identity) => redirect_with_flash(
            &req,
            "/profile",
            FlashKind::Success,
            &format!("{} is unlinked.", identity.provider),
        ),
        Err(r) => redirect_with_flash(&req, "/profile", FlashKind::Error, &r.0),
    })
}

pub fn public_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(oidc_start)
        .service(oidc_callback)
        .service(saml_start)
        .service(saml_metadata)
        .service(saml_acs);
}

pub fn signed_in_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(profile).service(unlink);
}
