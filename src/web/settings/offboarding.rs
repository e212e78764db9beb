//! Offboarding a member: a preview of everything that will happen, then one transaction.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::session::CurrentUser;
use crate::authz::Action;
use crate::db::models::{now, Invitation, PersonalAccessToken, PlatformApiKey, User};
use crate::db::schema::appointments;
use crate::db::Db;
use crate::domain::{UserId, UserStatus};
use crate::error::AppError;
use crate::services::audit::Origin;
use crate::services::offboarding;
use crate::web::page::{redirect_with_flash, render, Shell};
use crate::web::paths;
use crate::web::require;
use crate::web::views::{fmt_date, fmt_time};

pub struct PlannedMeetingType {
    pub title: String,
    pub slug: String,
    pub new_slug: String,
    pub upcoming: Vec<String>,
}

pub struct Choice {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "settings/offboard.html")]
struct OffboardPage {
    shell: Shell,
    section: &'static str,
    leaver_id: String,
    leaver_name: String,
    leaver_email: String,
    receiver_name: String,
    meeting_types: Vec<PlannedMeetingType>,
    tokens: Vec<(String, String, String)>,
    sessions: i64,
    invitations: Vec<String>,
    api_keys: Vec<String>,
    choices: Vec<Choice>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PreviewQuery {
    transfer_to: Option<String>,
}

async fn leaver(db: &Db, me: &CurrentUser, raw: &str) -> Result<User, AppError> {
    let id: UserId = raw.parse().map_err(|_| AppError::NotFound)?;
    let company = me.company.id.clone();
    let user = db
        .run(move |conn| User::find_in_company(conn, &company, &id))
        .await?
        .ok_or(AppError::NotFound)?;
    require(me, Action::Offboard(&user))?;
    if user.status() == UserStatus::Removed {
        return Err(AppError::Conflict(
            "This member has already been offboarded.".into(),
        ));
    }
    Ok(user)
}

async fn preview(
    shell: Shell,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
    path: web::Path<String>,
    query: web::Query<PreviewQuery>,
) -> Result<HttpResponse, AppError> {
    require(&me, Action::ViewAdminArea)?;
    let me = me.into_inner();
    let leaver = leaver(&db, &me, &path).await?;
    let receiver_id: UserId = query
        .transfer_to
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| me.user.id.clone());
    let (company, leaver_id) = (me.company.id.clone(), leaver.id.clone());
    let data = db
        .run(move |conn| {
            use diesel::prelude::*;
            let candidates: Vec<User> = User::active_in_company(conn, &company)?
                .into_iter()
                .filter(|u| u.id != leaver_id)
                .collect();
            let receiver = candidates
                .iter()
                .find(|u| u.id == receiver_id)
                .cloned()
                .ok_or(AppError::NotFound)?;
            let at = now();
            let mut planned = Vec::new();
            // Deleted meeting types move too (they keep their slugs) but are not shown.
            for (mt, new_slug) in offboarding::planned_slugs(conn, &leaver_id, &receiver.id)?
                .into_iter()
                .filter(|(mt, _)| mt.deleted_at.is_none())
            {
                let upcoming: Vec<(chrono::NaiveDateTime, String)> = appointments::table
                    .filter(appointments::meeting_type_id.eq(&mt.id))
                    .filter(appointments::host_id.eq(&leaver_id))
                    .filter(appointments::starts_at.ge(at))
                    .order(appointments::starts_at.asc())
                    .select((appointments::starts_at, appointments::attendee_name))
                    .load(conn)?;
                planned.push(PlannedMeetingType {
                    title: mt.title,
                    slug: mt.slug,
                    new_slug,
                    upcoming: upcoming
                        .into_iter()
                        .map(|(t, who)| format!("{} with {who}", fmt_time(Some(t))))
                        .collect(),
                });
            }
            let tokens = PersonalAccessToken::active_of(conn, &leaver_id)?
                .into_iter()
                .map(|t| (t.name, fmt_time(t.last_used_at), t.prefix))
                .collect();
            let sessions = User::count_sessions(conn, &leaver_id)?;
            let invitations = Invitation::pending_sent_by(conn, &leaver_id, at)?
                .into_iter()
                .map(|i| format!("{} ({})", i.email, i.role))
                .collect();
            let api_keys = PlatformApiKey::created_by_user(conn, &leaver_id)?
                .into_iter()
                .map(|k| format!("{} (expires {})", k.name, fmt_date(Some(k.expires_at))))
                .collect();
            Ok::<_, AppError>((
                candidates,
                receiver,
                planned,
                tokens,
                sessions,
                invitations,
                api_keys,
            ))
        })
        .await?;
    let (candidates, receiver, meeting_types, tokens, sessions, invitations, api_keys) = data;
    render(&OffboardPage {
        shell,
        section: "members",
        leaver_id: leaver.id.to_string(),
        leaver_name: leaver.name,
        leaver_email: leaver.email,
        receiver_name: receiver.name.clone(),
        meeting_types,
        tokens,
        sessions,
        invitations,
        api_keys,
        choices: candidates
            .into_iter()
            .map(|u| Choice {
                selected: u.id == receiver.id,
                id: u.id.to_string(),
                label: format!("{} ({})", u.name, u.email),
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    transfer_to: String,
}

async fn confirm(
    req: HttpRequest,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
    path: web::Path<String>,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    require(&me, Action::ViewAdminArea)?;
    let me = me.into_inner();
    let leaver = leaver(&db, &me, &path).await?;
    let receiver: UserId = form
        .transfer_to
        .parse()
        .map_err(|_| AppError::BadRequest("Choose who receives the meeting types.".into()))?;
    let (actor, origin) = (me.user.id.clone(), Origin::of(&req));
    let name = leaver.name.clone();
    let report = db
        .transaction(move |conn| {
            offboarding::offboard(conn, Some(&actor), None, &leaver, &receiver, &origin)
        })
        .await?;
    Ok(redirect_with_flash(
        &req,
        paths::MEMBERS,
        crate::web::page::FlashKind::Success,
        &format!(
            "{name} was offboarded: {} meeting types and {} upcoming appointments moved, {} tokens revoked, {} sessions ended.",
            report.meeting_types_moved, report.appointments_moved, report.tokens_revoked, report.sessions_ended
        ),
    ))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::MEMBER_OFFBOARD, web::get().to(preview))
        .route(paths::MEMBER_OFFBOARD, web::post().to(confirm));
}
