//! `POST /v4/credentials/revoke`: anyone who finds our credentials in public (a secret
//! scanner, as GitHub's partners do) reports them here, without a credential. Every working
//! one among them is revoked and whoever answers for it is mailed. The answer is always 202
//! with how many strings arrived, so the endpoint cannot tell anyone which are real.

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::tokens::{self, Presented};
use crate::domain::FieldError;
use crate::paths::api as paths;
use crate::services::audit::Origin;
use crate::services::credentials::{self, ReportedCredentials};
use crate::state::AppState;

use super::error::{ApiError, ErrorBody};

/// At most this many credentials in one report.
pub const MAX_REPORTED: usize = 1000;
/// Longer than any credential we issue; a longer string is refused, not looked at.
pub const MAX_REPORTED_LEN: usize = 200;
/// The largest body read, as every request body (the input guard reads at most this much):
/// 1,000 strings of the longest length fit.
const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeakReport {
    #[schema(schema_with = credentials_schema)]
    pub credentials: Vec<String>,
}

fn credentials_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(MAX_REPORTED_LEN))
                .pattern(Some(r"^[^\u0000-\u001f\u007f-\u009f]*$")),
        )
        .max_items(Some(MAX_REPORTED))
        .description(Some(
            "Personal access tokens (`rgo-…`) and Platform API keys (`ak_live:…`) found in public.",
        ))
        .build()
}

/// The answer, whatever matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeakReportReceived {
    /// How many strings the report held.
    pub received: usize,
}

/// Reads the body up to `MAX_BODY_BYTES` (a larger one is 413) as a JSON object.
async fn read_report(mut payload: web::Payload) -> Result<LeakReport, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("Invalid JSON body: unreadable"))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::payload_too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))?;
    serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))
}

/// Reports credentials found in public; each working one is revoked and its owner (a token) or
/// the company's owners and admins (a key) are mailed. Always 202 with the number received.
#[utoipa::path(post, path = paths::CREDENTIALS_REVOKE, context_path = paths::SCOPE, tag = "credentials",
    request_body = LeakReport,
    responses((status = 202, body = LeakReportReceived, description = "Received; never says which matched"),
              (status = 400, description = "Body not JSON, more than 1,000 credentials, or one longer than 200 characters or with control characters (`errors[]`)", body = ErrorBody),
              (status = 413, description = "Body larger than 256 KiB", body = ErrorBody),
              (status = 429, description = "More than the hourly reports from this address (`Retry-After`)", body = ErrorBody),
              (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(()))]
pub async fn revoke_leaked(
    req: HttpRequest,
    app: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let origin = Origin::of(&req);
    app.limits
        .leak_report(origin.ip.as_deref().unwrap_or_default())
        .await
        .map_err(|r| ApiError::rate_limited(r.0))?;
    let report = read_report(payload).await?;
    let received = report.credentials.len();
    if received > MAX_REPORTED {
        return Err(ApiError::validation(vec![FieldError::new(
            "credentials",
            format!("At most {MAX_REPORTED} credentials in one report."),
        )]));
    }
    if report
        .credentials
        .iter()
        .any(|c| c.chars().count() > MAX_REPORTED_LEN || c.chars().any(char::is_control))
    {
        return Err(ApiError::validation(vec![FieldError::new(
            "credentials",
            format!(
                "No credential is longer than {MAX_REPORTED_LEN} characters or holds control characters."
            ),
        )]));
    }
    // Checksums first: a string that is no credential of ours costs no query.
    let mut reported = ReportedCredentials::default();
    for c in &report.credentials {
        let text = c.trim();
        match tokens::parse(text) {
            Some(Presented::Pat(_)) => reported.pat_hashes.push(app.keys.credential_hash(text)),
            Some(Presented::ApiKey { id, .. }) => reported
                .key_hashes
                .push((id, app.keys.credential_hash(text))),
            None => {}
        }
    }
    reported.pat_hashes.sort();
    reported.pat_hashes.dedup();
    reported.key_hashes.sort();
    reported.key_hashes.dedup();
    let notices = credentials::revoke_reported(&app.db, origin, reported, app.clock.now()).await?;
    if !notices.is_empty() {
        let (mailer, public_url) = (app.mailer.clone(), app.settings.public_url.clone());
        actix_web::rt::spawn(async move {
            for mail in notices.iter().flat_map(|n| n.mails(&public_url)) {
                if let Err(e) = mailer.send(mail).await {
                    tracing::warn!(error = %e, "a leaked-credential notice could not be sent");
                }
            }
        });
    }
    Ok(HttpResponse::Accepted().json(LeakReportReceived { received }))
}
