//! `/v4/meeting-type`: the acting user's meeting types.

use actix_web::{get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::principal::Acting;
use crate::db::models::{now, MeetingType};
use crate::db::{is_unique_violation, Db};
use crate::domain::{FieldError, Label, MeetingTypeId, Slug};
use crate::error::AppError;

use super::error::ApiError;

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

#[derive(Debug, Deserialize, ToSchema)]
pub struct MeetingTypeInput {
    pub title: Option<String>,
    pub slug: Option<String>,
    /// Minutes, 5 to 720.
    pub duration: Option<i32>,
}

struct Valid {
    title: Label,
    slug: Slug,
    duration: i32,
}

fn validate(title: &str, slug: Option<&str>, duration: i32) -> Result<Valid, ApiError> {
    let mut errors = Vec::new();
    let title = Label::parse("title", "title", title, 120)
        .map_err(|e| errors.push(e))
        .ok();
    let slug = match slug {
        Some(s) => Slug::parse("slug", s).map_err(|e| errors.push(e)).ok(),
        None => title.as_ref().map(|t| Slug::from_text(t.as_str())),
    };
    if !(5..=720).contains(&duration) {
        errors.push(FieldError::new(
            "duration",
            "duration must be between 5 and 720 minutes",
        ));
    }
    match (title, slug) {
        (Some(title), Some(slug)) if errors.is_empty() => Ok(Valid {
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
#[utoipa::path(get, path = "/v4/meeting-type", tag = "meeting-type",
    responses((status = 200, body = [MeetingTypeBody]), (status = 401, body = super::error::ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
#[get("/meeting-type")]
pub async fn list(
    acting: Acting,
    db: web::Data<Db>,
) -> Result<web::Json<Vec<MeetingTypeBody>>, ApiError> {
    let owner = acting.0.user.id;
    let rows = db
        .run(move |conn| MeetingType::list_for_owner(conn, &owner))
        .await?;
    Ok(web::Json(rows.iter().map(MeetingTypeBody::from).collect()))
}

/// Creates a meeting type for the acting user. A slug they already use is 409.
#[utoipa::path(post, path = "/v4/meeting-type", tag = "meeting-type", request_body = MeetingTypeInput,
    responses((status = 201, body = MeetingTypeBody), (status = 400, body = super::error::ErrorBody),
              (status = 409, body = super::error::ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
#[post("/meeting-type")]
pub async fn create(
    acting: Acting,
    db: web::Data<Db>,
    body: web::Json<MeetingTypeInput>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let valid = validate(
        body.title.as_deref().unwrap_or_default(),
        body.slug.as_deref(),
        body.duration.unwrap_or(30),
    )?;
    let owner = acting.0.user.id;
    let created = db
        .run(move |conn| {
            let mt = MeetingType {
                id: MeetingTypeId::new(),
                owner_id: owner,
                title: valid.title.into_string(),
                slug: valid.slug.as_str().to_owned(),
                duration_minutes: valid.duration,
                created_at: now(),
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

async fn find(db: &Db, acting: &Acting, raw: String) -> Result<MeetingType, ApiError> {
    let id: MeetingTypeId = raw.parse().map_err(|_| ApiError::not_found())?;
    let owner = acting.0.user.id.clone();
    db.run(move |conn| MeetingType::find_for_owner(conn, &owner, &id))
        .await?
        .ok_or_else(ApiError::not_found)
}

/// One of the acting user's meeting types; anyone else's is 404.
#[utoipa::path(get, path = "/v4/meeting-type/{id}", tag = "meeting-type",
    params(("id" = String, Path, description = "Meeting type id")),
    responses((status = 200, body = MeetingTypeBody), (status = 404, body = super::error::ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
#[get("/meeting-type/{id}")]
pub async fn get_one(
    acting: Acting,
    db: web::Data<Db>,
    path: web::Path<String>,
) -> Result<web::Json<MeetingTypeBody>, ApiError> {
    let mt = find(&db, &acting, path.into_inner()).await?;
    Ok(web::Json(MeetingTypeBody::from(&mt)))
}

/// Changes title, slug or duration of one of the acting user's meeting types.
#[utoipa::path(patch, path = "/v4/meeting-type/{id}", tag = "meeting-type", request_body = MeetingTypeInput,
    params(("id" = String, Path, description = "Meeting type id")),
    responses((status = 200, body = MeetingTypeBody), (status = 404, body = super::error::ErrorBody),
              (status = 409, body = super::error::ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
#[patch("/meeting-type/{id}")]
pub async fn update(
    acting: Acting,
    db: web::Data<Db>,
    path: web::Path<String>,
    body: web::Json<MeetingTypeInput>,
) -> Result<web::Json<MeetingTypeBody>, ApiError> {
    let current = find(&db, &acting, path.into_inner()).await?;
    let body = body.into_inner();
    let valid = validate(
        body.title.as_deref().unwrap_or(&current.title),
        Some(body.slug.as_deref().unwrap_or(&current.slug)),
        body.duration.unwrap_or(current.duration_minutes),
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
        .await??;
    Ok(web::Json(MeetingTypeBody::from(&updated)))
}
