//! SCIM errors (RFC 7644 §3.12): `{"schemas": [Error], "status": "404", "scimType": …,
//! "detail": …}` as `application/scim+json`. Internal errors are logged and hidden here.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::error::{AppError, RefusalKind};
use crate::services::scim::USER_NAME;

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const CONTENT_TYPE: &str = "application/scim+json";

/// A `scimType` (RFC 7644 Table 9) with what to tell the identity provider's admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub scim_type: &'static str,
    pub detail: String,
}

impl Problem {
    pub fn new(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self {
            scim_type,
            detail: detail.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
    retry_after: Option<u64>,
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.detail)
    }
}

impl ScimError {
    fn new(status: StatusCode, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, None, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, None, detail)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, None, "Resource not found.")
    }
    pub fn bad_request(problem: Problem) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            Some(problem.scim_type),
            problem.detail,
        )
    }
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request(Problem::new("invalidSyntax", detail))
    }
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
    }
    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            "Request body too large.",
        )
    }
    /// A resource this service provider does not offer (404, not 501: nothing is broken).
    pub fn not_supported(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }
    /// A resource that exists, asked with a method it does not answer (the discovery
    /// documents are read-only; a user is not POSTed to).
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            "This method is not allowed on this resource.",
        )
    }
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, None, "Too Many Requests");
        e.retry_after = Some(retry_after);
        e
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "Internal server error.",
        )
    }
}

impl From<AppError> for ScimError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => Self::not_found(),
            AppError::Forbidden | AppError::LoginRequired => {
                Self::forbidden("This SCIM secret may not do that.")
            }
            AppError::BadRequest(m) => Self::invalid_syntax(m),
            AppError::Refused(r) => match r.kind {
                RefusalKind::Conflict if r.field == Some(USER_NAME) => Self::uniqueness(r.message),
                RefusalKind::Conflict => Self::new(StatusCode::CONFLICT, None, r.message),
                RefusalKind::Invalid => Self::bad_request(Problem::new(
                    "invalidValue",
                    match r.field {
                        Some(field) => format!("{field}: {}", r.message),
                        None => r.message,
                    },
                )),
                RefusalKind::Forbidden => Self::forbidden(r.message),
                RefusalKind::Unknown | RefusalKind::Gone => Self::not_found(),
            },
            AppError::RateLimited { retry_after_secs } => Self::rate_limited(retry_after_secs),
            AppError::Unavailable(m) => {
                tracing::warn!(error = %m, "database unavailable");
                let mut e = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    "Service temporarily unavailable.",
                );
                e.retry_after = Some(crate::error::RETRY_AFTER_UNAVAILABLE_SECS);
                e
            }
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                Self::internal()
            }
        }
    }
}

impl From<diesel::result::Error> for ScimError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::from(e).into()
    }
}

impl From<Problem> for ScimError {
    fn from(p: Problem) -> Self {
        Self::bad_request(p)
    }
}

/// A SCIM JSON answer.
pub fn scim_json(status: StatusCode, body: &serde_json::Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, CONTENT_TYPE))
        .body(body.to_string())
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let (Some(t), Some(o)) = (self.scim_type, body.as_object_mut()) {
            o.insert("scimType".into(), t.into());
        }
        let mut response = scim_json(self.status, &body);
        if let Some(secs) = self.retry_after {
            if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"SCIM\", Basic realm=\"SCIM\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Refusal;

    #[test]
    fn a_taken_user_name_is_uniqueness_and_other_refusals_keep_their_meaning() {
        let taken = Refusal::field(USER_NAME, "Taken.").with_kind(RefusalKind::Conflict);
        let e = ScimError::from(AppError::from(taken));
        assert_eq!((e.status.as_u16(), e.scim_type), (409, Some("uniqueness")));
        let e = ScimError::from(AppError::from(Refusal::field("name", "Too long.")));
        assert_eq!(
            (e.status.as_u16(), e.scim_type),
            (400, Some("invalidValue"))
        );
        assert_eq!(e.detail, "name: Too long.");
        let e = ScimError::from(AppError::from(Refusal::conflict("Twice.")));
        assert_eq!((e.status.as_u16(), e.scim_type), (409, None));
    }

    #[actix_web::test]
    async fn the_body_is_the_scim_error_schema() {
        let response = ScimError::uniqueness("Taken.").error_response();
        assert_eq!(
            response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some(CONTENT_TYPE)
        );
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap_or_default();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(
            json,
            json!({"schemas": [ERROR_SCHEMA], "status": "409", "scimType": "uniqueness", "detail": "Taken."})
        );
    }
}
