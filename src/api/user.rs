//! `/v4/user`: the acting user, the company's users, and (with a Platform API Key) their lifecycle.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::principal::{Acting, ActingOrOwner};
use crate::authz::{authorize, Action};
use crate::db::models::{now, User};
use crate::db::Db;
use crate::domain::{Email, FieldError, Label, Role, UserId, UserStatus};
use crate::error::AppError;
use crate::services::audit::{self, AuditKind, Event, Origin};
use crate::services::joining::{self, NewAccount};
use crate::services::offboarding;

use super::error::ApiError;

const ALREADY_REMOVED: &str = "This user has already been removed.";

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
    pub role: String,
    #[schema(example = "workspace")]
    pub user_type: String,
    #[schema(example = "active")]
    pub status: String,
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
            role: u.role().to_string(),
            user_type: "workspace".into(),
            status: u.status().as_str().into(),
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
pub struct ListQuery {
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    /// Default 0.
    pub offset: Option<i64>,
}

/// The user this request acts as.
#[utoipa::path(get, path = "/v4/user/me", tag = "user",
    responses((status = 200, body = UserBody), (status = 401, body = super::error::ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
#[get("/user/me")]
pub async fn me(acting: ActingOrOwner) -> web::Json<UserBody> {
    web::Json(UserBody::from(&acting.0.user))
}

/// The company's users (admins' PATs and API keys).
#[utoipa::path(get, path = "/v4/user", tag = "user", params(ListQuery),
    responses((status = 200, body = UserList), (status = 400, body = super::error::ErrorBody),
              (status = 403, body = super::error::ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
#[get("/user")]
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserBody {
    pub email: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// `member` (default) or `admin`.
    pub role: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedUser {
    pub user_id: String,
    pub company_id: String,
    pub email: String,
}

fn full_name(given: Option<&str>, family: Option<&str>) -> String {
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

/// Creates a user in the key's company (Platform API Key only).
#[utoipa::path(post, path = "/v4/user", tag = "user", request_body = CreateUserBody,
    responses((status = 201, body = CreatedUser), (status = 400, body = super::error::ErrorBody),
              (status = 403, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody)),
    security(("platform_api_key" = [])))]
#[post("/user")]
pub async fn create(
    req: HttpRequest,
    acting: ActingOrOwner,
    db: web::Data<Db>,
    body: web::Json<CreateUserBody>,
) -> Result<HttpResponse, ApiError> {
    let acting = acting.0;
    authorize(acting.actor(), Action::CreateUser)?;
    let body = body.into_inner();
    let mut errors = Vec::new();
    let email = Email::parse("email", &body.email)
        .map_err(|e| errors.push(e))
        .ok();
    let fallback = email
        .as_ref()
        .map(|e| e.as_str().split('@').next().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let name = full_name(body.given_name.as_deref(), body.family_name.as_deref());
    let name = Label::parse(
        "givenName",
        "name",
        if name.is_empty() { &fallback } else { &name },
        100,
    )
    .map_err(|e| errors.push(e))
    .ok();
    let role = match body.role.as_deref().unwrap_or("member") {
        "member" => Some(Role::Member),
        "admin" => Some(Role::Admin),
        _ => {
            errors.push(FieldError::new("role", "role must be 'member' or 'admin'"));
            None
        }
    };
    let (Some(email), Some(name), Some(role)) = (email, name, role) else {
        return Err(ApiError::validation(errors));
    };
    let origin = Origin::of(&req);
    let company = acting.user.company_id.clone();
    let credential = acting.credential.id().to_owned();
    let user = db
        .transaction(move |conn| {
            let user = joining::add_member(
                conn,
                &company,
                NewAccount {
                    name,
                    email,
                    password_hash: None,
                },
                role,
            )?;
            audit::record(
                conn,
                &origin,
                Event::new(AuditKind::UserCreated)
                    .company(&company)
                    .credential(&credential)
                    .target(format!("{} ({})", user.email, user.id)),
            )?;
            Ok(user)
        })
        .await
        .map_err(|e| match e {
            AppError::Conflict(_) => ApiError::conflict("A user with this email already exists"),
            other => other.into(),
        })?;
    Ok(HttpResponse::Created().json(CreatedUser {
        user_id: user.id.to_string(),
        company_id: user.company_id.to_string(),
        email: user.email,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserBody {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

async fn target_in_company(
    db: &Db,
    acting: &crate::api::principal::ActingUser,
    raw: String,
) -> Result<User, ApiError> {
    any_user_in_company(db, acting, raw)
        .await?
        .filter(|u| u.status() != UserStatus::Removed)
        .ok_or_else(ApiError::not_found)
}

/// The company's user with this id, removed ones included.
async fn any_user_in_company(
    db: &Db,
    acting: &crate::api::principal::ActingUser,
    raw: String,
) -> Result<Option<User>, ApiError> {
    let id: UserId = raw.parse().map_err(|_| ApiError::not_found())?;
    let company = acting.user.company_id.clone();
    Ok(db
        .run(move |conn| User::find_in_company(conn, &company, &id))
        .await?)
}

/// Updates a user's profile: any user of the company with an API key, only oneself with a PAT.
#[utoipa::path(patch, path = "/v4/user/{id}", tag = "user", request_body = UpdateUserBody,
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserBody), (status = 403, body = super::error::ErrorBody),
              (status = 404, body = super::error::ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
#[patch("/user/{id}")]
pub async fn update(
    req: HttpRequest,
    acting: Acting,
    db: web::Data<Db>,
    path: web::Path<String>,
    body: web::Json<UpdateUserBody>,
) -> Result<web::Json<UserBody>, ApiError> {
    let acting = acting.0;
    let target = target_in_company(&db, &acting, path.into_inner()).await?;
    authorize(acting.actor(), Action::UpdateUser(&target))?;
    let body = body.into_inner();
    let (old_given, old_family) = split_name(&target.name);
    let name = full_name(
        Some(body.given_name.as_deref().unwrap_or(&old_given)),
        Some(body.family_name.as_deref().unwrap_or(&old_family)),
    );
    let name =
        Label::parse("givenName", "name", &name, 100).map_err(|e| ApiError::validation(vec![e]))?;
    let origin = Origin::of(&req);
    let credential = acting.credential.id().to_owned();
    let actor = acting.user.id.clone();
    let updated = db
        .transaction(move |conn| {
            use crate::db::schema::users;
            use diesel::prelude::*;
            diesel::update(users::table.find(&target.id))
                .set((users::name.eq(name.as_str()), users::updated_at.eq(now())))
                .execute(conn)?;
            audit::record(
                conn,
                &origin,
                Event::new(AuditKind::UserUpdated)
                    .company(&target.company_id)
                    .actor(&actor)
                    .credential(&credential)
                    .target(target.id.to_string()),
            )?;
            User::find(conn, &target.id)?.ok_or(AppError::NotFound)
        })
        .await?;
    Ok(web::Json(UserBody::from(&updated)))
}

/// Removes a user (Platform API Key only): the same offboarding as the dashboard; their meeting
/// types go to the company owner.
#[utoipa::path(delete, path = "/v4/user/{id}", tag = "user",
    params(("id" = String, Path, description = "User id")),
    responses((status = 204), (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
              (status = 409, description = "The user was already removed (also by a request at the same moment)", body = super::error::ErrorBody)),
    security(("platform_api_key" = [])))]
#[delete("/user/{id}")]
pub async fn delete(
    req: HttpRequest,
    acting: Acting,
    db: web::Data<Db>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let acting = acting.0;
    let target = any_user_in_company(&db, &acting, path.into_inner())
        .await?
        .ok_or_else(ApiError::not_found)?;
    authorize(acting.actor(), Action::DeleteUser(&target))?;
    if target.status() == UserStatus::Removed {
        return Err(ApiError::conflict(ALREADY_REMOVED));
    }
    let origin = Origin::of(&req);
    let credential = acting.credential.id().to_owned();
    db.transaction(move |conn| {
        let owner = User::owner_of(conn, &target.company_id)?;
        offboarding::offboard(conn, None, Some(&credential), &target, &owner.id, &origin)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
