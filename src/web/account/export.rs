//! Profile → "Download my data", and an owner's or admin's download of a member's data
//! (Settings → Members): the GDPR export as a JSON attachment, streamed (`services::export`).

use actix_web::{web, HttpResponse};

use crate::domain::UserId;
use crate::error::AppError;
use crate::paths;
use crate::services::export::{self, Via};
use crate::web::context::Member;

fn via(m: &Member) -> Via {
    Via {
        credential: None,
        origin: m.origin.clone(),
        now: m.now,
    }
}

async fn download_own(m: Member) -> Result<HttpResponse, AppError> {
    let me = m.me.user.clone();
    let id = me.id.clone();
    let export = export::open(&m.app.db, me, via(&m), id).await?;
    Ok(export.into_attachment(m.now))
}

async fn download_member(m: Member, target: web::Path<UserId>) -> Result<HttpResponse, AppError> {
    let export = export::open(&m.app.db, m.me.user.clone(), via(&m), target.into_inner()).await?;
    Ok(export.into_attachment(m.now))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::PROFILE_EXPORT, web::get().to(download_own))
        .route(paths::MEMBER_EXPORT, web::get().to(download_member));
}
