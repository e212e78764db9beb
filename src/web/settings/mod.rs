//! Settings (admins and the owner): members, invitations, company, offboarding, audit log.

pub mod audit_log;
pub mod company;
pub mod credentials;
pub mod invitations;
pub mod members;
pub mod offboarding;
pub mod provisioning;
pub mod sso;
pub mod webhooks;

use actix_web::{web, HttpResponse};

use super::page::redirect;
use crate::paths;

async fn index() -> HttpResponse {
    redirect(paths::MEMBERS)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::SETTINGS, web::get().to(index));
    members::routes(cfg);
    company::routes(cfg);
    offboarding::routes(cfg);
    audit_log::routes(cfg);
    sso::routes(cfg);
    credentials::routes(cfg);
    provisioning::routes(cfg);
    webhooks::routes(cfg);
}
