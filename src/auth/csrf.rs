//! CSRF protection for every form, signed in or not: the browser holds a random nonce in an
//! HttpOnly cookie, and each form carries `csrf_token`, an HMAC under a server key of that nonce
//! and, once signed in, of the session's own secret (made anew at every sign-in, so a token
//! seen before sign-in, or in another session, is useless after it). A POST whose token does not
//! match is refused with 403 before any handler runs. A second layer refuses POSTs a browser
//! marks as cross-site (`Sec-Fetch-Site`) or sends from another `Origin`.

use std::sync::LazyLock;

use actix_session::SessionExt;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, ORIGIN};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use crate::config::Settings;
use crate::error::{AppError, Refusal};
use crate::paths;

use super::keys::Keys;

pub const FIELD: &str = "csrf_token";

/// What a person whose form went stale (they signed in or out in another tab) is told.
pub const STALE_FORM: &str = "This form has expired. Go back, reload the page and submit it again.";

/// The token to put in this request's forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

fn cookie_name(settings: &Settings) -> &'static str {
    if settings.is_https() {
        "__Host-csrf"
    } else {
        "csrf"
    }
}

fn fresh_nonce() -> String {
    crate::auth::keys::random_hex(24)
}

/// Paths that accept POSTs from elsewhere by design: the bearer-authenticated JSON API and SCIM,
/// and the SAML assertion consumer (its response is checked by signature instead).
fn exempt(path: &str) -> bool {
    static SAML_ACS: LazyLock<ResourceDef> = LazyLock::new(|| ResourceDef::new(paths::SAML_ACS));
    paths::api::is_api(path) || paths::scim::is_scim(path) || SAML_ACS.is_match(path)
}

/// Paths that never render a form: the API, SCIM, the probes and static files. They get no
/// CSRF nonce, cookie or token (each would cost a random draw and an HMAC per request).
fn formless(path: &str) -> bool {
    paths::api::is_api(path)
        || paths::scim::is_scim(path)
        || path == paths::HEALTHZ
        || path == paths::READYZ
        || path
            .strip_prefix(paths::STATIC)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn submitted_token(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v)
}

/// The value a token is an HMAC of: the browser's nonce, and the session's secret once there
/// is one.
fn bound_value(nonce: &str, session_secret: Option<&str>) -> String {
    match session_secret {
        Some(secret) => format!("{nonce}:{secret}"),
        None => nonce.to_owned(),
    }
}

/// True when the browser says the POST comes from another site. Clients that send neither
/// header (API clients, scripts, older browsers) are left to the token.
fn cross_site(headers: &HeaderMap, settings: &Settings, host: &str) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site == Some("cross-site") {
        return true;
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return false;
    };
    let origin = origin.to_str().unwrap_or("null");
    let public = settings.public_url.trim_end_matches('/');
    // Our own origin as configured, or as the browser addressed us (a proxy in front).
    origin != public && origin != format!("http://{host}") && origin != format!("https://{host}")
}

fn refuse<B>(req: ServiceRequest, why: &str) -> ServiceResponse<EitherBody<B>> {
    // The route pattern, not the path: a path can carry a secret (an invitation link).
    let route = req.match_pattern().unwrap_or_default();
    tracing::warn!(%route, "POST refused: {why}");
    let refusal = AppError::Refused(Refusal::forbidden(STALE_FORM));
    let response = actix_web::ResponseError::error_response(&refusal);
    req.into_response(response).map_into_right_body()
}

pub async fn protect(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if formless(req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let (Some(keys), Some(settings)) = (
        req.app_data::<web::Data<Keys>>().cloned(),
        req.app_data::<web::Data<Settings>>().cloned(),
    ) else {
        return Err(AppError::Internal(anyhow::anyhow!("CSRF keys missing")).into());
    };
    let name = cookie_name(&settings);
    let existing = req
        .cookie(name)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 48 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    let is_new = existing.is_none();
    let nonce = existing.unwrap_or_else(fresh_nonce);
    let secret = super::session::csrf_secret(&req.get_session());
    let bound = bound_value(&nonce, secret.as_deref());

    if req.method() == Method::POST && !exempt(req.path()) {
        let host = req.connection_info().host().to_owned();
        if cross_site(req.headers(), &settings, &host) {
            return Ok(refuse(req, "cross-site request"));
        }
        let body = req.extract::<web::Bytes>().await?;
        let valid = !is_new
            && submitted_token(&body).is_some_and(|token| keys.csrf_token_matches(&bound, &token));
        if !valid {
            return Ok(refuse(req, "missing or wrong CSRF token"));
        }
        req.set_payload(bytes_payload(body));
    }

    req.extensions_mut()
        .insert(CsrfToken(keys.csrf_token(&bound)));
    let mut response = next.call(req).await?;
    if is_new {
        let cookie = Cookie::build(name, nonce)
            .path("/")
            .http_only(true)
            .secure(settings.is_https())
            .same_site(SameSite::Lax)
            .finish();
        response.response_mut().add_cookie(&cookie)?;
    }
    Ok(response.map_into_left_body())
}

/// A body read once, put back for the next reader.
pub(crate) fn bytes_payload(body: web::Bytes) -> actix_web::dev::Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    actix_web::dev::Payload::from(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_probes_and_static_files_are_formless_and_pages_are_not() {
        for path in [
            "/v4/user/me",
            "/webhooks",
            "/scim/v2/Users",
            "/healthz",
            "/readyz",
            "/static/app.css",
        ] {
            assert!(formless(path), "{path}");
        }
        for path in [
            "/",
            "/login",
            "/statically",
            "/healthz/x",
            "/integrations/api",
            "/sso/saml/acme/acs",
        ] {
            assert!(!formless(path), "{path}");
        }
    }
}
