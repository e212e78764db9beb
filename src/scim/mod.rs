//! SCIM 2.0 (RFC 7643/7644) for the company's identity provider, under `/scim/v2` and `/scim`.
//! The protocol lives here (JSON shapes, filters, PATCH); what happens to people is
//! `services::scim`'s. Handlers only translate.

pub mod auth;
pub mod error;
pub mod filter;
pub mod patch;
pub mod resource;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use crate::db::models::ScimMatch;
use crate::domain::UserId;
use crate::paths::scim as paths;
use crate::services::offboarding;
use crate::services::scim as service;
use crate::state::AppState;

use auth::Scim;
use error::{scim_json, Problem, ScimError};

/// Both scopes, `/scim/v2` first: `/scim` would otherwise take its paths.
pub fn routes(cfg: &mut web::ServiceConfig) {
    for scope in [paths::SCOPE_V2, paths::SCOPE] {
        cfg.service(resources(web::scope(scope)));
    }
}

fn resources(scope: actix_web::Scope) -> actix_web::Scope {
    scope
        .app_data(web::PathConfig::default().error_handler(|_, _| ScimError::not_found().into()))
        .app_data(web::PayloadConfig::default().limit(BODY_LIMIT))
        .route(paths::USERS, web::get().to(list_users))
        .route(paths::USERS, web::post().to(create_user))
        // Before `USER`, whose resource would otherwise answer this path's POST with a 405.
        .route(paths::USERS_SEARCH, web::post().to(search_users))
        .route(paths::SEARCH, web::post().to(search_users))
        .route(paths::USER, web::get().to(get_user))
        .route(paths::USER, web::put().to(replace_user))
        .route(paths::USER, web::patch().to(patch_user))
        .route(paths::USER, web::delete().to(delete_user))
        .route(paths::GROUPS, web::get().to(groups))
        .route(paths::GROUPS, web::post().to(groups))
        .route(paths::GROUP, web::get().to(groups))
        .route(paths::GROUP, web::put().to(groups))
        .route(paths::GROUP, web::patch().to(groups))
        .route(paths::GROUP, web::delete().to(groups))
        .route(
            paths::SERVICE_PROVIDER_CONFIG,
            web::get().to(service_provider_config),
        )
        .route(paths::RESOURCE_TYPES, web::get().to(resource_types))
        .route(paths::RESOURCE_TYPE, web::get().to(resource_type))
        .route(paths::SCHEMAS, web::get().to(schemas))
        .route(paths::SCHEMA, web::get().to(schema))
        // The same paths with any other method: 405 (RFC 9110), not the 404 of an unknown path.
        .service(
            web::resource([
                paths::USERS,
                paths::USERS_SEARCH,
                paths::USER,
                paths::SEARCH,
                paths::SERVICE_PROVIDER_CONFIG,
                paths::RESOURCE_TYPES,
                paths::RESOURCE_TYPE,
                paths::SCHEMAS,
                paths::SCHEMA,
            ])
            .to(|| async { Err::<HttpResponse, _>(ScimError::method_not_allowed()) }),
        )
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ScimError::not_found())
        }))
}

/// A user is a few hundred bytes; IdPs send nothing near this.
const BODY_LIMIT: usize = 64 * 1024;

fn ok(body: &Value) -> HttpResponse {
    scim_json(StatusCode::OK, body)
}

fn json_body(bytes: &web::Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ScimError::invalid_syntax(format!("The body is not JSON: {e}")))
}

fn user_id(raw: &str) -> Result<UserId, ScimError> {
    raw.parse().map_err(|_| ScimError::not_found())
}

/// `startIndex` (1-based, at least 1) and `count` (0 to `MAX_RESULTS`), as RFC 7644 §3.4.2.4
/// says to read them: out-of-range values are clamped, not refused.
fn paging(params: &[(String, String)]) -> Result<(i64, i64), ScimError> {
    let number = |name: &str, default: i64| -> Result<i64, ScimError> {
        match params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            None => Ok(default),
            Some((_, v)) => v.trim().parse::<i64>().map_err(|_| {
                ScimError::bad_request(Problem::new(
                    "invalidValue",
                    format!("{name} must be an integer."),
                ))
            }),
        }
    };
    let start = number("startIndex", 1)?.max(1);
    let count = number("count", resource::MAX_RESULTS)?.clamp(0, resource::MAX_RESULTS);
    Ok((start, count))
}

