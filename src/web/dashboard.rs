//! The signed-in landing page.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::session::CurrentUser;
use crate::db::models::{MeetingType, PersonalAccessToken};
use crate::db::Db;
use crate::error::AppError;
use crate::web::paths;

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

async fn dashboard(
    shell: Shell,
    me: web::ReqData<CurrentUser>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let me = me.into_inner();
    let id = me.user.id.clone();
    let (meeting_types, active_tokens) = db
        .run(move |conn| {
            Ok::<_, AppError>((
                MeetingType::list_for_owner(conn, &id)?,
                PersonalAccessToken::count_active_of(conn, &id)?,
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
