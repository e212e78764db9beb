//! Errors at the page boundary. The JSON API has its own (`api::error::ApiError`).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("sign-in required")]
    LoginRequired,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    /// An expected "no" (see [`Refusal`]); the transaction it came from is rolled back.
    #[error("refused: {}", .0.message)]
    Refused(Refusal),
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::Error as E;
        match e {
            E::NotFound => Self::NotFound,
            E::DatabaseError(kind, info) if is_outage(&kind, info.message()) => {
                Self::Unavailable(info.message().to_owned())
            }
            other => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

/// Errors that say the database cannot serve right now, not that the request or the code is
/// wrong: the connection is gone (a PostgreSQL restart or shutdown), the server is starting
/// or stopping, or SQLite's write lock stayed taken past the busy timeout. The client may
/// retry these (503 with Retry-After).
fn is_outage(kind: &diesel::result::DatabaseErrorKind, message: &str) -> bool {
    use diesel::result::DatabaseErrorKind as K;
    if matches!(kind, K::ClosedConnection | K::UnableToSendCommand) {
        return true;
    }
    const OUTAGE_MESSAGES: [&str; 8] = [
        // SQLite: SQLITE_BUSY / SQLITE_LOCKED after the busy timeout.
        "database is locked",
        "database table is locked",
        // PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now, lost connection.
        "terminating connection due to administrator command",
        "terminating connection because of crash",
        "the database system is shutting down",
        "the database system is starting up",
        "server closed the connection unexpectedly",
        "no connection to the server",
    ];
    OUTAGE_MESSAGES.iter().any(|m| message.contains(m))
}

/// What kind of "no" a refusal is, which decides its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// A value the person can correct (422).
    Invalid,
    /// Not allowed here, whoever asks (403).
    Forbidden,
    /// Nothing of that name (404).
    Unknown,
    /// Someone or something got there first (409).
    Conflict,
    /// Used, revoked or expired (410).
    Gone,
}

/// An expected refusal by the product, not a failure of the system: what the person is told
/// (beside `field` when a form has one) and, when the audit log must keep it, what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub field: Option<&'static str>,
    pub message: String,
    /// For the audit log only: may name the mechanism ("saml: replayed assertion") where the
    /// message stays general.
    pub detail: Option<String>,
}

impl Refusal {
    pub fn new(kind: RefusalKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            field: None,
            message: message.into(),
            detail: None,
        }
    }

    /// A value to correct, shown beside `field`.
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field),
            ..Self::new(RefusalKind::Invalid, message)
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(RefusalKind::Conflict, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(RefusalKind::Forbidden, message)
    }

    pub fn with_kind(mut self, kind: RefusalKind) -> Self {
        self.kind = kind;
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn status(&self) -> StatusCode {
        match self.kind {
            RefusalKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            RefusalKind::Forbidden => StatusCode::FORBIDDEN,
            RefusalKind::Unknown => StatusCode::NOT_FOUND,
            RefusalKind::Conflict => StatusCode::CONFLICT,
            RefusalKind::Gone => StatusCode::GONE,
        }
    }

    /// As a form error, beside its field (or the form's first field when it names none).
    pub fn as_field_error(&self, default_field: &'static str) -> crate::domain::FieldError {
        crate::domain::FieldError::new(self.field.unwrap_or(default_field), self.message.clone())
    }
}

