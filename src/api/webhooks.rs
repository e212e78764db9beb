//! `/webhooks` (meetergo's documented path) and `/v4/webhooks`: the company's webhook
//! endpoints, for Platform API Keys and the Personal Access Tokens of owners and admins. The
//! signing secret is in the creation answer only.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

use crate::api::principal::{Acting, ActingUser, Credential};
use crate::authz::{authorize, Action};
use crate::db::models::WebhookEndpoint;
use crate::domain::webhook::{Description, EndpointUrl, EventTypes};
use crate::domain::WebhookEndpointId;
use crate::error::AppError;
use crate::services::audit::Origin;
use crate::services::webhooks::{self, Manager, NewWebhook, Via, WebhookChanges};
use crate::state::AppState;
use crate::webhooks::target::TargetPolicy;

use super::error::{ApiError, ErrorBody};
use super::JsonObject;
use crate::paths::api as paths;

const NOT_FOUND: &str = "Webhook not found";

/// The endpoint URLs the API takes, as the schema's `pattern` says (so a client that checks
/// the schema and the console agree): http(s), a lower-case host name whose labels start with
/// a letter or an IPv4 address, an optional port, a path and a query of URL-safe characters:
/// `^https?://([a-z][a-z0-9]*(-[a-z0-9]+)*(\.[a-z][a-z0-9]*(-[a-z0-9]+)*)*|(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/[A-Za-z0-9._~-]*)*(\?[A-Za-z0-9._~=&%-]*)?$`.
/// `https` and a public address are further required by the target policy. Matched by hand
/// (the crate has no regex engine).
fn matches_endpoint_pattern(raw: &str) -> bool {
    fn label(s: &str) -> bool {
        let mut parts = s.split('-');
        let first_ok = parts.next().is_some_and(|first| {
            first.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && first
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
        first_ok
            && parts.all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '-');
    let Some(rest) = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
    else {
        return false;
    };
    let (rest, query) = match rest.split_once('?') {
        Some((before, q)) => (before, Some(q)),
        None => (rest, None),
    };
    if query.is_some_and(|q| {
        !q.chars()
            .all(|c| safe(c) || c == '=' || c == '&' || c == '%')
    }) {
        return false;
    }
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if !path.split('/').skip(1).all(|seg| seg.chars().all(safe)) {
        return false;
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let number = |s: &str, max: u32| {
        !s.is_empty()
            && s.len() <= 5
            && s.chars().all(|c| c.is_ascii_digit())
            && (s == "0" || !s.starts_with('0'))
            && s.parse::<u32>().is_ok_and(|n| n <= max)
    };
    let port_ok = port.is_none_or(|p| p != "0" && number(p, 65_535));
    let ipv4 = host.split('.').count() == 4 && host.split('.').all(|o| number(o, 255));
    port_ok && (ipv4 || host.split('.').all(label))
}

pub(super) fn not_found() -> ApiError {
    ApiError::not_found_with(NOT_FOUND)
}

/// The event types an endpoint can subscribe to (the OpenAPI document's enum; a unit test
/// keeps it equal to `WebhookEventType::subscribable`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookEventName {
    NewEmployee,
    EmployeeOffboarded,
    CredentialCreated,
    CredentialRevoked,
    CredentialExpiring,
}

/// A webhook endpoint, as meetergo answers it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookBody {
    pub id: String,
    pub endpoint: String,
    pub description: Option<String>,
    #[schema(value_type = Vec<WebhookEventName>)]
    pub event_types: Vec<String>,
    pub company_id: String,
    pub created_at: String,
    /// False when switched off (by someone, or after failing for 3 days).
    pub enabled: bool,
}

impl From<&WebhookEndpoint> for WebhookBody {
    fn from(e: &WebhookEndpoint) -> Self {
        Self {
            id: e.id.to_string(),
            endpoint: e.endpoint.clone(),
            description: e.description.clone(),
            event_types: EventTypes::from_stored(&e.event_types)
                .names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            company_id: e.company_id.to_string(),
            created_at: e.created_at.and_utc().to_rfc3339(),
            enabled: e.enabled,
        }
    }
}

/// The creation answer: the endpoint and its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWebhookBody {
    pub id: String,
    pub endpoint: String,
    pub description: Option<String>,
    #[schema(value_type = Vec<WebhookEventName>)]
    pub event_types: Vec<String>,
    pub company_id: String,
    pub created_at: String,
    pub enabled: bool,
    /// The Standard Webhooks signing secret (`whsec_…`). Only in this answer: store it now.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// A new webhook endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhookInput {
    /// Where deliveries are POSTed: an https URL of a public address.
    #[schema(
        max_length = 2048,
        pattern = r"^https?://([a-z][a-z0-9]*(-[a-z0-9]+)*(\.[a-z][a-z0-9]*(-[a-z0-9]+)*)*|(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/[A-Za-z0-9._~-]*)*(\?[A-Za-z0-9._~=&%-]*)?$",
        example = "https://hooks.example.com/meetergo"
    )]
    pub endpoint: String,
    /// At most 500 characters, no control (but tab and line breaks) or text-direction ones.
    #[schema(
        max_length = 500,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub description: Option<String>,
    /// At least one.
    #[schema(value_type = Vec<WebhookEventName>, min_items = 1)]
    pub event_types: Vec<String>,
}