/// What a query asks for, from the URL (GET) or a SearchRequest body (POST `.search`).
struct Query {
    matching: ScimMatch,
    start: i64,
    count: i64,
    projection: resource::Projection,
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn query_params(req: &HttpRequest) -> Result<Vec<(String, String)>, ScimError> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|_| ScimError::invalid_syntax("The query string cannot be read."))
}

fn projection_of(params: &[(String, String)]) -> resource::Projection {
    resource::Projection::from_query(
        param(params, "attributes"),
        param(params, "excludedAttributes"),
    )
}

async fn list_users(req: HttpRequest, scim: Scim) -> Result<HttpResponse, ScimError> {
    let params = query_params(&req)?;
    let matching = match param(&params, "filter") {
        Some(f) => filter::parse(f)?,
        None => ScimMatch::All,
    };
    let (start, count) = paging(&params)?;
    let query = Query {
        matching,
        start,
        count,
        projection: projection_of(&params),
    };
    answer_query(&req, &scim, query).await
}

/// `POST /Users/.search` and `POST /.search` (RFC 7644 §3.4.3): the query in a SearchRequest
/// body. Users are the only resource type, so a search at the root is a search of Users.
async fn search_users(
    req: HttpRequest,
    scim: Scim,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let body = json_body(&body)?;
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("The body must be a SearchRequest object."))?;
    let field = |name: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    };
    let texts = |name: &str| -> Result<Vec<String>, ScimError> {
        match field(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| invalid_value(format!("{name} must be a list of strings."))),
            Some(_) => Err(invalid_value(format!("{name} must be a list of strings."))),
        }
    };
    let matching = match field("filter") {
        None => ScimMatch::All,
        Some(Value::String(f)) => filter::parse(f)?,
        Some(_) => return Err(invalid_value("filter must be a string.".into())),
    };
    // startIndex and count as the query string would carry them.
    let mut params = Vec::new();
    for name in ["startIndex", "count"] {
        match field(name) {
            None => {}
            Some(Value::Number(n)) => params.push((name.to_owned(), n.to_string())),
            Some(_) => return Err(invalid_value(format!("{name} must be an integer."))),
        }
    }
    let (start, count) = paging(&params)?;
    let query = Query {
        matching,
        start,
        count,
        projection: resource::Projection::from_lists(
            &texts("attributes")?,
            &texts("excludedAttributes")?,
        ),
    };
    answer_query(&req, &scim, query).await
}

fn invalid_value(detail: String) -> ScimError {
    ScimError::bad_request(Problem::new("invalidValue", detail))
}

async fn answer_query(
    req: &HttpRequest,
    scim: &Scim,
    query: Query,
) -> Result<HttpResponse, ScimError> {
    let app = app(req)?;
    let page = service::list(
        &app.db,
        scim.caller.company.clone(),
        query.matching,
        query.start - 1,
        query.count,
    )
    .await?;
    let resources = page
        .people
        .iter()
        .map(|p| query.projection.apply(resource::user(p, &scim.base)))
        .collect();
    Ok(ok(&resource::list(resources, page.total, query.start)))
}

/// The public URL with the scope the request came under.
fn base(req: &HttpRequest) -> Result<String, ScimError> {
    let app = app(req)?;
    Ok(auth::base_of(req, &app))
}

fn app(req: &HttpRequest) -> Result<web::Data<AppState>, ScimError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(ScimError::internal)
}

async fn get_user(
    req: HttpRequest,
    scim: Scim,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let id = user_id(&id)?;
    let projection = projection_of(&query_params(&req)?);
    let person = service::get(&app(&req)?.db, scim.caller.company, id).await?;
    Ok(ok(&projection.apply(resource::user(&person, &scim.base))))
}

