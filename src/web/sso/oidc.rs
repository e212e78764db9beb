//! "Continue with …": the OpenID Connect start and callback.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::session::{self, signed_in_user_id, SignInMethod};
use crate::auth::sso_binding;
use crate::db::models::SsoRequest;
use crate::domain::{SsoKind, SsoPurpose};
use crate::error::AppError;
use crate::services::invitations;
use crate::services::sso as sso_service;

use super::{audit_refusal, binding, refused, with_binding, ProblemPage, REQUEST_TTL_MINUTES};
use crate::paths;
use crate::web::context::Visitor;
use crate::web::page::{redirect, render_with_status, FlashKind, Shell};

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    purpose: Option<String>,
    /// The secret of an invitation link the sign-in was started from.
    invitation: Option<String>,
}

pub(super) async fn oidc_start(
    v: Visitor,
    shell: Shell,
    session: Session,
    path: web::Path<String>,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, AppError> {
    let (req, db, keys, oidc) = (&v.req, &v.app.db, &v.app.keys, &v.app.oidc);
    let provider = path.into_inner();
    oidc.provider(&provider).map_err(|_| AppError::NotFound)?;
    let link_user = match query.purpose.as_deref().and_then(SsoPurpose::parse) {
        Some(SsoPurpose::Link) => Some(signed_in_user_id(&session).ok_or(AppError::LoginRequired)?),
        _ => None,
    };
    // Started from an invitation link: check it now, so a dead link fails before the provider.
    let invitation_hash = match query.invitation.clone().filter(|_| link_user.is_none()) {
        Some(token) => match invitations::open(db, keys.clone(), token.clone(), v.now).await {
            Ok(_) => Some(invitations::invitation_hash(keys, &token)),
            Err(AppError::Refused(r)) => return refused(shell, r.message),
            Err(e) => return Err(e),
        },
        None => None,
    };
    let (value, fresh) = binding(req);
    let state = sso_binding::random_token();
    let nonce = sso_binding::random_token();
    let verifier = sso_binding::pkce_verifier(keys, &value, &state);
    let url = match oidc
        .authorization_url(&provider, &state, &nonce, &verifier)
        .await
    {
        Ok(url) => url,
        Err(e) => {
            let detail = format!("oidc:{provider}: {e}");
            audit_refusal(db, v.origin.clone(), None, detail).await?;
            return render_with_status(
                StatusCode::BAD_GATEWAY,
                &ProblemPage {
                    shell,
                    message: "The sign-in provider could not be used right now. Try again later, or sign in another way.".into(),
                    admin_hint: None,
                },
            );
        }
    };
    let request = SsoRequest {
        id: keys.opaque_hash("oidc-state", &state),
        kind: SsoKind::Oidc,
        target: provider,
        purpose: if link_user.is_some() {
            SsoPurpose::Link
        } else {
            SsoPurpose::SignIn
        },
        browser_hash: sso_binding::browser_hash(keys, &value),
        nonce: Some(nonce),
        link_user_id: link_user.map(String::from),
        created_at: v.now,
        expires_at: v.now + chrono::Duration::minutes(REQUEST_TTL_MINUTES),
        used_at: None,
        invitation_hash,
    };
    db.run(move |conn| request.insert(conn)).await?;
    Ok(with_binding(
        redirect(&url),
        &value,
        fresh,
        v.app.settings.is_https(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// The issuer the authorization response names (RFC 9207), when the provider sends it.
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub(super) async fn oidc_callback(
    v: Visitor,
    shell: Shell,
    session: Session,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, AppError> {
    let (req, db, keys, oidc) = (&v.req, &v.app.db, &v.app.keys, &v.app.oidc);
    let provider = path.into_inner();
    let origin = v.origin.clone();
    oidc.provider(&provider).map_err(|_| AppError::NotFound)?;
    if let Some(error) = &query.error {
        let detail = format!(
            "oidc:{provider}: provider error {error}: {}",
            query.error_description.clone().unwrap_or_default()
        );
        audit_refusal(db, origin, None, detail).await?;
        return refused(
            shell,
            "The sign-in was cancelled or refused by the provider.",
        );
    }
    let (Some(code), Some(state), Some(value)) = (
        query.code.clone(),
        query.state.clone(),
        sso_binding::from_request(req),
    ) else {
        audit_refusal(
            db,
            origin,
            None,
            format!("oidc:{provider}: callback without code, state or browser binding"),
        )
        .await?;
        return refused(
            shell,
            "This sign-in link is not valid. Start again from the sign-in page.",
        );
    };
    let (id, hash, target) = (
        keys.opaque_hash("oidc-state", &state),
        sso_binding::browser_hash(keys, &value),
        provider.clone(),
    );
    let at = v.now;
    let pending = db
        .run(move |conn| SsoRequest::take(conn, &id, SsoKind::Oidc, &target, &hash, at))
        .await?;
    let Some(pending) = pending else {
        audit_refusal(
            db,
            origin,
            None,
            format!("oidc:{provider}: state does not match a pending sign-in of this browser"),
        )
        .await?;
        return refused(shell, "This sign-in was not started in this browser, was already used, or has expired. Start again.");
    };
    let verifier = sso_binding::pkce_verifier(keys, &value, &state);
    let nonce = pending.nonce.clone().unwrap_or_default();
    let external = match oidc
        .finish(&provider, &code, query.iss.as_deref(), &verifier, &nonce)
        .await
    {
        Ok(e) => e,
        Err(e) => {
            audit_refusal(db, origin, None, format!("oidc:{provider}: {e}")).await?;
            return refused(shell, e.user_message());
        }
    };
    if pending.purpose == SsoPurpose::Link {
        let current = signed_in_user_id(&session).map(String::from);
        if current.is_none() || current != pending.link_user_id {
            return Err(AppError::LoginRequired);
        }
        let user_id = signed_in_user_id(&session).ok_or(AppError::LoginRequired)?;
        return Ok(
            match sso_service::link_oidc(db, user_id, external, origin).await {
                Ok(()) => v.redirect_with_flash(
                    paths::PROFILE,
                    FlashKind::Success,
                    &format!("{provider} is linked. You can sign in with it now."),
                ),
                Err(AppError::Refused(r)) => {
                    v.redirect_with_flash(paths::PROFILE, FlashKind::Error, &r.message)
                }
                Err(e) => return Err(e),
            },
        );
    }
    let invitation = pending.invitation_hash.clone();
    match sso_service::sign_in_with_oidc(db, external, invitation, origin.clone()).await {
        Ok(user) => {
            session::sign_in(&session, &user.id, SignInMethod::Oidc)?;
            Ok(redirect(paths::DASHBOARD))
        }
        Err(AppError::Refused(r)) => {
            let detail = format!(
                "oidc:{provider}: {}",
                r.detail.as_ref().unwrap_or(&r.message)
            );
            audit_refusal(db, origin, None, detail).await?;
            refused(shell, r.message)
        }
        Err(e) => Err(e),
    }
}
