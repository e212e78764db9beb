//! `/v4/meeting-type`: the acting user's meeting types.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::principal::Acting;
use crate::authz::MEETING_TYPE_NOT_YOURS;
use crate::db::models::{now, MeetingType};
use crate::db::{is_unique_violation, Db};
use crate::domain::{FieldError, Label, MeetingTypeId, Slug};
use crate::error::AppError;

use crate::services::meeting_types;

use super::error::{ApiError, ErrorBody};
use super::JsonObject;
use crate::paths::api as paths;

const NOT_FOUND: &str = "Meeting type not found";

pub(super) fn not_found() -> ApiError {
    ApiError::not_found_with(NOT_FOUND)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeetingTypeBody {
    pub id: String,
    pub title: String,
    pub slug: String,
    pub duration: i32,
    pub user_id: String,
    pub created_at: String,
}

impl From<&MeetingType> for MeetingTypeBody {
    fn from(m: &MeetingType) -> Self {
        Self {
            id: m.id.to_string(),
            title: m.title.clone(),
            slug: m.slug.clone(),
            duration: m.duration_minutes,
            user_id: m.owner_id.to_string(),
            created_at: m.created_at.and_utc().to_rfc3339(),
        }
    }
}

/// A title: 1 to 120 characters with at least one that is not a space, and no control or
/// text-direction characters (the schema's pattern says the same).
const TITLE_MAX: usize = 120;

/// A new meeting type.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingTypeInput {
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*[^\s\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069][^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub title: String,
    /// Lower-case letters, digits and single dashes; made from the title when absent.
    #[schema(min_length = 1, max_length = 80, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    /// Minutes, 5 to 720; 30 when absent.
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = Option<i64>, minimum = 5, maximum = 720)]
    pub duration: Option<i64>,
}

/// Changes to a meeting type; what is absent stays.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingTypeChanges {
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*[^\s\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069][^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 80, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = Option<i64>, minimum = 5, maximum = 720)]
    pub duration: Option<i64>,
}

struct Valid {
    title: Label,
    slug: Slug,
    duration: i32,
}

/// A JSON integer, also when written as `30.0` (JSON Schema counts that as an integer too).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        })
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("duration must be a whole number of minutes"))
}

/// The same rules as the schema: the length counts the text as sent, and a slug may not carry
/// surrounding spaces.
fn validate(title: &str, slug: Option<&str>, duration: i64) -> Result<Valid, ApiError> {
    let mut errors = Vec::new();
    let title = if title.chars().count() > TITLE_MAX {
        errors.push(FieldError::new(
            "title",
            format!("Use at most {TITLE_MAX} characters."),
        ));
        None
    } else {
        Label::parse("title", "title", title, TITLE_MAX)
            .map_err(|e| errors.push(e))
            .ok()
    };
    let slug = match slug {
        Some(s) if s.trim() != s => {
            errors.push(FieldError::new(
                "slug",
                "Remove the spaces around the slug.",
            ));
            None
        }
        Some(s) => Slug::parse("slug", s).map_err(|e| errors.push(e)).ok(),
        None => title.as_ref().map(|t| Slug::from_text(t.as_str())),
    };
    let duration = i32::try_from(duration)
        .ok()
        .filter(|d| (5..=720).contains(d));
    if duration.is_none() {
        errors.push(FieldError::new(
            "duration",
            "duration must be between 5 and 720 minutes",
        ));
    }
    match (title, slug, duration) {
        (Some(title), Some(slug), Some(duration)) if errors.is_empty() => Ok(Valid {
            title,
            slug,
            duration,
        }),
        _ => Err(ApiError::validation(errors)),
    }
}

fn slug_conflict() -> ApiError {
    ApiError::conflict("A meeting type with this slug already exists")
}

