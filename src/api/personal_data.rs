//! `GET /v4/user/{id}/export`: a user's GDPR export, for Platform API Keys only (meetergo's
//! documentation: a Personal Access Token cannot trigger GDPR exports). The same streamed
//! document as the console's "Download my data" (`services::export`).

use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::principal::Acting;
use crate::domain::UserId;
use crate::services::audit::Origin;
use crate::services::export::{self, PersonalDataExport, Via};
use crate::state::AppState;

use super::error::{ApiError, ErrorBody};
use crate::paths::api as paths;

/// A user's personal data as one JSON document (Platform API Key only), streamed as it is
/// read: profile, company, two-factor state, linked identities, credential metadata (never a
/// secret or a hash), meeting types, hosted appointments and the company's audit events where
/// the user is actor or target, then `counts`. Recorded in the audit log as `user.exported`.
#[utoipa::path(get, path = paths::USER_EXPORT, context_path = paths::SCOPE, tag = "user",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, description = "The export, as an attachment", body = PersonalDataExport, content_type = "application/json"),
              (status = 400, description = "An API key without `x-meetergo-api-user-id`", body = ErrorBody),
              (status = 401, description = "No or invalid credential", body = ErrorBody),
              (status = 403, description = "Not a Platform API Key (a Personal Access Token cannot trigger GDPR exports), or the key names a user outside its company", body = ErrorBody),
              (status = 404, description = "No such user in this company", body = ErrorBody),
              (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody),
              (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("platform_api_key" = [])))]
pub async fn export(
    req: HttpRequest,
    acting: Acting,
    app: web::Data<AppState>,
    path: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let acting = acting.0;
    let now = app.clock.now();
    let via = Via {
        credential: Some(acting.credential.id().to_owned()),
        origin: Origin::of(&req),
        now,
    };
    let export = export::open(&app.db, acting, via, path.into_inner()).await?;
    Ok(export.into_attachment(now))
}
