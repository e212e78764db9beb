//! Per-company SAML: SSO start by email or company, SP metadata, the assertion consumer.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::saml::{self, SpUrls, Tolerances};
use crate::auth::session::{self, SignInMethod};
use crate::auth::sso_binding;
use crate::config::Settings;
use crate::db::models::{Company, SamlConfig, SsoRequest, User};
use crate::domain::{Email, SsoKind, SsoPurpose};
use crate::error::{AppError, Refusal};
use crate::services::sso as sso_service;
use crate::web::context::Visitor;

use super::{audit_refusal, binding, refused_with_hint, with_binding, REQUEST_TTL_MINUTES};
use crate::paths;
use crate::web::page::{redirect, render, Shell};

fn tolerances(settings: &Settings) -> Tolerances {
    Tolerances {
        clock_skew_secs: settings.saml_clock_skew_secs,
    }
}

#[derive(Debug, Deserialize)]
pub struct SsoStartForm {
    #[serde(default)]
    identifier: String,
}

/// Finds the company by slug, by the email's account, or by the email's domain.
fn company_for(
    conn: &mut crate::db::DbConnection,
    identifier: &str,
) -> Result<Option<Company>, AppError> {
    let identifier = identifier.trim().to_lowercase();
    if let Ok(email) = Email::parse("identifier", &identifier) {
        if let Some(user) = User::find_by_email(conn, &email)? {
            return Ok(Some(Company::find(conn, &user.company_id)?));
        }
        if let crate::services::joining::Joining::JoinCompany(c)
        | crate::services::joining::Joining::NeedsInvitation(c) =
            crate::services::joining::decide(conn, &email)?
        {
            return Ok(Some(c));
        }
        return Ok(None);
    }
    Ok(Company::find_by_slug(conn, &identifier)?)
}

pub(super) async fn saml_start(
    v: Visitor,
    shell: Shell,
    form: web::Form<SsoStartForm>,
) -> Result<HttpResponse, AppError> {
    let (db, keys, settings) = (&v.app.db, &v.app.keys, &v.app.settings);
    let identifier = form.into_inner().identifier;
    let found = db
        .run(move |conn| {
            let Some(company) = company_for(conn, &identifier)? else {
                return Ok::<_, AppError>(None);
            };
            let config = SamlConfig::find(conn, &company.id)?;
            Ok(config.map(|c| (company, c)))
        })
        .await?;
    let Some((company, config)) = found else {
        return crate::web::sign_in::login_with_sso_error(
            shell,
            db,
            settings,
            "No single sign-on is set up for that email or company.",
        )
        .await;
    };
    let urls = saml::sp_urls(&settings.public_url, &company.slug);
    let (value, fresh) = binding(&v.req);
    let (request_id, url) =
        saml::authn_request(&config, &urls, tolerances(settings), &company.slug)
            .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let request = SsoRequest {
        id: request_id,
        kind: SsoKind::Saml,
        target: company.id.to_string(),
        purpose: SsoPurpose::SignIn,
        browser_hash: sso_binding::browser_hash(keys, &value),
        nonce: None,
        link_user_id: None,
        created_at: v.now,
        expires_at: v.now + chrono::Duration::minutes(REQUEST_TTL_MINUTES),
        used_at: None,
        invitation_hash: None,
    };
    db.run(move |conn| request.insert(conn)).await?;
    // A 303 answer to this form POST would be a form submission landing on another origin,
    // which the login page's CSP (`form-action 'self'`) forbids; a page that moves on by
    // itself (meta refresh, with a link for the rare browser that does not) is not.
    let page = render(&ContinuePage {
        shell,
        company: company.name.clone(),
        url,
    })?;
    Ok(with_binding(page, &value, fresh, settings.is_https()))
}

#[derive(Template)]
#[template(path = "auth/sso_continue.html")]
struct ContinuePage {
    shell: Shell,
    company: String,
    url: String,
}

pub(super) async fn saml_metadata(
    v: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let s = slug.clone();
    v.app
        .db
        .run(move |conn| Company::find_by_slug(conn, &s))
        .await?
        .ok_or(AppError::NotFound)?;
    let xml = saml::sp_metadata(&saml::sp_urls(&v.app.settings.public_url, &slug))
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    Ok(HttpResponse::Ok()
        .content_type("application/samlmetadata+xml")
        .body(xml))
}

#[derive(Debug, Deserialize)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse", default)]
    saml_response: String,
}

