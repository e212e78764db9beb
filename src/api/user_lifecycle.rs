//! `/v4/user` lifecycle (Platform API Key only), as meetergo documents it: creating a user with
//! their time zone and the default meeting type, and removing one with a chosen receiver.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::principal::{Acting, ActingOrOwner};
use crate::authz::{authorize, Action};
use crate::db::models::User;
use crate::db::Db;
use crate::domain::{Email, FieldError, Label, Role, UserId, UserStatus};
use crate::error::{AppError, RefusalKind};
use crate::services::audit::Origin;
use crate::services::joining::NewAccount;
use crate::services::offboarding::{self, Handover};
use crate::services::platform_users::{self, NewPlatformUser, TimeZone};

use super::error::{ApiError, ErrorBody};
use super::user::{any_user_in_company, full_name, name_part_lengths, ALREADY_REMOVED};
use super::JsonObject;
use crate::paths::api as paths;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUserBody {
    #[schema(format = "email", max_length = 254, example = "ada@example.com")]
    pub email: String,
    /// Given and family name together: at most 100 characters, no control or text-direction
    /// characters. Without either, the name is the email's local part.
    #[schema(
        max_length = 49,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub given_name: Option<String>,
    #[schema(
        max_length = 50,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub family_name: Option<String>,
    /// IANA time zone name; `UTC` when absent.
    #[schema(schema_with = timezone_schema)]
    pub timezone: Option<String>,
    /// `member` (default) or `admin`.
    #[schema(schema_with = role_schema)]
    pub role: Option<String>,
}

fn timezone_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            utoipa::openapi::schema::Type::String,
            utoipa::openapi::schema::Type::Null,
        ]))
        .description(Some(
            "IANA time zone name (e.g. Europe/Berlin); UTC when absent.",
        ))
        .enum_values(Some(
            TimeZone::all_names()
                .map(serde_json::Value::from)
                .chain(std::iter::once(serde_json::Value::Null)),
        ))
        .build()
}

fn role_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            utoipa::openapi::schema::Type::String,
            utoipa::openapi::schema::Type::Null,
        ]))
        .description(Some("`member` (default) or `admin`."))
        .enum_values(Some([
            serde_json::Value::from("member"),
            serde_json::Value::from("admin"),
            serde_json::Value::Null,
        ]))
        .build()
}

/// The answer to `POST /v4/user`, with meetergo's fields.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedUser {
    pub user_id: String,
    /// Always null: this console has no availability schedules yet (meetergo returns the id
    /// of the new user's default availability here).
    #[schema(value_type = Option<String>)]
    pub availability_id: Option<String>,
    /// The default 30-minute meeting type provisioned for the new user.
    pub meeting_type_id: String,
    /// Always null: this console serves no public booking pages yet.
    #[schema(value_type = Option<String>)]
    pub booking_url: Option<String>,
    pub company_id: String,
    pub email: String,
    pub timezone: String,
}

/// Creates a user in the key's company (Platform API Key only), with the default 30-minute
/// meeting type.
#[utoipa::path(post, path = paths::USERS, context_path = paths::SCOPE, tag = "user", request_body = CreateUserBody,
    responses((status = 201, body = CreatedUser),
              (status = 400, description = "Body not JSON, or validation failed (`errors[]` names the fields)", body = ErrorBody),
              (status = 401, description = "No or invalid credential", body = ErrorBody),
              (status = 403, description = "Not a Platform API Key", body = ErrorBody),
              (status = 409, description = "A user with this email already exists", body = ErrorBody),
              (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody),
              (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("platform_api_key" = [])))]
pub async fn create(
    req: HttpRequest,
    acting: ActingOrOwner,
    db: web::Data<Db>,
    body: JsonObject<CreateUserBody>,
) -> Result<HttpResponse, ApiError> {
    let acting = acting.0;
    authorize(acting.actor(), Action::CreateUser)?;
    let new = validate_new_user(body.into_inner())?;
    let caller = platform_users::ApiCaller {
        company: acting.user.company_id.clone(),
        credential: acting.credential.id().to_owned(),
        actor: None,
        origin: Origin::of(&req),
    };
    let created = platform_users::create(&db, caller, new)
        .await
        .map_err(|e| match e {
            AppError::Refused(r) if r.kind == RefusalKind::Conflict => {
                ApiError::conflict("A user with this email already exists")
            }
            other => other.into(),
        })?;
    let user = created.user;
    Ok(HttpResponse::Created().json(CreatedUser {
        user_id: user.id.to_string(),
        availability_id: None,
        meeting_type_id: created.meeting_type.id.to_string(),
        booking_url: None,
        company_id: user.company_id.to_string(),
        email: user.email,
        timezone: user.timezone,
    }))
}

fn validate_new_user(body: CreateUserBody) -> Result<NewPlatformUser, ApiError> {
    let mut errors = name_part_lengths(body.given_name.as_deref(), body.family_name.as_deref());
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
    let timezone = match body.timezone.as_deref() {
        None => Some(TimeZone::utc()),
        Some(raw) => TimeZone::parse("timezone", raw)
            .map_err(|e| errors.push(e))
            .ok(),
    };
    match (email, name, role, timezone) {
        (Some(email), Some(name), Some(role), Some(timezone)) => Ok(NewPlatformUser {
            account: NewAccount {
                name,
                email,
                password_hash: None,
                email_verified_at: None,
            },
            role,
            timezone,
        }),
        _ => Err(ApiError::validation(errors)),
    }
}

