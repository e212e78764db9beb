//! `/v4/user`: the acting user, the company's users and their profiles. Creating and removing
//! users is in `user_lifecycle`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::principal::{Acting, ActingOrOwner};
use crate::authz::{authorize, Action};
use crate::db::models::User;
use crate::db::Db;
use crate::domain::{FieldError, Label, UserId, UserStatus};
use crate::services::audit::Origin;
use crate::services::platform_users;

use super::error::{ApiError, ErrorBody};
use super::JsonObject;
use crate::paths::api as paths;

pub(super) const ALREADY_REMOVED: &str = "This user has already been removed.";

/// A user as the public API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserBody {
    pub id: String,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub name: String,
    pub is_admin: bool,
    #[schema(example = "admin")]
    pub role: &'static str,
    #[schema(example = "workspace")]
    pub user_type: &'static str,
    #[schema(example = "active")]
    pub status: &'static str,
    pub company_id: String,
    pub created_at: String,
    pub deleted_at: Option<String>,
}

/// "Ada Lovelace" → ("Ada", "Lovelace"); a single word is a given name.
fn split_name(name: &str) -> (String, String) {
    match name.split_once(' ') {
        Some((g, f)) => (g.to_owned(), f.to_owned()),
        None => (name.to_owned(), String::new()),
    }
}

