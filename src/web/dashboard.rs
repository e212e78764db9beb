//! The signed-in landing page.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::db::models::{MeetingType, PersonalAccessToken};
use crate::error::AppError;
use crate::paths;

use super::context::Member;
use super::page::{render, Shell};

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    shell: Shell,
    name: String,
    company: String,
    role: String,
    meeting_types: Vec<MeetingType>,
    active_tokens: i64,
}

async fn dashboard(m: Member, shell: Shell) -> Result<HttpResponse, AppError> {
    let me = &m.me;
    let (id, at) = (me.user.id.clone(), m.now);
    let (meeting_types, active_tokens) = m
        .app
        .db
        .run(move |conn| {
            Ok::<_, AppError>((
                MeetingType::list_for_owner(conn, &id)?,
                PersonalAccessToken::count_active_of(conn, &id, at)?,
            ))
        })
        .await?;
    render(&DashboardPage {
        shell,
        name: me.user.name.clone(),
        company: me.company.name.clone(),
        role: me.user.role().to_string(),
        meeting_types,
        active_tokens,
    })
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::DASHBOARD, web::get().to(dashboard));
}
