//! Profile → Sessions: every browser signed in as me, with "Sign out" for each and for all
//! the others; and the name form of the profile page.

use actix_session::Session;
use actix_web::{web, HttpResponse};

use crate::paths;
use askama::Template;
use serde::Deserialize;

use crate::auth::session::{self, SESSION_REF_KEY};
use crate::db::models::BrowserSession;
use crate::domain::Label;
use crate::error::AppError;
use crate::services::account;
use crate::web::context::Member;
use crate::web::page::{render, FlashKind, Shell};
use crate::web::user_agent::device_of;
use crate::web::views::When;

pub struct SessionRow {
    pub id: String,
    pub device: String,
    pub ip: String,
    pub signed_in: When,
    pub last_active: When,
    pub is_current: bool,
}

#[derive(Template)]
#[template(path = "account/sessions.html")]
struct SessionsPage {
    shell: Shell,
    sessions: Vec<SessionRow>,
}

fn row(s: BrowserSession, mine: Option<&str>, now: chrono::NaiveDateTime) -> SessionRow {
    let is_current = mine.is_some() && s.state_text(SESSION_REF_KEY).as_deref() == mine;
    SessionRow {
        device: device_of(s.user_agent.as_deref().unwrap_or("")),
        ip: s.ip.clone().unwrap_or_default(),
        signed_in: When::at(s.created_at, now),
        last_active: When::at(s.last_seen_at.unwrap_or(s.created_at), now),
        is_current,
        id: s.id,
    }
}

async fn show(m: Member, shell: Shell, session: Session) -> Result<HttpResponse, AppError> {
    let mine = session::session_ref(&session);
    let now = m.app.clock.now();
    let sessions = account::sessions(&m.app.db, &m.me.user)
        .await?
        .into_iter()
        .map(|s| row(s, mine.as_deref(), now))
        .collect();
    render(&SessionsPage { shell, sessions })
}

/// The row id of the session making this request.
async fn current_row(m: &Member, session: &Session) -> Result<Option<String>, AppError> {
    let mine = session::session_ref(session);
    Ok(account::sessions(&m.app.db, &m.me.user)
        .await?
        .into_iter()
        .find(|s| mine.is_some() && s.state_text(SESSION_REF_KEY) == mine)
        .map(|s| s.id))
}

#[derive(Debug, Default, Deserialize)]
pub struct SessionForm {
    #[serde(default)]
    session: String,
}

async fn sign_out_one(
    m: Member,
    session: Session,
    form: web::Form<SessionForm>,
) -> Result<HttpResponse, AppError> {
    let id = form.into_inner().session;
    let current = current_row(&m, &session).await?;
    match account::end_session(&m.app.db, m.acting(), id.clone()).await {
        Ok(()) if current.as_deref() == Some(id.as_str()) => {
            session::sign_out(&session);
            Ok(m.redirect_with_flash("/login", FlashKind::Success, "You have been signed out."))
        }
        Ok(()) => Ok(m.redirect_with_flash(
            "/profile/sessions",
            FlashKind::Success,
            "That session is signed out.",
        )),
        Err(AppError::Refused(r)) => {
            Ok(m.redirect_with_flash("/profile/sessions", FlashKind::Error, &r.message))
        }
        Err(e) => Err(e),
    }
}

async fn sign_out_others(m: Member, session: Session) -> Result<HttpResponse, AppError> {
    // Signing in names the session, so its row is known; were it not, "" keeps no row.
    let keep = current_row(&m, &session).await?.unwrap_or_default();
    let ended = account::end_other_sessions(&m.app.db, m.acting(), keep).await?;
    Ok(m.redirect_with_flash(
        "/profile/sessions",
        FlashKind::Success,
        &format!("Signed out {ended} other sessions."),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

async fn rename(m: Member, form: web::Form<NameForm>) -> Result<HttpResponse, AppError> {
    match Label::parse("name", "name", &form.name, 100) {
        Ok(name) => {
            account::rename(&m.app.db, m.acting(), name).await?;
            Ok(m.redirect_with_flash("/profile", FlashKind::Success, "Your name is saved."))
        }
        Err(e) => Ok(m.redirect_with_flash("/profile", FlashKind::Error, &e.message)),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::PROFILE_SESSIONS, web::get().to(show))
        .route(
            paths::PROFILE_SESSION_SIGN_OUT,
            web::post().to(sign_out_one),
        )
        .route(
            paths::PROFILE_SESSIONS_SIGN_OUT_OTHERS,
            web::post().to(sign_out_others),
        )
        .route(paths::PROFILE_NAME, web::post().to(rename));
}
