//! `/v4/appointment/paginated`: a user's appointments.

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::principal::Acting;
use crate::authz::{authorize, Action};
use crate::db::models::{Appointment, User};
use crate::db::Db;
use crate::domain::{FieldError, UserId};

use super::error::ApiError;
use crate::paths::api as paths;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct PageQuery {
    /// Whose appointments; default the acting user. Admins may name any user of the company.
    #[param(format = Uuid, nullable = false)]
    pub user_id: Option<String>,
    /// 1-based, 1 to 1000000, default 1.
    #[param(minimum = 1, maximum = 1_000_000, nullable = false)]
    pub page: Option<i64>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100, nullable = false)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppointmentBody {
    pub id: String,
    pub meeting_type_id: String,
    pub host_id: String,
    pub start: String,
    pub end: String,
    pub attendee_name: String,
    pub attendee_email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentPage {
    pub items: Vec<AppointmentBody>,
    pub total: i64,
    pub page: i64,
    pub limit: i64,
}

/// The acting user's appointments, or (for admins) another company user's.
#[utoipa::path(get, path = paths::APPOINTMENTS_PAGINATED, context_path = paths::SCOPE, tag = "appointment", params(PageQuery),
    responses((status = 200, body = AppointmentPage),
              (status = 400, description = "Query not valid (`errors[]` names the fields), or an API key without `x-meetergo-api-user-id`", body = super::error::ErrorBody),
              (status = 401, description = "No or invalid credential", body = super::error::ErrorBody),
              (status = 403, description = "Not allowed to read this user's appointments", body = super::error::ErrorBody),
              (status = 404, description = "No such user in this company", body = super::error::ErrorBody),
              (status = 429, description = "Too many requests with this credential (`Retry-After`)", body = super::error::ErrorBody),
              (status = 503, description = "Database unavailable (`Retry-After`)", body = super::error::ErrorBody)),
    security(("personal_access_token" = []), ("platform_api_key" = [])))]
pub async fn paginated(
    acting: Acting,
    db: web::Data<Db>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<AppointmentPage>, ApiError> {
    let acting = acting.0;
    let query = query.into_inner();
    let page = query.page.unwrap_or(1);
    let limit = query.limit.unwrap_or(20);
    let mut errors = Vec::new();
    if !(1..=1_000_000).contains(&page) {
        errors.push(FieldError::new(
            "page",
            "page must be between 1 and 1000000",
        ));
    }
    if !(1..=100).contains(&limit) {
        errors.push(FieldError::new("limit", "limit must be between 1 and 100"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let host = match query.user_id.as_deref() {
        None => User::clone(&acting.user),
        Some(raw) => {
            // A malformed id, or one outside the company, is refused the same way.
            let id: UserId = raw
                .parse()
                .map_err(|_| ApiError::forbidden("That user is not in your company."))?;
            let company = acting.user.company_id.clone();
            db.run(move |conn| User::find_in_company(conn, &company, &id))
                .await?
                .ok_or_else(|| ApiError::forbidden("That user is not in your company."))?
        }
    };
    authorize(acting.actor(), Action::ReadAppointmentsOf(&host))?;
    let host_id = host.id.clone();
    let (rows, total) = db
        .run(move |conn| Appointment::page_for_host(conn, &host_id, limit, (page - 1) * limit))
        .await?;
    Ok(web::Json(AppointmentPage {
        items: rows
            .into_iter()
            .map(|a| AppointmentBody {
                id: a.id.to_string(),
                meeting_type_id: a.meeting_type_id.to_string(),
                host_id: a.host_id.to_string(),
                start: a.starts_at.and_utc().to_rfc3339(),
                end: a.ends_at.and_utc().to_rfc3339(),
                attendee_name: a.attendee_name,
                attendee_email: a.attendee_email,
            })
            .collect(),
        total,
        page,
        limit,
    }))
}
