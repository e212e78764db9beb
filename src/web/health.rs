//! Liveness and readiness for orchestrators.

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;

use crate::db::Db;
use crate::paths;
use crate::shutdown::Draining;

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Ready while the database answers and the instance is not shutting down.
async fn readyz(db: web::Data<Db>, draining: web::Data<Draining>) -> HttpResponse {
    if draining.is_draining() {
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("shutting down");
    }
    match db.run(|conn| conn.batch_execute("SELECT 1")).await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(_) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable"),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::HEALTHZ, web::get().to(healthz))
        .route(paths::READYZ, web::get().to(readyz));
}
