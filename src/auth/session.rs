//! Signing in and out of the browser session, and the middleware that admits only signed-in,
//! active users to the console's pages. The user is re-read on every request, so a role change
//! or a deactivation takes effect on the next click.

use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use chrono::Utc;
use diesel::prelude::*;

use crate::config::Settings;
use crate::db::models::{Company, User};
use crate::db::schema::{companies, users};
use crate::db::Db;
use crate::domain::UserId;
use crate::error::AppError;
use crate::paths;

use super::session_store::{METHOD_KEY, USER_ID_KEY};

const SIGNED_IN_AT_KEY: &str = "signed_in_at";
/// Half signed in: the password was right, the two-factor code is still due (and when).
const PENDING_USER_KEY: &str = "two_factor_pending_user";
const PENDING_AT_KEY: &str = "two_factor_pending_at";
/// Signed in with a password in a company that requires two-factor, not yet enrolled.
const MUST_ENROL_KEY: &str = "two_factor_must_enrol";
/// How the account page names this session, and the device it shows (see `session_store`).
pub const SESSION_REF_KEY: &str = "session_ref";
pub const USER_AGENT_KEY: &str = "user_agent";
pub const IP_KEY: &str = "ip";
/// Where a member who must enrol is sent, and the only pages they may see until done.
pub const ENROLMENT_PATH: &str = crate::paths::PROFILE_TWO_FACTOR;
/// How long the second step of a sign-in stays open.
const PENDING_SECS: i64 = 300;

/// A random secret of this session that its CSRF tokens are bound to (see `csrf`).
pub(crate) const CSRF_SECRET_KEY: &str = "csrf_secret";

/// How a session was started: Enforce SSO ends the password and OIDC ones, not SAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    /// A password: the sign-in form, sign-up, an invitation accepted with a password.
    Password,
    Oidc,
    Saml,
}

impl SignInMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Oidc => "oidc",
            Self::Saml => "saml",
        }
    }
}

/// The signed-in user of a page request, with their company.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub company: Company,
}

/// Starts a fresh session for `user`: a new session id and a new CSRF secret, so a key or a
/// form token planted before sign-in is useless.
pub fn sign_in(session: &Session, user: &UserId, method: SignInMethod) -> Result<(), AppError> {
    session.renew();
    for key in [PENDING_USER_KEY, PENDING_AT_KEY, MUST_ENROL_KEY] {
        session.remove(key);
    }
    // A new name for the account page's list: signing in starts a new session there.
    session
        .insert(USER_ID_KEY, user.as_str())
        .and_then(|()| session.insert(SESSION_REF_KEY, new_session_ref()))
        .and_then(|()| session.insert(SIGNED_IN_AT_KEY, Utc::now().timestamp()))
        .and_then(|()| session.insert(METHOD_KEY, method.as_str()))
        .and_then(|()| session.insert(CSRF_SECRET_KEY, super::tokens::random_base62(32)))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("session: {e}")))
}

fn session_error(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("session: {e}"))
}

/// The password was right and a code is due: a fresh session that grants no page, only the
/// second step (`USER_ID_KEY` stays unset, so `require_sign_in` turns it away).
pub fn begin_second_step(session: &Session, user: &UserId, now: i64) -> Result<(), AppError> {
    session.renew();
    session.remove(USER_ID_KEY);
    session
        .insert(PENDING_USER_KEY, user.as_str())
        .and_then(|()| session.insert(PENDING_AT_KEY, now))
        .map_err(session_error)
}

/// The person whose second step is open in this session, if it has not run out.
pub fn pending_second_step(session: &Session, now: i64) -> Option<UserId> {
    let since = session.get::<i64>(PENDING_AT_KEY).ok().flatten()?;
    if now - since > PENDING_SECS {
        return None;
    }
    session
        .get::<String>(PENDING_USER_KEY)
        .ok()
        .flatten()
        .and_then(|s| s.parse().ok())
}

