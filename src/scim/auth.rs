//! Who a SCIM request comes from: `Authorization: Bearer <SCIM secret>` (Okta, Entra ID) or
//! `Authorization: Basic base64(companyId:secret)` (meetergo's documented form). The secret's
//! shape is checked offline first; it works only while SCIM is on, and only for its own
//! company. Requests are rate-limited per secret with the API's quota.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use base64::Engine;

use crate::auth::tokens;
use crate::paths::scim as paths;
use crate::services::audit::Origin;
use crate::services::scim::{self, NotLetIn, ScimCaller};
use crate::state::AppState;

use super::error::ScimError;

/// An authenticated identity provider, and the base URL its locations are relative to.
pub struct Scim {
    pub caller: ScimCaller,
    pub base: String,
}

const INVALID: &str = "Invalid SCIM credentials.";

/// (company id named by Basic authentication, secret)
fn presented(req: &HttpRequest) -> Result<(Option<String>, String), ScimError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ScimError::unauthorized("Authorization required."))?
        .to_str()
        .map_err(|_| ScimError::unauthorized(INVALID))?
        .trim();
    let (scheme, credential) = value
        .split_once(' ')
        .ok_or_else(|| ScimError::unauthorized(INVALID))?;
    let credential = credential.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok((None, credential.to_owned()));
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(ScimError::unauthorized(INVALID));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credential)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ScimError::unauthorized(INVALID))?;
    let (company, secret) = decoded
        .split_once(':')
        .ok_or_else(|| ScimError::unauthorized(INVALID))?;
    Ok((Some(company.to_owned()), secret.to_owned()))
}

/// The public URL with the scope the request came under (`/scim/v2` or `/scim`).
pub fn base_of(req: &HttpRequest, app: &AppState) -> String {
    format!(
        "{}{}",
        app.settings.public_url.trim_end_matches('/'),
        paths::scope_of(req.path())
    )
}

async fn authenticate(req: HttpRequest) -> Result<Scim, ScimError> {
    let (company, secret) = presented(&req)?;
    if !tokens::is_scim_secret(&secret) {
        return Err(ScimError::unauthorized(INVALID));
    }
    let Some(app) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(ScimError::internal());
    };
    let hash = app.keys.credential_hash(&secret);
    let now = app.clock.now();
    let outcome = app
        .db
        .run(move |conn| scim::authenticate(conn, &hash, company.as_deref(), now))
        .await?;
    let (company, secret_id) = outcome.map_err(|refusal| match refusal {
        NotLetIn::Unknown => ScimError::unauthorized(INVALID),
        NotLetIn::Disabled => ScimError::unauthorized(
            "SCIM provisioning is turned off for this company (Settings → Provisioning).",
        ),
    })?;
    app.limits
        .api_request(secret_id.as_str())
        .await
        .map_err(|r| ScimError::rate_limited(r.0))?;
    Ok(Scim {
        base: base_of(&req, &app),
        caller: ScimCaller {
            company,
            secret_id,
            origin: Origin::of(&req),
            now,
        },
    })
}

impl FromRequest for Scim {
    type Error = ScimError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ScimError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn with(value: &str) -> Result<(Option<String>, String), ScimError> {
        presented(
            &TestRequest::default()
                .insert_header((header::AUTHORIZATION, value))
                .to_http_request(),
        )
    }

    #[test]
    fn bearer_and_basic_are_read_and_anything_else_is_401() {
        assert_eq!(with("Bearer scim_x").ok(), Some((None, "scim_x".into())));
        assert_eq!(with("bearer  scim_x ").ok(), Some((None, "scim_x".into())));
        let basic = base64::engine::general_purpose::STANDARD.encode("c-1:scim_y");
        assert_eq!(
            with(&format!("Basic {basic}")).ok(),
            Some((Some("c-1".into()), "scim_y".into()))
        );
        for bad in [
            "",
            "scim_x",
            "Token scim_x",
            "Basic !!!",
            "Basic Y29tcGFueQ==",
        ] {
            assert_eq!(
                with(bad).err().map(|e| e.status().as_u16()),
                Some(401),
                "{bad}"
            );
        }
        let none = presented(&TestRequest::default().to_http_request());
        assert_eq!(none.err().map(|e| e.status().as_u16()), Some(401));
    }
}
