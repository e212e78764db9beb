//! The `/v4` JSON API, wire-compatible with the public meetergo API.

pub mod appointment;
pub mod error;
pub mod meeting_type;
pub mod openapi;
pub mod principal;
pub mod user;

use actix_web::web;

use error::ApiError;

/// Every `/v4` route. The OpenAPI document lists the same handlers.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/v4")
            .app_data(web::JsonConfig::default().error_handler(|e, _| {
                ApiError::bad_request(format!("Invalid JSON body: {e}")).into()
            }))
            .app_data(
                web::QueryConfig::default().error_handler(|e, _| {
                    ApiError::bad_request(format!("Invalid query: {e}")).into()
                }),
            )
            .service(user::me)
            .service(user::list)
            .service(user::create)
            .service(user::update)
            .service(user::delete)
            .service(meeting_type::list)
            .service(meeting_type::create)
            .service(meeting_type::get_one)
            .service(meeting_type::update)
            .service(appointment::paginated)
            .service(openapi::document)
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError::not_found())
            })),
    );
}