/// Changes to a webhook endpoint; what is absent stays. An empty description removes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWebhookInput {
    #[schema(
        max_length = 2048,
        pattern = r"^https?://([a-z][a-z0-9]*(-[a-z0-9]+)*(\.[a-z][a-z0-9]*(-[a-z0-9]+)*)*|(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/[A-Za-z0-9._~-]*)*(\?[A-Za-z0-9._~=&%-]*)?$"
    )]
    pub endpoint: Option<String>,
    #[schema(
        max_length = 500,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub description: Option<String>,
    #[schema(value_type = Option<Vec<WebhookEventName>>, min_items = 1)]
    pub event_types: Option<Vec<String>>,
    /// Switch the endpoint off (`false`) or on again (`true`, which also clears an automatic
    /// switch-off after failures).
    pub enabled: Option<bool>,
}

/// Who manages the webhooks: the acting user, through the credential of the request.
fn manager(acting: ActingUser, req: &HttpRequest, app: &AppState) -> Result<Manager, ApiError> {
    authorize(acting.actor(), Action::ManageWebhooks)?;
    let via = match &acting.credential {
        Credential::Pat(id) => Via::Pat(id.to_string()),
        Credential::ApiKey { id, .. } => Via::ApiKey(id.to_string()),
    };
    Ok(Manager {
        user: Arc::unwrap_or_clone(acting.user),
        via,
        origin: Origin::of(req),
        now: app.clock.now(),
    })
}

fn collect<T>(
    errors: &mut Vec<crate::domain::FieldError>,
    parsed: Result<T, crate::domain::FieldError>,
) -> Option<T> {
    parsed.map_err(|e| errors.push(e)).ok()
}

/// The endpoint in the documented form, then by the target policy.
fn endpoint(raw: &str, policy: &TargetPolicy) -> Result<EndpointUrl, crate::domain::FieldError> {
    if !matches_endpoint_pattern(raw) {
        return Err(crate::domain::FieldError::new(
            "endpoint",
            "Enter an http(s) URL with a lower-case host name, such as https://hooks.example.com/meetergo.",
        ));
    }
    EndpointUrl::parse("endpoint", raw, policy)
}

fn parse_new(body: CreateWebhookInput, policy: &TargetPolicy) -> Result<NewWebhook, ApiError> {
    let mut errors = Vec::new();
    let endpoint = collect(&mut errors, endpoint(&body.endpoint, policy));
    let description = collect(
        &mut errors,
        Description::parse("description", body.description.as_deref()),
    );
    let event_types = collect(
        &mut errors,
        EventTypes::parse("eventTypes", body.event_types.iter().map(String::as_str)),
    );
    match (endpoint, description, event_types) {
        (Some(endpoint), Some(description), Some(event_types)) => Ok(NewWebhook {
            endpoint,
            description,
            event_types,
        }),
        _ => Err(ApiError::validation(errors)),
    }
}