impl From<crate::domain::FieldError> for Refusal {
    fn from(e: crate::domain::FieldError) -> Self {
        Self::field(e.field, e.message)
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

impl From<crate::domain::FieldError> for AppError {
    fn from(e: crate::domain::FieldError) -> Self {
        Self::Refused(e.into())
    }
}

/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_UNAVAILABLE_SECS: u64 = 1;

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(anyhow::anyhow!("template: {e}"))
    }
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage<'a> {
    shell: crate::web::page::Shell,
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl AppError {
    /// The error page's title and message; None for a sign-in redirect, which has no page.
    fn page_text(&self) -> Option<(&'static str, &str)> {
        Some(match self {
            Self::LoginRequired => return None,
            Self::Forbidden => ("Not allowed", "You do not have permission to do this."),
            Self::NotFound => (
                "Not found",
                "There is nothing here. Check the address or go back.",
            ),
            Self::BadRequest(m) => ("That did not work", m.as_str()),
            Self::Refused(r) => ("That did not work", r.message.as_str()),
            Self::RateLimited { .. } => (
                "Too many attempts",
                "Too many attempts in a short time. Wait a minute, then try again.",
            ),
            Self::Unavailable(_) => (
                "Temporarily unavailable",
                "The console cannot reach its database right now. Try again in a moment.",
            ),
            Self::Internal(_) => (
                "Something went wrong",
                "An unexpected error occurred. It has been logged.",
            ),
        })
    }
}

/// The error page as `shell` sees it: signed in, it keeps the navigation and Log out.
fn error_page_html(error: &AppError, shell: crate::web::page::Shell) -> Option<String> {
    let (title, message) = error.page_text()?;
    ErrorPage {
        shell,
        status: error.status_code().as_u16(),
        title,
        message,
    }
    .render()
    .ok()
}

/// Error pages of signed-in pages keep the shell: `ResponseError` renders them without the
/// request, so anonymous; this middleware, inside the sign-in guard, renders them again with
/// the signed-in person's navigation. Headers (Retry-After) and status stay as they were.
pub async fn error_pages_keep_the_shell(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<
    actix_web::dev::ServiceResponse<
        actix_web::body::EitherBody<impl actix_web::body::MessageBody, String>,
    >,
    actix_web::Error,
> {
    use actix_web::FromRequest;
    let response = next.call(req).await?;
    let html = match response
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
    {
        Some(error) => {
            let shell = crate::web::page::Shell::extract(response.request())
                .into_inner()
                .ok();
            shell.and_then(|shell| error_page_html(error, shell))
        }
        None => None,
    };
    Ok(match html {
        Some(html) => response.map_body(|_, _| actix_web::body::EitherBody::right(html)),
        None => response.map_into_left_body(),
    })
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::LoginRequired => StatusCode::SEE_OTHER,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Refused(r) => r.status(),
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::LoginRequired = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, crate::paths::LOGIN))
                .finish();
        }
        let (_, message) = self.page_text().unwrap_or(("", ""));
        match self {
            Self::Internal(e) => tracing::error!(error = ?e, "internal error"),
            Self::Unavailable(e) => tracing::warn!(error = %e, "database unavailable"),
            _ => {}
        }
        let status = self.status_code();
        let mut builder = HttpResponse::build(status);
        match self {
            Self::RateLimited { retry_after_secs } => {
                builder.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unavailable(_) => {
                builder.insert_header((header::RETRY_AFTER, RETRY_AFTER_UNAVAILABLE_SECS));
            }
            _ => {}
        }
        match error_page_html(self, crate::web::page::Shell::anonymous()) {
            Some(html) => builder.content_type("text/html; charset=utf-8").body(html),
            None => builder
                .content_type("text/plain; charset=utf-8")
                .body(message.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_answers_with_its_kind_and_keeps_its_field() {
        let cases = [
            (RefusalKind::Invalid, 422),
            (RefusalKind::Forbidden, 403),
            (RefusalKind::Unknown, 404),
            (RefusalKind::Conflict, 409),
            (RefusalKind::Gone, 410),
        ];
        for (kind, status) in cases {
            let error = AppError::from(Refusal::new(kind, "No."));
            assert_eq!(error.status_code().as_u16(), status, "{kind:?}");
        }
        let r = Refusal::field("email", "Taken.").with_detail("for the audit log");
        assert_eq!(r.as_field_error("name").field, "email");
        assert_eq!(Refusal::conflict("x").as_field_error("name").field, "name");
        let from_value: AppError = crate::domain::FieldError::new("name", "Too long.").into();
        assert!(matches!(
            from_value,
            AppError::Refused(Refusal {
                field: Some("name"),
                ..
            })
        ));
    }
}