pub(super) async fn saml_acs(
    v: Visitor,
    shell: Shell,
    session: Session,
    path: web::Path<String>,
    form: web::Form<AcsForm>,
) -> Result<HttpResponse, AppError> {
    let (db, keys, settings) = (&v.app.db, &v.app.keys, &v.app.settings);
    let slug = path.into_inner();
    let browser = sso_binding::from_request(&v.req)
        .map(|b| sso_binding::browser_hash(keys, &b))
        .unwrap_or_default();
    let (b, at) = (browser.clone(), v.now);
    let found = db
        .run(move |conn| {
            let Some(company) = Company::find_by_slug(conn, &slug)? else {
                return Ok::<_, AppError>(None);
            };
            let Some(config) = SamlConfig::find(conn, &company.id)? else {
                return Ok(None);
            };
            let pending = SsoRequest::pending_saml_ids(conn, company.id.as_str(), &b, at)?;
            Ok(Some((company, config, pending)))
        })
        .await?;
    let Some((company, config, pending)) = found else {
        return Err(AppError::NotFound);
    };
    let urls: SpUrls = saml::sp_urls(&settings.public_url, &company.slug);
    let urls = &urls;
    let checked = saml::check_response(
        &config,
        urls,
        tolerances(settings),
        &form.saml_response,
        &pending,
    );
    let company_id = company.id.clone();
    let outcome = match checked {
        Ok(login) => {
            let answer = sso_service::SamlAnswer {
                company,
                login,
                browser_hash: browser,
            };
            sso_service::sign_in_with_saml(db, answer, v.origin.clone()).await
        }
        Err(reason) => Err(Refusal::forbidden(sso_service::SAML_NOT_ACCEPTED)
            .with_detail(format!("saml: {reason}"))
            .into()),
    };
    match outcome {
        Ok(user) => {
            session::sign_in(&session, &user.id, SignInMethod::Saml)?;
            Ok(redirect(paths::DASHBOARD))
        }
        Err(AppError::Refused(r)) => {
            let detail = match &r.detail {
                Some(d) => d.clone(),
                None => format!("saml: {}", r.message),
            };
            // The detail (the parser's or the check's own words) goes to the log and the audit
            // log; the person sees what their administrator should check.
            let hint = (r.message == sso_service::SAML_NOT_ACCEPTED)
                .then(|| what_the_admin_should_check(&detail, urls));
            audit_refusal(db, v.origin.clone(), Some(company_id), detail).await?;
            refused_with_hint(shell, r.message, hint)
        }
        Err(e) => Err(e),
    }
}

/// Why an IdP's answer was refused, in words for the company's administrator: which setting to
/// check. `detail` is the refusal's technical reason (from `auth::saml` or samael), which only
/// the log and the audit log keep.
fn what_the_admin_should_check(detail: &str, urls: &SpUrls) -> String {
    let d = detail.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| d.contains(w));
    // Most specific first: a signature error may also mention XML, an expiry a signature.
    if has(&["sha-1", "sha1"]) {
        "The identity provider signs with SHA-1, which this company does not accept. Switch the \
         app at the identity provider to SHA-256, or allow SHA-1 in Settings → Single sign-on."
            .to_owned()
    } else if has(&[
        "expired",
        "notbefore",
        "not before",
        "notonorafter",
        "expiry",
        "not yet valid",
    ]) {
        "The answer is outside its validity time. Check the identity provider's clock (it must \
         be within a minute of the correct time), then sign in again."
            .to_owned()
    } else if has(&["audience"]) {
        format!(
            "The answer is addressed to another service provider. Check the Entity ID \
             (audience) set at the identity provider: it must be {}.",
            urls.entity_id
        )
    } else if has(&["destination", "recipient", "this acs"]) {
        format!(
            "The answer was made for another address. Check the ACS URL set at the identity \
             provider: it must be {}.",
            urls.acs_url
        )
    } else if has(&["issuer"]) {
        "The answer comes from another identity provider than the saved metadata names (its \
         entity ID). Check the metadata in Settings → Single sign-on."
            .to_owned()
    } else if has(&["did not report success"]) {
        "The identity provider reported that the sign-in did not succeed. Check that the person \
         is assigned to the console's app at the identity provider."
            .to_owned()
    } else if has(&["unsolicited", "idp-initiated"]) {
        "The sign-in was started at the identity provider, which this company does not allow. \
         Start from the console's sign-in page, or allow IdP-initiated sign-in in Settings → \
         Single sign-on."
            .to_owned()
    } else if has(&["inresponseto", "already answered", "replayed", "pending"]) {
        "This answer does not belong to a sign-in started in this browser, or it was used \
         already. Start again from the sign-in page."
            .to_owned()
    } else if has(&["signed", "signature", "certificate", "digest", "verif"]) {
        "The signature could not be verified with the certificate in the saved identity \
         provider metadata. Check that the metadata is current: after the identity provider \
         rotates its signing certificate, paste its new metadata in Settings → Single sign-on."
            .to_owned()
    } else if has(&[
        "base64",
        "utf-8",
        "saml response",
        "xml",
        "doctype",
        "assertion",
        "encrypted",
    ]) {
        "The answer is not a valid SAML response (not readable XML with exactly one unencrypted \
         assertion). Check that the identity provider posts a SAML 2.0 response to the \
         console's ACS URL."
            .to_owned()
    } else {
        "Check the identity provider's app for the console: its ACS URL, Entity ID and signing \
         certificate must match Settings → Single sign-on."
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_what_to_check_and_never_the_parser() {
        let urls = saml::sp_urls("https://console.example", "acme");
        let cases = [
            (
                "saml: not a SAML Response: InvalidXml(Syntax(UnclosedTag))",
                "not a valid SAML response",
            ),
            (
                "saml: rejected: the assertion must be signed",
                "certificate",
            ),
            ("saml: rejected: assertion expired", "clock"),
            (
                "saml: the assertion is not addressed to this service provider (Audience)",
                "https://console.example/sso/saml/acme/metadata",
            ),
            (
                "saml: Destination Some(\"https://x\") is not this ACS",
                "https://console.example/sso/saml/acme/acs",
            ),
            ("saml: replayed assertion", "used already"),
        ];
        for (detail, want) in cases {
            let hint = what_the_admin_should_check(detail, &urls);
            assert!(hint.contains(want), "{detail}: {hint}");
            assert!(
                !hint.contains("InvalidXml") && !hint.contains("saml:"),
                "{hint}"
            );
        }
    }
}
