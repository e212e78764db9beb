//! SAML 2.0 service provider per company, on samael with xmlsec. samael verifies the signature
//! and returns the assertion the signature covers; everything else an SP must check that it
//! leaves to the application is checked here (OWASP SAML Security Cheat Sheet).

use chrono::{DateTime, Utc};
use samael::crypto::AllowedSignatureAlgorithm;
use samael::metadata::EntityDescriptor;
use samael::schema::{Assertion, Response};
use samael::service_provider::{ServiceProvider, ServiceProviderBuilder};
use samael::traits::ToXml;

use crate::db::models::SamlConfig;
use crate::paths;

const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// This console's SAML endpoints for one company.
#[derive(Debug, Clone)]
pub struct SpUrls {
    pub entity_id: String,
    pub acs_url: String,
    pub metadata_url: String,
}

pub fn sp_urls(public_url: &str, company_slug: &str) -> SpUrls {
    let metadata_url = format!("{public_url}{}", paths::saml_metadata(company_slug));
    SpUrls {
        entity_id: metadata_url.clone(),
        acs_url: format!("{public_url}{}", paths::saml_acs(company_slug)),
        metadata_url,
    }
}

/// What an admin's IdP metadata says, once it is known to be usable.
#[derive(Debug, Clone)]
pub struct IdpMetadata {
    pub entity_id: String,
    pub sso_url: String,
    pub signing_certificates: usize,
}

fn parse_entity(xml: &str) -> Result<EntityDescriptor, String> {
    if xml.contains("<!DOCTYPE") {
        return Err("Metadata with a DOCTYPE is refused.".into());
    }
    // The parser's words ("InvalidXml(Syntax(UnclosedTag))") go to the log, not to the page.
    xml.parse::<EntityDescriptor>().map_err(|e| {
        tracing::info!(error = %e, "pasted IdP metadata could not be read");
        "This is not SAML metadata: the XML could not be read. Check that you pasted the whole \
         file, from <EntityDescriptor> to </EntityDescriptor>, as your identity provider offers \
         it for download."
            .to_owned()
    })
}

/// Checks pasted IdP metadata. Metadata without a signing certificate is refused: without one,
/// responses could not be verified.
pub fn parse_idp_metadata(xml: &str) -> Result<IdpMetadata, String> {
    let entity = parse_entity(xml.trim())?;
    let entity_id = entity
        .entity_id
        .clone()
        .filter(|e| !e.is_empty())
        .ok_or("The metadata has no entityID.")?;
    let sp = ServiceProviderBuilder::default()
        .idp_metadata(entity)
        .build()
        .map_err(|e| {
            tracing::info!(error = %e, "IdP metadata unusable");
            "This metadata does not describe an identity provider (an IDPSSODescriptor). Check \
             that you downloaded the identity provider's metadata, not the service provider's."
                .to_owned()
        })?;
    let certificates = sp
        .idp_signing_certs()
        .map_err(|e| {
            tracing::info!(error = %e, "IdP signing certificate unreadable");
            "The signing certificate in the metadata could not be read. Download the metadata \
             again from your identity provider."
                .to_owned()
        })?
        .unwrap_or_default();
    if certificates.is_empty() {
        return Err("The metadata has no signing certificate (KeyDescriptor use=\"signing\"). SAML stays off.".into());
    }
    let sso_url = sp
        .sso_binding_location(HTTP_REDIRECT)
        .ok_or("The metadata has no SingleSignOnService with the HTTP-Redirect binding.")?;
    if !(sso_url.starts_with("https://") || sso_url.starts_with("http://")) {
        return Err("The SingleSignOnService location is not an http(s) URL.".into());
    }
    Ok(IdpMetadata {
        entity_id,
        sso_url,
        signing_certificates: certificates.len(),
    })
}

/// Settings every company's service provider shares.
#[derive(Debug, Clone, Copy)]
pub struct Tolerances {
    pub clock_skew_secs: i64,
}

fn service_provider(
    config: &SamlConfig,
    urls: &SpUrls,
    tolerances: Tolerances,
    idp_initiated: bool,
) -> Result<ServiceProvider, String> {
    let entity = parse_entity(&config.metadata_xml)?;
    let allowed = if config.allow_sha1 {
        // The company opted in to legacy SHA-1 signatures: no algorithm allow-list.
        None
    } else {
        Some(vec![
            AllowedSignatureAlgorithm::RsaSha256,
            AllowedSignatureAlgorithm::RsaSha384,
            AllowedSignatureAlgorithm::RsaSha512,
            AllowedSignatureAlgorithm::EcdsaSha256,
            AllowedSignatureAlgorithm::EcdsaSha384,
            AllowedSignatureAlgorithm::EcdsaSha512,
        ])
    };
    ServiceProviderBuilder::default()
        .entity_id(Some(urls.entity_id.clone()))
        .metadata_url(Some(urls.metadata_url.clone()))
        .acs_url(Some(urls.acs_url.clone()))
        .slo_url(None::<String>)
        .idp_metadata(entity)
        .allow_idp_initiated(idp_initiated)
        .max_clock_skew(chrono::Duration::seconds(tolerances.clock_skew_secs))
        .max_issue_delay(chrono::Duration::seconds(90 + tolerances.clock_skew_secs))
        .allowed_signature_algorithms(allowed)
        .build()
        .map_err(|e| format!("service provider: {e}"))
}

