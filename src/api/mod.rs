//! The `/v4` JSON API, wire-compatible with the public meetergo API.

pub mod appointment;
pub mod credentials;
pub mod error;
pub mod meeting_type;
pub mod openapi;
pub mod personal_data;
pub mod principal;
pub mod usage;
pub mod user;
pub mod user_lifecycle;
pub mod webhooks;

use actix_web::dev::ResourceDef;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::paths::api as paths;
use error::ApiError;

/// Every `/v4` route. The OpenAPI document lists the same handlers.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(paths::SCOPE)
            .wrap(actix_web::middleware::from_fn(usage::count_request))
            .app_data(json_errors())
            .app_data(query_errors())
            // An id that is not one (`/v4/user/abc`) names nothing: 404, as the resource says it.
            .app_data(web::PathConfig::default().error_handler(|_, req| {
                let rest = req.path().strip_prefix(paths::SCOPE).unwrap_or_default();
                if rest
                    .strip_prefix(paths::MEETING_TYPES)
                    .is_some_and(|id| id.starts_with('/'))
                {
                    meeting_type::not_found().into()
                } else if rest
                    .strip_prefix(paths::WEBHOOKS)
                    .is_some_and(|id| id.starts_with('/'))
                {
                    webhooks::not_found().into()
                } else {
                    ApiError::not_found().into()
                }
            }))
            .route(paths::USER_ME, web::get().to(user::me))
            .route(paths::USERS, web::get().to(user::list))
            .route(paths::USERS, web::post().to(user_lifecycle::create))
            .route(paths::USER, web::patch().to(user::update))
            .route(paths::USER, web::delete().to(user_lifecycle::delete))
            .route(paths::MEETING_TYPES, web::get().to(meeting_type::list))
            .route(paths::MEETING_TYPES, web::post().to(meeting_type::create))
            .route(paths::MEETING_TYPE, web::get().to(meeting_type::get_one))
            .route(paths::MEETING_TYPE, web::patch().to(meeting_type::update))
            .route(paths::MEETING_TYPE, web::delete().to(meeting_type::delete))
            .route(
                paths::APPOINTMENTS_PAGINATED,
                web::get().to(appointment::paginated),
            )
            .route(paths::OPENAPI, web::get().to(openapi::document))
            .route(
                paths::CREDENTIALS_REVOKE,
                web::post().to(credentials::revoke_leaked),
            )
            .route(paths::USER_EXPORT, web::get().to(personal_data::export))
            .route(paths::WEBHOOKS, web::get().to(webhooks::list))
            .route(paths::WEBHOOKS, web::post().to(webhooks::create))
            .route(paths::WEBHOOK, web::patch().to(webhooks::update))
            .route(paths::WEBHOOK, web::delete().to(webhooks::delete))
            .default_service(web::to(unrouted)),
    );
    unversioned_webhooks(cfg);
}

fn json_errors() -> web::JsonConfig {
    web::JsonConfig::default()
        .error_handler(|e, _| ApiError::bad_request(format!("Invalid JSON body: {e}")).into())
}

fn query_errors() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|e, _| ApiError::bad_request(format!("Invalid query: {e}")).into())
}

/// meetergo documents its webhook API at `/webhooks`, without the version: the same handlers
/// answer there, with the same error bodies, usage counting and 405s as under `/v4`.
fn unversioned_webhooks(cfg: &mut web::ServiceConfig) {
    let not_found =
        || web::PathConfig::default().error_handler(|_, _| webhooks::not_found().into());
    cfg.service(
        web::resource(paths::WEBHOOKS)
            .app_data(json_errors())
            .app_data(query_errors())
            .app_data(not_found())
            .route(web::get().to(webhooks::list))
            .route(web::post().to(webhooks::create))
            .default_service(web::to(unrouted))
            .wrap(actix_web::middleware::from_fn(usage::count_request)),
    );
    cfg.service(
        web::resource(paths::WEBHOOK)
            .app_data(json_errors())
            .app_data(query_errors())
            .app_data(not_found())
            .route(web::patch().to(webhooks::update))
            .route(web::delete().to(webhooks::delete))
            .default_service(web::to(unrouted))
            .wrap(actix_web::middleware::from_fn(usage::count_request)),
    );
}

/// Every path `/v4` serves, relative to the scope, and its methods (the OpenAPI document lists
/// the same).
const PATHS: &[(&str, &[&str])] = &[
    (paths::USER_ME, &["GET"]),
    (paths::USERS, &["GET", "POST"]),
    (paths::USER, &["PATCH", "DELETE"]),
    (paths::MEETING_TYPES, &["GET", "POST"]),
    (paths::MEETING_TYPE, &["GET", "PATCH", "DELETE"]),
    (paths::APPOINTMENTS_PAGINATED, &["GET"]),
    (paths::OPENAPI, &["GET"]),
    (paths::CREDENTIALS_REVOKE, &["POST"]),
    (paths::USER_EXPORT, &["GET"]),
    (paths::WEBHOOKS, &["GET", "POST"]),
    (paths::WEBHOOK, &["PATCH", "DELETE"]),
];

/// A request no route took: 405 with `Allow` for a known path, else 404.
async fn unrouted(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let mut allowed: Vec<&str> = Vec::new();
    // Under the scope, or one of the unversioned webhook paths as it is.
    let path = req.path();
    let path = path.strip_prefix(paths::SCOPE).unwrap_or(path);
    // A fixed path (`/v4/user/me`) is its own resource, not an `{id}`.
    let fixed = PATHS
        .iter()
        .filter(|(pattern, _)| !pattern.contains('{') && *pattern == path);
    let candidates: Vec<_> = if fixed.clone().next().is_some() {
        fixed.collect()
    } else {
        PATHS.iter().collect()
    };
    for (pattern, methods) in candidates {
        if ResourceDef::new(*pattern).is_match(path) {
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

#[cfg(test)]
mod tests {
    use actix_web::http::{Method, StatusCode};
    use actix_web::test::{call_service, init_service, TestRequest};
    use actix_web::App;

    use super::*;

    /// Every path in the 405 table is routed for each of its methods (without app data the
    /// handler fails in its extractors, but not with the 404/405 of `unrouted`), and every
    /// path constant is in the table.
    #[actix_web::test]
    async fn every_api_path_reaches_a_handler() {
        let app = init_service(App::new().configure(routes)).await;
        for (pattern, methods) in PATHS {
            let path = format!(
                "{}{}",
                paths::SCOPE,
                pattern.replace("{id}", "00000000-0000-4000-8000-000000000000")
            );
            for method in *methods {
                let request = TestRequest::default()
                    .method(Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET))
                    .uri(&path)
                    .to_request();
                let status = call_service(&app, request).await.status();
                assert!(
                    status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} has no route ({status})"
                );
            }
        }
        let every_path = [
            paths::USER_ME,
            paths::USERS,
            paths::USER,
            paths::MEETING_TYPES,
            paths::MEETING_TYPE,
            paths::APPOINTMENTS_PAGINATED,
            paths::OPENAPI,
            paths::CREDENTIALS_REVOKE,
            paths::USER_EXPORT,
            paths::WEBHOOKS,
            paths::WEBHOOK,
        ];
        for path in every_path {
            assert!(
                PATHS.iter().any(|(p, _)| *p == path),
                "{path} is not in PATHS"
            );
        }
    }
}