impl From<&User> for UserBody {
    fn from(u: &User) -> Self {
        let (given, family) = split_name(&u.name);
        Self {
            id: u.id.to_string(),
            email: u.email.clone(),
            given_name: given,
            family_name: family,
            name: u.name.clone(),
            is_admin: u.role().is_admin(),
            role: u.role().as_str(),
            user_type: "workspace",
            status: u.status().as_str(),
            company_id: u.company_id.to_string(),
            created_at: u.created_at.and_utc().to_rfc3339(),
            deleted_at: (u.status() == UserStatus::Removed)
                .then(|| u.updated_at.and_utc().to_rfc3339()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserBody>,
    pub total: i64,
    pub count: usize,
    pub offset: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100, nullable = false)]
    pub limit: Option<i64>,
    /// Default 0.
    #[param(minimum = 0, nullable = false)]
    pub offset: Option<i64>,
}

/// The user this request acts as.
#[utoipa::path(get, path = paths::USER_ME, context_path = paths::SCOPE, tag = "user",
    responses((status = 200, body = UserBody), (status = 400, description = "Query not valid (`errors[]` names the fields), or an API key without `x-meetergo-api-user-id`", body = ErrorBody), (status = 401, description = "No or invalid credential", body = ErrorBody), (status = 403, description = "The API key names a user outside its company, or a PAT names someone else", body = ErrorBody), (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody), (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
pub async fn me(acting: ActingOrOwner) -> Result<HttpResponse, ApiError> {
    // The hottest API call: its body is made once per credential cache entry, not per request.
    let body = acting
        .0
        .shown(|user| serde_json::to_vec(&UserBody::from(user)).map(web::Bytes::from))
        .map_err(|_| ApiError::internal())?;
    Ok(HttpResponse::Ok()
        .insert_header(actix_web::http::header::ContentType::json())
        .body(body))
}

/// The company's users (admins' PATs and API keys).
#[utoipa::path(get, path = paths::USERS, context_path = paths::SCOPE, tag = "user", params(ListQuery),
    responses((status = 200, body = UserList), (status = 400, description = "Query not valid (`errors[]` names the fields), or an API key without `x-meetergo-api-user-id`", body = ErrorBody), (status = 401, description = "No or invalid credential", body = ErrorBody), (status = 403, description = "Not allowed to list users", body = ErrorBody), (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody), (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
pub async fn list(
    acting: Acting,
    db: web::Data<Db>,
    query: web::Query<ListQuery>,
) -> Result<web::Json<UserList>, ApiError> {
    let acting = acting.0;
    authorize(acting.actor(), Action::ListUsers)?;
    let limit = query.limit.unwrap_or(20);
    let offset = query.offset.unwrap_or(0);
    let mut errors = Vec::new();
    if !(1..=100).contains(&limit) {
        errors.push(FieldError::new("limit", "limit must be between 1 and 100"));
    }
    if offset < 0 {
        errors.push(FieldError::new("offset", "offset must not be negative"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let company = acting.user.company_id.clone();
    let (users, total) = db
        .run(move |conn| User::list_in_company(conn, &company, limit, offset))
        .await?;
    Ok(web::Json(UserList {
        count: users.len(),
        users: users.iter().map(UserBody::from).collect(),
        total,
        offset,
    }))
}

/// The longest given and family names: together with the space, a name of at most 100.
const GIVEN_MAX: usize = 49;
const FAMILY_MAX: usize = 50;

pub(super) fn name_part_lengths(given: Option<&str>, family: Option<&str>) -> Vec<FieldError> {
    [
        ("givenName", given, GIVEN_MAX),
        ("familyName", family, FAMILY_MAX),
    ]
    .into_iter()
    .filter(|(_, v, max)| v.is_some_and(|v| v.chars().count() > *max))
    .map(|(field, _, max)| FieldError::new(field, format!("Use at most {max} characters.")))
    .collect()
}

pub(super) fn full_name(given: Option<&str>, family: Option<&str>) -> String {
    [
        given.unwrap_or_default().trim(),
        family.unwrap_or_default().trim(),
    ]
    .iter()
    .filter(|p| !p.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(" ")
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateUserBody {
    /// When present: at least one character that is not a space, no control or
    /// text-direction characters.
    #[schema(
        min_length = 1,
        max_length = 49,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*[^\s\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069][^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub given_name: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*[^\s\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069][^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub family_name: Option<String>,
}

async fn target_in_company(
    db: &Db,
    acting: &crate::api::principal::ActingUser,
    id: UserId,
) -> Result<User, ApiError> {
    any_user_in_company(db, acting, id)
        .await?
        .filter(|u| u.status() != UserStatus::Removed)
        .ok_or_else(ApiError::not_found)
}

/// The company's user with this id, removed ones included.
pub(super) async fn any_user_in_company(
    db: &Db,
    acting: &crate::api::principal::ActingUser,
    id: UserId,
) -> Result<Option<User>, ApiError> {
    let company = acting.user.company_id.clone();
    Ok(db
        .run(move |conn| User::find_in_company(conn, &company, &id))
        .await?)
}

/// Updates a user's profile: any user of the company with an API key, only oneself with a PAT.
#[utoipa::path(patch, path = paths::USER, context_path = paths::SCOPE, tag = "user", request_body = UpdateUserBody,
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserBody), (status = 400, description = "Body or query not valid (`errors[]` names the fields), or an API key without `x-meetergo-api-user-id`", body = ErrorBody), (status = 401, description = "No or invalid credential", body = ErrorBody), (status = 403, description = "Not allowed to change this user", body = ErrorBody), (status = 404, description = "No such user in this company", body = ErrorBody), (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody), (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
pub async fn update(
    req: HttpRequest,
    acting: Acting,
    db: web::Data<Db>,
    path: web::Path<UserId>,
    body: JsonObject<UpdateUserBody>,
) -> Result<web::Json<UserBody>, ApiError> {
    let acting = acting.0;
    let target = target_in_company(&db, &acting, path.into_inner()).await?;
    authorize(acting.actor(), Action::UpdateUser(&target))?;
    let body = body.into_inner();
    let mut refused = [
        ("givenName", &body.given_name),
        ("familyName", &body.family_name),
    ]
    .into_iter()
    .filter(|(_, v)| v.as_deref().is_some_and(|v| v.trim().is_empty()))
    .map(|(field, _)| FieldError::new(field, "Enter a name, or leave the field out."))
    .collect::<Vec<_>>();
    refused.extend(name_part_lengths(
        body.given_name.as_deref(),
        body.family_name.as_deref(),
    ));
    if !refused.is_empty() {
        return Err(ApiError::validation(refused));
    }
    let (old_given, old_family) = split_name(&target.name);
    let name = full_name(
        Some(body.given_name.as_deref().unwrap_or(&old_given)),
        Some(body.family_name.as_deref().unwrap_or(&old_family)),
    );
    let name =
        Label::parse("givenName", "name", &name, 100).map_err(|e| ApiError::validation(vec![e]))?;
    let caller = platform_users::ApiCaller {
        company: target.company_id.clone(),
        credential: acting.credential.id().to_owned(),
        actor: Some(acting.user.id.clone()),
        origin: Origin::of(&req),
    };
    let updated = platform_users::rename(&db, caller, target, name).await?;
    Ok(web::Json(UserBody::from(&updated)))
}