/// The acting user's meeting types.
#[utoipa::path(get, path = paths::MEETING_TYPES, context_path = paths::SCOPE, tag = "meeting-type",
    responses((status = 200, body = [MeetingTypeBody]), (status = 400, description = "Query not valid (`errors[]` names the fields), or an API key without `x-meetergo-api-user-id`", body = ErrorBody), (status = 401, description = "No or invalid credential", body = ErrorBody), (status = 403, description = "The API key names a user outside its company, or a PAT names someone else", body = ErrorBody), (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody), (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
pub async fn list(
    acting: Acting,
    db: web::Data<Db>,
) -> Result<web::Json<Vec<MeetingTypeBody>>, ApiError> {
    let owner = acting.0.user.id.clone();
    let rows = db
        .run(move |conn| MeetingType::list_for_owner(conn, &owner))
        .await?;
    Ok(web::Json(rows.iter().map(MeetingTypeBody::from).collect()))
}

/// Creates a meeting type for the acting user. A slug they already use is 409.
#[utoipa::path(post, path = paths::MEETING_TYPES, context_path = paths::SCOPE, tag = "meeting-type", request_body = MeetingTypeInput,
    responses((status = 201, body = MeetingTypeBody), (status = 400, description = "Body or query not valid (`errors[]` names the fields), or an API key without `x-meetergo-api-user-id`", body = ErrorBody), (status = 401, description = "No or invalid credential", body = ErrorBody), (status = 403, description = "The API key names a user outside its company, or a PAT names someone else", body = ErrorBody), (status = 409, description = "The acting user already has (or had: deleted ones keep it) a meeting type with this slug", body = ErrorBody), (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody), (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
pub async fn create(
    acting: Acting,
    db: web::Data<Db>,
    body: JsonObject<MeetingTypeInput>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let valid = validate(
        &body.title,
        body.slug.as_deref(),
        body.duration.unwrap_or(30),
    )?;
    let owner = acting.0.user.id.clone();
    let created = db
        .run(move |conn| {
            let mt = MeetingType {
                id: MeetingTypeId::new(),
                owner_id: owner,
                title: valid.title.into_string(),
                slug: valid.slug.as_str().to_owned(),
                duration_minutes: valid.duration,
                created_at: now(),
                deleted_at: None,
            };
            match mt.insert(conn) {
                Ok(()) => Ok(Ok(mt)),
                Err(e) if is_unique_violation(&e) => Ok(Err(slug_conflict())),
                Err(e) => Err(AppError::from(e)),
            }
        })
        .await??;
    Ok(HttpResponse::Created().json(MeetingTypeBody::from(&created)))
}

async fn find(db: &Db, acting: &Acting, id: MeetingTypeId) -> Result<MeetingType, ApiError> {
    let owner = acting.0.user.id.clone();
    db.run(move |conn| MeetingType::find_for_owner(conn, &owner, &id))
        .await?
        .ok_or_else(not_found)
}

/// One of the acting user's meeting types; anyone else's is 404.
#[utoipa::path(get, path = paths::MEETING_TYPE, context_path = paths::SCOPE, tag = "meeting-type",
    params(("id" = String, Path, description = "Meeting type id")),
    responses((status = 200, body = MeetingTypeBody), (status = 400, description = "Query not valid (`errors[]` names the fields), or an API key without `x-meetergo-api-user-id`", body = ErrorBody), (status = 401, description = "No or invalid credential", body = ErrorBody), (status = 403, description = "The API key names a user outside its company, or a PAT names someone else", body = ErrorBody), (status = 404, description = "Meeting type not found", body = ErrorBody), (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody), (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
pub async fn get_one(
    acting: Acting,
    db: web::Data<Db>,
    path: web::Path<MeetingTypeId>,
) -> Result<web::Json<MeetingTypeBody>, ApiError> {
    let mt = find(&db, &acting, path.into_inner()).await?;
    Ok(web::Json(MeetingTypeBody::from(&mt)))
}

/// Changes title, slug or duration of one of the acting user's meeting types.
#[utoipa::path(patch, path = paths::MEETING_TYPE, context_path = paths::SCOPE, tag = "meeting-type", request_body = MeetingTypeChanges,
    params(("id" = String, Path, description = "Meeting type id")),
    responses((status = 200, body = MeetingTypeBody), (status = 400, description = "Body or query not valid (`errors[]` names the fields), or an API key without `x-meetergo-api-user-id`", body = ErrorBody), (status = 401, description = "No or invalid credential", body = ErrorBody), (status = 403, description = "The API key names a user outside its company, or a PAT names someone else", body = ErrorBody), (status = 404, description = "Meeting type not found", body = ErrorBody), (status = 409, description = "The acting user already has (or had) a meeting type with this slug", body = ErrorBody), (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody), (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
pub async fn update(
    acting: Acting,
    db: web::Data<Db>,
    path: web::Path<MeetingTypeId>,
    body: JsonObject<MeetingTypeChanges>,
) -> Result<web::Json<MeetingTypeBody>, ApiError> {
    let current = find(&db, &acting, path.into_inner()).await?;
    let body = body.into_inner();
    let valid = validate(
        body.title.as_deref().unwrap_or(&current.title),
        Some(body.slug.as_deref().unwrap_or(&current.slug)),
        body.duration
            .unwrap_or_else(|| i64::from(current.duration_minutes)),
    )?;
    let updated = db
        .run(move |conn| {
            match MeetingType::update_fields(
                conn,
                &current.id,
                valid.title.as_str(),
                valid.slug.as_str(),
                valid.duration,
            ) {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => return Ok(Err(slug_conflict())),
                Err(e) => return Err(AppError::from(e)),
            }
            Ok(Ok(MeetingType::find_for_owner(
                conn,
                &current.owner_id,
                &current.id,
            )?
            .ok_or(AppError::NotFound)?))
        })
        .await
        .map_err(|e| match e {
            // Deleted meanwhile.
            AppError::NotFound => not_found(),
            other => other.into(),
        })??;
    Ok(web::Json(MeetingTypeBody::from(&updated)))
}

/// Soft-deletes a meeting type: it disappears from lists and look-ups and cannot be booked; the
/// record stays for history and keeps its slug. Yours, or (admins, API keys) a colleague's.
#[utoipa::path(delete, path = paths::MEETING_TYPE, context_path = paths::SCOPE, tag = "meeting-type",
    params(("id" = String, Path, description = "Meeting type id")),
    responses((status = 200, description = "Deleted; the body is empty"),
              (status = 400, description = "An API key without `x-meetergo-api-user-id`", body = ErrorBody),
              (status = 401, description = "No or invalid credential", body = ErrorBody),
              (status = 403, description = "Not authorized to delete this meeting type", body = ErrorBody),
              (status = 404, description = "Meeting type not found (also when already deleted)", body = ErrorBody),
              (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody),
              (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
pub async fn delete(
    acting: Acting,
    db: web::Data<Db>,
    path: web::Path<MeetingTypeId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let acting = acting.0;
    let company = acting.user.company_id.clone();
    meeting_types::delete(&db, acting, company, id)
        .await
        .map_err(|e| match e {
            AppError::NotFound => not_found(),
            AppError::Forbidden => ApiError::forbidden(MEETING_TYPE_NOT_YOURS),
            other => other.into(),
        })?;
    Ok(HttpResponse::Ok().finish())
}