/// The optional body of `DELETE /v4/user/{id}`: who receives the leaver's resources, and
/// which kinds. meetergo's other kinds (forms, workflows, showcases, availabilities, qualifiers)
/// are accepted and have nothing to act on in this console.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteUserBody {
    /// An active user of the same company, not the one removed; the company owner when absent.
    #[schema(format = "uuid")]
    pub target_user_id: Option<String>,
    /// Hand the meeting types over (default). With `false` they are soft-deleted and stay
    /// with the removed user, so nobody can book them any more.
    pub meeting_types: Option<bool>,
    pub forms: Option<bool>,
    pub workflows: Option<bool>,
    pub showcases: Option<bool>,
    pub availabilities: Option<bool>,
    pub qualifiers: Option<bool>,
}

/// An empty body (or `null`) means "everything to the owner"; anything else must be the
/// JSON object.
fn delete_body(raw: &[u8]) -> Result<DeleteUserBody, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(DeleteUserBody::default());
    }
    let invalid = |e: serde_json::Error| ApiError::bad_request(format!("Invalid JSON body: {e}"));
    match serde_json::from_slice::<serde_json::Value>(raw).map_err(invalid)? {
        serde_json::Value::Null => Ok(DeleteUserBody::default()),
        object @ serde_json::Value::Object(_) => serde_json::from_value(object).map_err(invalid),
        _ => Err(ApiError::bad_request(
            "Invalid JSON body: expected an object",
        )),
    }
}

/// Removes a user (Platform API Key only; not the acting user, not the owner): the same
/// offboarding as the dashboard, in one transaction. Their meeting types and future
/// appointments go to `targetUserId` (default: the company owner); with `meetingTypes: false`
/// the meeting types are soft-deleted instead. Cannot be undone.
#[utoipa::path(delete, path = paths::USER, context_path = paths::SCOPE, tag = "user", request_body(content = Option<DeleteUserBody>, description = "Optional"),
    params(("id" = String, Path, description = "User id")),
    responses((status = 204, description = "Removed"),
              (status = 400, description = "Body not JSON, `targetUserId` not an active colleague, or no `x-meetergo-api-user-id`", body = ErrorBody),
              (status = 401, description = "No or invalid credential", body = ErrorBody),
              (status = 403, description = "Not a Platform API Key, the acting user, or the owner", body = ErrorBody),
              (status = 404, description = "No such user in this company, or `targetUserId` is not an active user of it", body = ErrorBody),
              (status = 409, description = "The user was already removed, or the receiver stopped being active (also by a request at the same moment)", body = ErrorBody),
              (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = ErrorBody),
              (status = 503, description = "Database unavailable (`Retry-After`)", body = ErrorBody)),
    security(("platform_api_key" = [])))]
pub async fn delete(
    req: HttpRequest,
    acting: Acting,
    db: web::Data<Db>,
    path: web::Path<UserId>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let acting = acting.0;
    let target = any_user_in_company(&db, &acting, path.into_inner())
        .await?
        .ok_or_else(ApiError::not_found)?;
    authorize(acting.actor(), Action::DeleteUser(&target))?;
    if target.status() == UserStatus::Removed {
        return Err(ApiError::conflict(ALREADY_REMOVED));
    }
    let body = delete_body(&body)?;
    let receiver = match body.target_user_id.as_deref() {
        Some(raw) => Some(receiver_for(&db, &acting, &target, raw).await?),
        None => None,
    };
    let handover = Handover {
        meeting_types: body.meeting_types.unwrap_or(true),
    };
    let job = offboarding::Offboarding {
        leaver: target,
        receiver,
        handover,
        requester: offboarding::Requester::ApiKey(acting.credential.id().to_owned()),
        origin: Origin::of(&req),
        now: crate::db::models::now(),
    };
    let report = offboarding::offboard(&db, job).await?;
    if let Some(mailer) = req.app_data::<web::Data<crate::services::mail::Mailer>>() {
        offboarding::notify_receiver(mailer, &report);
    }
    Ok(HttpResponse::NoContent().finish())
}

const RECEIVER_NOT_FOUND: &str = "No active user of this company has the id in targetUserId.";

/// The `targetUserId` of a removal: an active user of the company other than the leaver.
async fn receiver_for(
    db: &Db,
    acting: &crate::api::principal::ActingUser,
    leaver: &User,
    raw: &str,
) -> Result<UserId, ApiError> {
    let refuse =
        |message: &str| ApiError::validation(vec![FieldError::new("targetUserId", message)]);
    let Ok(id) = raw.parse::<UserId>() else {
        return Err(refuse("Use the id of a user (a UUID)."));
    };
    let found = any_user_in_company(db, acting, id).await?;
    match found {
        Some(u) if u.id == leaver.id => Err(refuse(
            "The user who is removed cannot receive their own resources.",
        )),
        Some(u) if u.is_active() => Ok(u.id),
        _ => Err(ApiError::not_found_with(RECEIVER_NOT_FOUND)),
    }
}