fn parse_changes(
    body: UpdateWebhookInput,
    policy: &TargetPolicy,
) -> Result<WebhookChanges, ApiError> {
    let mut errors = Vec::new();
    let endpoint = body
        .endpoint
        .map(|u| collect(&mut errors, endpoint(&u, policy)));
    let description = body
        .description
        .map(|d| collect(&mut errors, Description::parse("description", Some(&d))));
    let event_types = body.event_types.map(|t| {
        collect(
            &mut errors,
            EventTypes::parse("eventTypes", t.iter().map(String::as_str)),
        )
    });
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(WebhookChanges {
        endpoint: endpoint.flatten(),
        description: description.flatten(),
        event_types: event_types.flatten(),
        enabled: body.enabled,
    })
}

fn answer_not_found(e: AppError) -> ApiError {
    match e {
        AppError::NotFound => not_found(),
        other => other.into(),
    }
}

/// The company's webhook endpoints, oldest first. The signing secrets are never listed.
#[utoipa::path(get, path = paths::WEBHOOKS, context_path = paths::SCOPE, tag = "webhooks",
    responses((status = 200, body = [WebhookBody]),
              (status = 400, description = "Query not valid, or an API key without `x-meetergo-api-user-id`", body = ErrorBody),
              (status = 401, description = "No or invalid credential", body = ErrorBody),
              (status = 403, description = "A member's Personal Access Token (webhooks are for owners, admins and API keys), or the key names a user outside its company", body = ErrorBody),
              (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody),
              (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
pub async fn list(
    req: HttpRequest,
    acting: Acting,
    app: web::Data<AppState>,
) -> Result<web::Json<Vec<WebhookBody>>, ApiError> {
    let by = manager(acting.0, &req, &app)?;
    let rows = webhooks::list(&app.db, by.user.company_id).await?;
    Ok(web::Json(rows.iter().map(WebhookBody::from).collect()))
}

/// Registers a webhook endpoint and answers its signing secret (`secret`), this once. At most
/// 6 per company.
#[utoipa::path(post, path = paths::WEBHOOKS, context_path = paths::SCOPE, tag = "webhooks", request_body = CreateWebhookInput,
    responses((status = 201, body = CreatedWebhookBody),
              (status = 400, description = "Body not valid (`errors[]` names the fields: an endpoint that is not an https URL of a public address, an unknown event type), or an API key without `x-meetergo-api-user-id`", body = ErrorBody),
              (status = 401, description = "No or invalid credential", body = ErrorBody),
              (status = 403, description = "A member's Personal Access Token, or the key names a user outside its company", body = ErrorBody),
              (status = 409, description = "The company already has 6 webhooks", body = ErrorBody),
              (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody),
              (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
pub async fn create(
    req: HttpRequest,
    acting: Acting,
    app: web::Data<AppState>,
    body: JsonObject<CreateWebhookInput>,
) -> Result<HttpResponse, ApiError> {
    let by = manager(acting.0, &req, &app)?;
    let new = parse_new(
        body.into_inner(),
        &TargetPolicy::from_settings(&app.settings),
    )?;
    let (endpoint, secret) = webhooks::create(&app.db, app.keys.clone(), by, new).await?;
    let body = WebhookBody::from(&endpoint);
    Ok(HttpResponse::Created().json(CreatedWebhookBody {
        id: body.id,
        endpoint: body.endpoint,
        description: body.description,
        event_types: body.event_types,
        company_id: body.company_id,
        created_at: body.created_at,
        enabled: body.enabled,
        secret: secret.expose().to_owned(),
    }))
}

/// Changes a webhook endpoint of the company.
#[utoipa::path(patch, path = paths::WEBHOOK, context_path = paths::SCOPE, tag = "webhooks", request_body = UpdateWebhookInput,
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 200, body = WebhookBody),
              (status = 400, description = "Body not valid (`errors[]` names the fields), or an API key without `x-meetergo-api-user-id`", body = ErrorBody),
              (status = 401, description = "No or invalid credential", body = ErrorBody),
              (status = 403, description = "A member's Personal Access Token, or the key names a user outside its company", body = ErrorBody),
              (status = 404, description = "Webhook not found (or deleted, or another company's)", body = ErrorBody),
              (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody),
              (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
pub async fn update(
    req: HttpRequest,
    acting: Acting,
    app: web::Data<AppState>,
    path: web::Path<WebhookEndpointId>,
    body: JsonObject<UpdateWebhookInput>,
) -> Result<web::Json<WebhookBody>, ApiError> {
    let by = manager(acting.0, &req, &app)?;
    let changes = parse_changes(
        body.into_inner(),
        &TargetPolicy::from_settings(&app.settings),
    )?;
    let endpoint = webhooks::update(&app.db, by, path.into_inner(), changes)
        .await
        .map_err(answer_not_found)?;
    Ok(web::Json(WebhookBody::from(&endpoint)))
}

/// Deletes a webhook endpoint: nothing is delivered to it any more.
#[utoipa::path(delete, path = paths::WEBHOOK, context_path = paths::SCOPE, tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 200, description = "Deleted; the body is empty"),
              (status = 400, description = "An API key without `x-meetergo-api-user-id`", body = ErrorBody),
              (status = 401, description = "No or invalid credential", body = ErrorBody),
              (status = 403, description = "A member's Personal Access Token, or the key names a user outside its company", body = ErrorBody),
              (status = 404, description = "Webhook not found (also when already deleted)", body = ErrorBody),
              (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody),
              (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
pub async fn delete(
    req: HttpRequest,
    acting: Acting,
    app: web::Data<AppState>,
    path: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, ApiError> {
    let by = manager(acting.0, &req, &app)?;
    webhooks::delete(&app.db, by, path.into_inner())
        .await
        .map_err(answer_not_found)?;
    Ok(HttpResponse::Ok().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_event_names_are_the_subscribable_ones() {
        let documented: Vec<String> = [
            WebhookEventName::NewEmployee,
            WebhookEventName::EmployeeOffboarded,
            WebhookEventName::CredentialCreated,
            WebhookEventName::CredentialRevoked,
            WebhookEventName::CredentialExpiring,
        ]
        .iter()
        .filter_map(|n| serde_json::to_value(n).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
        assert_eq!(documented, crate::domain::webhook::subscribable_names());
    }

    #[test]
    fn the_documented_endpoint_pattern_is_what_is_matched() {
        for ok in [
            "https://hooks.example.com/meetergo",
            "http://localhost:9000/in",
            "https://a-b.c1/x/Y_z~.-/?token=a%20b&x=1",
            "https://hooks.example.com",
            "https://x.io/",
            "http://127.0.0.1:65535/in",
            "http://0.0.0.0/",
        ] {
            assert!(matches_endpoint_pattern(ok), "{ok}");
        }
        for bad in [
            "",
            "ftp://x.io/",
            "https://Hooks.example.com/",
            "https://1.2.3.4.5/",
            "https://256.1.1.1/",
            "https://01.1.1.1/",
            "https://1.2.3/",
            "https://x.io:0/",
            "https://x.io:65536/",
            "https://x.io:080/",
            "https://[::1]/",
            "https://x.io/a b",
            "https://-x.io/",
            "https://x--y.io/",
            "https://x.io/#frag",
            "https://user@x.io/",
            " https://x.io/",
        ] {
            assert!(!matches_endpoint_pattern(bad), "{bad}");
        }
    }

    #[test]
    fn http_endpoints_are_refused_when_the_console_runs_on_https() {
        let policy = TargetPolicy {
            require_https: true,
            allow_private: false,
        };
        let body = CreateWebhookInput {
            endpoint: "http://hooks.example.com/in".into(),
            description: None,
            event_types: vec!["new_employee".into(), "nope".into()],
        };
        let e = parse_new(body, &policy).err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("validation_failed")));
    }
}