/// After a password sign-in in a company that requires two-factor: enrol before anything else.
pub fn require_enrolment(session: &Session) -> Result<(), AppError> {
    session.insert(MUST_ENROL_KEY, true).map_err(session_error)
}

pub fn enrolment_done(session: &Session) {
    session.remove(MUST_ENROL_KEY);
}

fn new_session_ref() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// This session's name on the account page.
pub fn session_ref(session: &Session) -> Option<String> {
    session.get::<String>(SESSION_REF_KEY).ok().flatten()
}

/// Notes the device and address of a signed-in session (shown on the account page) the first
/// time, and the address again when it changes.
fn note_device(session: &Session, req: &ServiceRequest) {
    let origin = crate::services::audit::Origin::of(req.request());
    let noted = session
        .get::<String>(USER_AGENT_KEY)
        .ok()
        .flatten()
        .is_some();
    if session_ref(session).is_none() {
        let _ = session.insert(SESSION_REF_KEY, new_session_ref());
    }
    if !noted {
        let _ = session.insert(USER_AGENT_KEY, origin.user_agent.unwrap_or_default());
    }
    let ip = origin.ip.unwrap_or_default();
    if session.get::<String>(IP_KEY).ok().flatten().as_deref() != Some(ip.as_str()) {
        let _ = session.insert(IP_KEY, ip);
    }
}

/// Keeps this browser signed in under a new session id after every other session of its user
/// was ended (a password change): the old row is gone, the state is saved under a new key.
pub fn keep_after_others_ended(session: &Session) {
    session.renew();
}

/// The secret this session's CSRF tokens are bound to; none before sign-in.
pub fn csrf_secret(session: &Session) -> Option<String> {
    session.get::<String>(CSRF_SECRET_KEY).ok().flatten()
}

pub fn sign_out(session: &Session) {
    session.purge();
}

pub fn signed_in_user_id(session: &Session) -> Option<UserId> {
    session
        .get::<String>(USER_ID_KEY)
        .ok()
        .flatten()
        .and_then(|s| s.parse().ok())
}

/// Admits a request only with a live session of an active user; puts `CurrentUser` into the
/// request's extensions. Everyone else goes to the login page.
pub async fn require_sign_in(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let session = req.get_session();
    let to_login = |req: ServiceRequest| {
        let response = HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, paths::LOGIN))
            .finish();
        Ok(req.into_response(response).map_into_right_body())
    };
    let Some(user_id) = signed_in_user_id(&session) else {
        return to_login(req);
    };
    let max_lifetime = req
        .app_data::<web::Data<Settings>>()
        .map(|s| s.session_max_lifetime.as_secs() as i64)
        .unwrap_or(12 * 3600);
    let signed_in_at = session
        .get::<i64>(SIGNED_IN_AT_KEY)
        .ok()
        .flatten()
        .unwrap_or(0);
    if Utc::now().timestamp() - signed_in_at > max_lifetime {
        session.purge();
        return to_login(req);
    }
    let db = req
        .app_data::<web::Data<Db>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no database in app data")))?;
    let found = db
        .run(move |conn| {
            users::table
                .inner_join(companies::table)
                .filter(users::id.eq(&user_id))
                .select((User::as_select(), Company::as_select()))
                // By primary key; `load` rather than `.first()`, whose LIMIT defeats SQLite's
                // statement cache on this every-request query.
                .load::<(User, Company)>(conn)
                .map(|rows| rows.into_iter().next())
        })
        .await?;
    match found {
        Some((user, company)) if user.is_active() => {
            note_device(&session, &req);
            let must_enrol = session.get::<bool>(MUST_ENROL_KEY).ok().flatten() == Some(true);
            if must_enrol && !req.path().starts_with(ENROLMENT_PATH) {
                let response = HttpResponse::SeeOther()
                    .insert_header((actix_web::http::header::LOCATION, ENROLMENT_PATH))
                    .finish();
                return Ok(req.into_response(response).map_into_right_body());
            }
            req.extensions_mut().insert(CurrentUser { user, company });
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        _ => {
            session.purge();
            to_login(req)
        }
    }
}