/// The SP metadata to paste into Okta or Azure AD.
pub fn sp_metadata(urls: &SpUrls) -> Result<String, String> {
    let sp = ServiceProviderBuilder::default()
        .entity_id(Some(urls.entity_id.clone()))
        .metadata_url(Some(urls.metadata_url.clone()))
        .acs_url(Some(urls.acs_url.clone()))
        // samael's `metadata()` fails without an SLO URL (MissingSloUrl). This console has no
        // single logout, so the placeholder endpoint is dropped from the descriptor below.
        .slo_url(Some(urls.acs_url.clone()))
        .build()
        .map_err(|e| e.to_string())?;
    let mut metadata = sp.metadata().map_err(|e| e.to_string())?;
    for descriptor in metadata.sp_sso_descriptors.iter_mut().flatten() {
        descriptor.single_logout_services = None;
    }
    metadata.to_string().map_err(|e| e.to_string())
}

/// An AuthnRequest for the company's IdP: its id (to store) and the redirect URL.
pub fn authn_request(
    config: &SamlConfig,
    urls: &SpUrls,
    tolerances: Tolerances,
    relay_state: &str,
) -> Result<(String, String), String> {
    let sp = service_provider(config, urls, tolerances, false)?;
    let request = sp
        .make_authentication_request(&config.idp_sso_url)
        .map_err(|e| e.to_string())?;
    let id = request.id.clone();
    let url = request
        .redirect(relay_state)
        .map_err(|e| e.to_string())?
        .ok_or("no redirect URL")?;
    Ok((id, url.to_string()))
}

/// Who the IdP vouched for, read only from the signed assertion samael returned.
#[derive(Debug, Clone)]
pub struct SamlLogin {
    pub name_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub assertion_id: String,
    pub in_response_to: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Why a response was refused; the text goes to the audit log.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn refuse(reason: impl Into<String>) -> Refused {
    Refused(reason.into())
}

/// Checks a base64 SAMLResponse posted to this company's ACS. `pending` are the ids of this
/// browser's outstanding AuthnRequests for the company.
pub fn check_response(
    config: &SamlConfig,
    urls: &SpUrls,
    tolerances: Tolerances,
    encoded: &str,
    pending: &[String],
) -> Result<SamlLogin, Refused> {
    use base64::Engine;
    let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| refuse("not base64"))?;
    let xml = String::from_utf8(bytes).map_err(|_| refuse("not UTF-8"))?;
    // Comments can split a NameID so that parsers disagree on its value while the signature,
    // computed without comments, still holds; a DOCTYPE opens entity tricks. IdPs send neither.
    if xml.contains("<!--") {
        return Err(refuse("XML comments are not accepted in a SAML response"));
    }
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(refuse("DOCTYPE is not accepted in a SAML response"));
    }
    if !config.allow_sha1 && (xml.contains("xmldsig#sha1") || xml.contains("xmldsig#rsa-sha1")) {
        return Err(refuse(
            "SHA-1 signatures or digests are not allowed for this company",
        ));
    }
    // Signature-wrapping attacks need a second assertion somewhere; a real IdP sends exactly one.
    let assertions = count_elements(&xml, "Assertion");
    if assertions != 1 {
        return Err(refuse(format!(
            "expected exactly one Assertion, found {assertions}"
        )));
    }
    if count_elements(&xml, "EncryptedAssertion") > 0 {
        return Err(refuse("encrypted assertions are not supported"));
    }
    // The envelope is read unverified only to compare Destination and InResponseTo; who signs in
    // comes from the verified assertion alone.
    let envelope: Response = xml
        .parse()
        .map_err(|e| refuse(format!("not a SAML Response: {e}")))?;
    if envelope.destination.as_deref() != Some(urls.acs_url.as_str()) {
        return Err(refuse(format!(
            "Destination {:?} is not this ACS",
            envelope.destination
        )));
    }
    let success = envelope
        .status
        .as_ref()
        .and_then(|s| s.status_code.value.as_deref())
        .is_some_and(|v| v == "urn:oasis:names:tc:SAML:2.0:status:Success");
    if !success {
        return Err(refuse("the IdP did not report success"));
    }
    let unsolicited = envelope.in_response_to.is_none();
    if unsolicited && !config.allow_idp_initiated {
        return Err(refuse(
            "unsolicited (IdP-initiated) response, not enabled for this company",
        ));
    }
    if let Some(irt) = &envelope.in_response_to {
        if !pending.iter().any(|p| p == irt) {
            return Err(refuse(
                "InResponseTo does not name a pending request of this browser",
            ));
        }
    }
    let sp = service_provider(config, urls, tolerances, unsolicited).map_err(refuse)?;
    let ids: Vec<&str> = pending.iter().map(String::as_str).collect();
    let assertion = sp
        .parse_xml_response(&xml, Some(&ids))
        .map_err(|e| refuse(format!("rejected: {e}")))?;
    let login = login_from(&assertion, urls)?;
    // The outer InResponseTo is not signed when only the assertion is: the signed one must say
    // the same, or an IdP-initiated assertion could pass as an answer to our request.
    if let Some(irt) = &envelope.in_response_to {
        if login.in_response_to.as_deref() != Some(irt.as_str()) {
            return Err(refuse(
                "the assertion's InResponseTo does not match the response's",
            ));
        }
    }
    Ok(login)
}