async fn create_user(
    req: HttpRequest,
    scim: Scim,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let changes = resource::user_from_body(&json_body(&body)?)?;
    let person = service::create(&app(&req)?.db, scim.caller, changes).await?;
    let body = resource::user(&person, &scim.base);
    let mut response = scim_json(StatusCode::CREATED, &body);
    if let Some(location) = body
        .get("meta")
        .and_then(|m| m.get("location"))
        .and_then(Value::as_str)
        .and_then(|l| header::HeaderValue::from_str(l).ok())
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn update(
    req: HttpRequest,
    scim: Scim,
    id: &str,
    changes: service::Changes,
) -> Result<HttpResponse, ScimError> {
    let id = user_id(id)?;
    let app = app(&req)?;
    let updated = service::update(&app.db, scim.caller, id, changes).await?;
    if let Some(report) = &updated.offboarded {
        offboarding::notify_receiver(&app.mailer, report);
    }
    Ok(ok(&resource::user(&updated.person, &scim.base)))
}

async fn replace_user(
    req: HttpRequest,
    scim: Scim,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let changes = resource::user_from_body(&json_body(&body)?)?;
    update(req, scim, &id, changes).await
}

async fn patch_user(
    req: HttpRequest,
    scim: Scim,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let changes = patch::parse(&json_body(&body)?)?;
    update(req, scim, &id, changes).await
}

async fn delete_user(
    req: HttpRequest,
    scim: Scim,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let id = user_id(&id)?;
    let app = app(&req)?;
    if let Some(report) = service::delete(&app.db, scim.caller, id).await? {
        offboarding::notify_receiver(&app.mailer, &report);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Groups are not supported (ServiceProviderConfig and ResourceTypes do not list them): a
/// SCIM 404 that says so, as for any resource type a service provider does not offer.
async fn groups(_scim: Scim) -> Result<HttpResponse, ScimError> {
    Err(ScimError::not_supported(
        "Groups are not supported by this service provider.",
    ))
}

// Discovery documents describe the service and hold no company data: no credential needed.

async fn service_provider_config(req: HttpRequest) -> Result<HttpResponse, ScimError> {
    let base = base(&req)?;
    Ok(ok(&resource::service_provider_config(&base)))
}

async fn resource_types(req: HttpRequest) -> Result<HttpResponse, ScimError> {
    let base = base(&req)?;
    Ok(ok(&resource::list(
        vec![resource::user_resource_type(&base)],
        1,
        1,
    )))
}

async fn resource_type(req: HttpRequest, id: web::Path<String>) -> Result<HttpResponse, ScimError> {
    if id.as_str() != "User" {
        return Err(ScimError::not_found());
    }
    let base = base(&req)?;
    Ok(ok(&resource::user_resource_type(&base)))
}

async fn schemas(req: HttpRequest) -> Result<HttpResponse, ScimError> {
    let base = base(&req)?;
    Ok(ok(&resource::list(
        vec![resource::user_schema(&base)],
        1,
        1,
    )))
}

async fn schema(req: HttpRequest, id: web::Path<String>) -> Result<HttpResponse, ScimError> {
    if id.as_str() != resource::USER_SCHEMA {
        return Err(ScimError::not_found());
    }
    let base = base(&req)?;
    Ok(ok(&resource::user_schema(&base)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(q).unwrap_or_default()
    }

    #[test]
    fn paging_is_clamped_as_the_rfc_says() {
        assert_eq!(paging(&params("")).ok(), Some((1, resource::MAX_RESULTS)));
        assert_eq!(paging(&params("startIndex=0&count=-5")).ok(), Some((1, 0)));
        assert_eq!(paging(&params("startIndex=3&count=2")).ok(), Some((3, 2)));
        assert_eq!(
            paging(&params("count=100000")).ok(),
            Some((1, resource::MAX_RESULTS))
        );
        assert!(paging(&params("count=ten")).is_err());
    }
}
