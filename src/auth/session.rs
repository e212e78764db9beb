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

use super::session_store::USER_ID_KEY;

const SIGNED_IN_AT_KEY: &str = "signed_in_at";

/// The signed-in user of a page request, with their company.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub company: Company,
}

/// Starts a fresh session for `user`: a new session id, so a key planted before login is useless.
pub fn sign_in(session: &Session, user: &UserId) -> Result<(), AppError> {
    session.renew();
    session
        .insert(USER_ID_KEY, user.as_str())
        .and_then(|()| session.insert(SIGNED_IN_AT_KEY, Utc::now().timestamp()))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("session: {e}")))
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
