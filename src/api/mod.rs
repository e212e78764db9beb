//! The `/v4` JSON API, wire-compatible with the public meetergo API.

pub mod appointment;
pub mod error;
pub mod meeting_type;
pub mod openapi;
pub mod principal;
pub mod user;
pub mod user_lifecycle;

use actix_web::dev::ResourceDef;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

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
            // An id that is not one (`/v4/user/abc`) names nothing: 404, as the resource says it.
            .app_data(web::PathConfig::default().error_handler(|_, req| {
                if req.path().starts_with("/v4/meeting-type/") {
                    meeting_type::not_found().into()
                } else {
                    ApiError::not_found().into()
                }
            }))
            .service(user::me)
            .service(user::list)
            .service(user_lifecycle::create)
            .service(user::update)
            .service(user_lifecycle::delete)
            .service(meeting_type::list)
            .service(meeting_type::create)
            .service(meeting_type::get_one)
            .service(meeting_type::update)
            .service(meeting_type::delete)
            .service(appointment::paginated)
            .service(openapi::document)
            .default_service(web::to(unrouted)),
    );
}

/// Every path `/v4` serves and its methods (the OpenAPI document lists the same).
const PATHS: &[(&str, &[&str])] = &[
    ("/v4/user/me", &["GET"]),
    ("/v4/user", &["GET", "POST"]),
    ("/v4/user/{id}", &["PATCH", "DELETE"]),
    ("/v4/meeting-type", &["GET", "POST"]),
    ("/v4/meeting-type/{id}", &["GET", "PATCH", "DELETE"]),
    ("/v4/appointment/paginated", &["GET"]),
    ("/v4/openapi.json", &["GET"]),
];

/// A request no route took: 405 with `Allow` for a known path, else 404.
async fn unrouted(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let mut allowed: Vec<&str> = Vec::new();
    // A fixed path (`/v4/user/me`) is its own resource, not an `{id}`.
    let fixed = PATHS
        .iter()
        .filter(|(pattern, _)| !pattern.contains('{') && *pattern == req.path());
    let candidates: Vec<_> = if fixed.clone().next().is_some() {
        fixed.collect()
    } else {
        PATHS.iter().collect()
    };
    for (pattern, methods) in candidates {
        if ResourceDef::new(*pattern).is_match(req.path()) {
            for m in *methods {
                if !allowed.contains(m) {
                    allowed.push(m);
                }
            }
        }
    }
    if allowed.is_empty() {
        return Err(ApiError::not_found());
    }
    let mut response = actix_web::ResponseError::error_response(&ApiError::method_not_allowed());
    if let Ok(value) = header::HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    Ok(response)
}

/// A JSON body that must be an object (serde would also take a struct written as an array),
/// deserialized into `T`; anything else is 400 `Invalid JSON body`.
pub struct JsonObject<T>(pub T);

impl<T> JsonObject<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for JsonObject<T> {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let object =
            web::Json::<serde_json::Map<String, serde_json::Value>>::from_request(req, payload);
        Box::pin(async move {
            let object = object.await?.into_inner();
            serde_json::from_value(serde_json::Value::Object(object))
                .map(JsonObject)
                .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")).into())
        })
    }
}
