//! What every page shares: the navigation's user, the CSRF token for its forms, and flash
//! messages carried over a redirect in a short-lived signed cookie.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::future::{ready, Ready};

use actix_web::body::MessageBody;
use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use askama::Template;

use crate::auth::csrf::CsrfToken;
use crate::auth::keys::Keys;
use crate::auth::session::CurrentUser;
use crate::error::AppError;

const FLASH_COOKIE: &str = "flash";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    Success,
    Error,
}

#[derive(Debug, Clone)]
pub struct Flash {
    pub kind: FlashKind,
    pub text: String,
}

impl Flash {
    pub fn css(&self) -> &'static str {
        match self.kind {
            FlashKind::Success => "flash flash-success",
            FlashKind::Error => "flash flash-error",
        }
    }
}

/// The navigation's view of the signed-in user.
#[derive(Debug, Clone)]
pub struct NavUser {
    pub name: String,
    pub email: String,
    pub company: String,
    pub is_admin: bool,
    /// False until the person followed the link mailed to their address: the banner shows.
    pub email_verified: bool,
}

/// The parts of `base.html` every page fills.
#[derive(Debug, Clone)]
pub struct Shell {
    pub user: Option<NavUser>,
    pub csrf: String,
    pub flashes: Vec<Flash>,
}

impl Shell {
    /// The shell of a page rendered without its request (an error page): no one signed in.
    pub fn anonymous() -> Self {
        Self {
            user: None,
            csrf: String::new(),
            flashes: Vec::new(),
        }
    }
}

struct FlashShown;

impl FromRequest for Shell {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let user = req.extensions().get::<CurrentUser>().map(|c| NavUser {
            name: c.user.name.clone(),
            email: c.user.email.clone(),
            company: c.company.name.clone(),
            is_admin: c.user.role().is_admin(),
            email_verified: c.user.email_verified_at.is_some(),
        });
        let csrf = req
            .extensions()
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let flashes = read_flash(req).into_iter().collect::<Vec<_>>();
        if !flashes.is_empty() {
            req.extensions_mut().insert(FlashShown);
        }
        ready(Ok(Shell {
            user,
            csrf,
            flashes,
        }))
    }
}

fn read_flash(req: &HttpRequest) -> Option<Flash> {
    let keys = req.app_data::<web::Data<Keys>>()?;
    let cookie = req.cookie(FLASH_COOKIE)?;
    let raw = keys.verify_signed(cookie.value())?;
    let (kind, encoded) = raw.split_once(':')?;
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).ok()?).ok()?;
    let kind = match kind {
        "success" => FlashKind::Success,
        "error" => FlashKind::Error,
        _ => return None,
    };
    Some(Flash { kind, text })
}

/// Once a page has shown the flash, the cookie goes.
pub async fn clear_shown_flash(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let shown = response
        .request()
        .extensions()
        .get::<FlashShown>()
        .is_some();
    let sets_new = response
        .response()
        .cookies()
        .any(|c| c.name() == FLASH_COOKIE);
    if shown && !sets_new {
        let mut gone = Cookie::build(FLASH_COOKIE, "").path("/").finish();
        gone.make_removal();
        response.response_mut().add_cookie(&gone)?;
    }
    Ok(response)
}

/// A 303 to `location` that shows `text` on the next page.
pub fn redirect_with_flash(
    req: &HttpRequest,
    location: &str,
    kind: FlashKind,
    text: &str,
) -> HttpResponse {
    let mut response = redirect(location);
    if let Some(keys) = req.app_data::<web::Data<Keys>>() {
        let kind = match kind {
            FlashKind::Success => "success",
            FlashKind::Error => "error",
        };
        // The text travels base64url-encoded: a `;`, `"` or `,` in it (a token's name, say)
        // would otherwise end or garble the cookie's value.
        let value = format!("{kind}:{}", URL_SAFE_NO_PAD.encode(text));
        let cookie = Cookie::build(FLASH_COOKIE, keys.sign(&value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .max_age(Duration::seconds(120))
            .secure(
                req.app_data::<web::Data<crate::config::Settings>>()
                    .is_some_and(|s| s.is_https()),
            )
            .finish();
        let _ = response.add_cookie(&cookie);
    }
    response
}

pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

pub fn render(page: &impl Template) -> Result<HttpResponse, AppError> {
    render_with_status(actix_web::http::StatusCode::OK, page)
}

pub fn render_with_status(
    status: actix_web::http::StatusCode,
    page: &impl Template,
) -> Result<HttpResponse, AppError> {
    let html = page.render()?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

fn error_for<'a>(errors: &'a [crate::domain::FieldError], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.as_str())
}

/// Field errors of a submitted form, looked up by field name in templates.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(pub Vec<crate::domain::FieldError>);

impl FormErrors {
    pub fn get(&self, field: &str) -> Option<&str> {
        error_for(&self.0, field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
