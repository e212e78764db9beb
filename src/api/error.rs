//! The JSON error body of `/v4`: `{statusCode, message, error, code}` as the public meetergo
//! API sends it, plus a stable snake_case `code` and, for validation, `errors[]`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::authz::Denied;
use crate::domain::FieldError;
use crate::error::AppError;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// The error body every `/v4` endpoint answers with.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[schema(example = 401)]
    pub status_code: u16,
    #[schema(example = "Invalid API key")]
    pub message: String,
    #[schema(example = "Unauthorized")]
    pub error: String,
    #[schema(example = "invalid_credential")]
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    errors: Vec<FieldProblem>,
    retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn missing_authorization() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "missing_authorization",
            "Missing authorization header",
        )
    }
    pub fn invalid_credential() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credential",
            "Invalid API key",
        )
    }
    pub fn credential_expired() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "credential_expired",
            "API key has expired",
        )
    }
    pub fn missing_user_header() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "missing_user_header",
            "Missing required header 'x-meetergo-api-user-id' for API key authentication",
        )
    }
    pub fn impersonation_forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "impersonation_forbidden",
            "A Personal Access Token cannot act on behalf of another user",
        )
    }
    pub fn user_not_in_company() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "user_not_in_company",
            "The user named in 'x-meetergo-api-user-id' is not an active user of this company",
        )
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found")
    }
    pub fn not_found_with(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
        )
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "Validation failed",
        );
        e.errors = errors
            .into_iter()
            .map(|f| FieldProblem {
                field: f.field.to_owned(),
                message: f.message,
            })
            .collect();
        e
    }
    /// A service's refusal, in the API's terms: a value to correct is a validation failure.
    pub fn refused(r: crate::error::Refusal) -> Self {
        use crate::error::RefusalKind as K;
        match r.kind {
            K::Invalid => Self::validation(vec![r.as_field_error("body")]),
            K::Forbidden => Self::forbidden(r.message),
            K::Unknown => Self::not_found_with(r.message),
            K::Conflict => Self::conflict(r.message),
            K::Gone => Self::new(StatusCode::GONE, "gone", r.message),
        }
    }
    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Request body too large",
        )
    }
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too Many Requests",
        );
        e.retry_after = Some(retry_after);
        e
    }
    pub fn unavailable() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service temporarily unavailable",
        );
        e.retry_after = Some(crate::error::RETRY_AFTER_UNAVAILABLE_SECS);
        e
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
        )
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        Self::forbidden(d.0)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => Self::not_found(),
            AppError::Forbidden | AppError::LoginRequired => Self::forbidden("Forbidden"),
            AppError::BadRequest(m) => Self::bad_request(m),
            AppError::Refused(r) => Self::refused(r),
            AppError::RateLimited { retry_after_secs } => Self::rate_limited(retry_after_secs),
            AppError::Unavailable(m) => {
                tracing::warn!(error = %m, "database unavailable");
                Self::unavailable()
            }
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                Self::internal()
            }
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::from(e).into()
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body = ErrorBody {
            status_code: self.status.as_u16(),
            message: self.message.clone(),
            error: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            code: self.code.to_owned(),
            errors: self.errors.clone(),
        };
        let mut response = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        response.json(body)
    }
}

#[cfg(test)]
mod refusal_tests {
    use super::*;
    use crate::error::{Refusal, RefusalKind};

    #[test]
    fn a_refused_value_is_a_validation_failure_naming_the_field() {
        let e = ApiError::from(AppError::from(Refusal::field("email", "Taken.")));
        assert_eq!((e.status.as_u16(), e.code), (400, "validation_failed"));
        assert_eq!(e.errors.first().map(|f| f.field.as_str()), Some("email"));
        let e = ApiError::from(AppError::from(Refusal::conflict("Twice.")));
        assert_eq!((e.status.as_u16(), e.code), (409, "conflict"));
        let e = ApiError::from(AppError::from(Refusal::new(RefusalKind::Gone, "Used.")));
        assert_eq!(e.status.as_u16(), 410);
    }
}