/// How many elements with this local name (any namespace prefix) the document has.
fn count_elements(xml: &str, local_name: &str) -> usize {
    xml.split('<')
        .skip(1)
        .filter(|tag| !tag.starts_with('/') && !tag.starts_with('?') && !tag.starts_with('!'))
        .filter(|tag| {
            let name = tag
                .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .next()
                .unwrap_or_default();
            name.rsplit(':').next() == Some(local_name)
        })
        .count()
}

fn login_from(assertion: &Assertion, urls: &SpUrls) -> Result<SamlLogin, Refused> {
    // samael accepts an assertion without any AudienceRestriction; we do not.
    let audiences: Vec<&str> = assertion
        .conditions
        .as_ref()
        .and_then(|c| c.audience_restrictions.as_ref())
        .into_iter()
        .flatten()
        .flat_map(|r| r.audience.iter().map(String::as_str))
        .collect();
    if !audiences.contains(&urls.entity_id.as_str()) {
        return Err(refuse(
            "the assertion is not addressed to this service provider (Audience)",
        ));
    }
    let subject = assertion
        .subject
        .as_ref()
        .ok_or_else(|| refuse("no Subject"))?;
    let name_id = subject
        .name_id
        .as_ref()
        .map(|n| n.value.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| refuse("no NameID"))?;
    let confirmation = subject
        .subject_confirmations
        .iter()
        .flatten()
        .filter_map(|c| c.subject_confirmation_data.as_ref())
        .find(|d| d.recipient.as_deref() == Some(urls.acs_url.as_str()))
        .ok_or_else(|| refuse("no SubjectConfirmation for this ACS (Recipient)"))?;
    let expires_at = assertion
        .conditions
        .as_ref()
        .and_then(|c| c.not_on_or_after)
        .or(confirmation.not_on_or_after)
        .ok_or_else(|| refuse("the assertion has no expiry"))?;
    let attribute = |names: &[&str]| {
        assertion
            .attribute_statements
            .iter()
            .flatten()
            .flat_map(|s| s.attributes.iter())
            .find(|a| {
                let n = a.name.as_deref().unwrap_or_default();
                let f = a.friendly_name.as_deref().unwrap_or_default();
                names.iter().any(|want| {
                    n.eq_ignore_ascii_case(want)
                        || f.eq_ignore_ascii_case(want)
                        || n.ends_with(&format!("/{want}"))
                })
            })
            .and_then(|a| a.values.iter().find_map(|v| v.value.clone()))
            .map(|v| v.trim().to_owned())
    };
    let email = attribute(&["email", "mail", "emailaddress"])
        .or_else(|| name_id.contains('@').then(|| name_id.clone()))
        .map(|e| e.to_lowercase());
    let given = attribute(&["givenName", "givenname", "firstName"]);
    let family = attribute(&["surname", "sn", "lastName"]);
    let name = match (given, family) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (Some(g), None) => Some(g),
        (None, Some(f)) => Some(f),
        (None, None) => attribute(&["name", "displayName"]),
    };
    Ok(SamlLogin {
        name_id,
        email,
        name,
        assertion_id: assertion.id.clone(),
        in_response_to: confirmation.in_response_to.clone(),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_elements_by_local_name() {
        let xml = r#"<samlp:Response><saml:Assertion ID="a"><saml:Subject/></saml:Assertion><Assertion/><saml2:EncryptedAssertion/></samlp:Response>"#;
        assert_eq!(super::count_elements(xml, "Assertion"), 2);
        assert_eq!(super::count_elements(xml, "EncryptedAssertion"), 1);
        assert_eq!(super::count_elements(xml, "Response"), 1);
    }
}
