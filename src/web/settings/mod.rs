//! Settings (admins and the owner): members, invitations, company, offboarding, audit log.

pub mod audit_log;
pub mod company;
pub mod members;
pub mod offboarding;
pub mod sso;

use actix_web::{get, web, HttpResponse};

use super::page::redirect;

#[get("/settings")]
async fn index() -> HttpResponse {
    redirect("/settings/members")
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(index);
    members::routes(cfg);
    company::routes(cfg);
    offboarding::routes(cfg);
    audit_log::routes(cfg);
    sso::routes(cfg);
}
