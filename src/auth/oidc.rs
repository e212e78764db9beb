//! Sign-in with OpenID Connect providers (Google, Microsoft, any OIDC issuer such as Okta):
//! authorization code flow with PKCE S256, one-time state and nonce, exact redirect URIs, one
//! callback per provider, the authorization response's `iss` (RFC 9207) when it names one, and ID
//! tokens checked for signature, issuer, audience, expiry and nonce. Claims about the person that
//! the ID token lacks are read from the userinfo endpoint (see [`person`]).

mod person;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use secrecy::ExposeSecret;

use crate::paths;

pub use crate::config::oidc::ProviderConfig;

/// Why a sign-in through a provider was refused (for the audit log and the message).
#[derive(Debug, Clone, thiserror::Error)]
pub enum OidcError {
    #[error("unknown provider")]
    UnknownProvider,
    #[error("provider discovery failed: {0}")]
    Discovery(String),
    #[error("the provider returned an error: {0}")]
    ProviderError(String),
    #[error("state does not match a pending sign-in of this browser")]
    BadState,
    #[error("code exchange failed: {0}")]
    Exchange(String),
    #[error("ID token rejected: {0}")]
    IdToken(String),
    /// RFC 9207: the authorization response names another issuer than this provider's.
    #[error("authorization response from issuer {sent}, expected {expected}")]
    ResponseIssuer { sent: String, expected: String },
    #[error("userinfo rejected: {0}")]
    UserInfo(String),
}

impl OidcError {
    /// What the person is told (the audit log gets the whole error).
    pub fn user_message(&self) -> &'static str {
        match self {
            Self::ResponseIssuer { .. } => {
                "The answer did not come from the provider this sign-in was started with. Start again."
            }
            _ => "The provider's answer could not be verified. Try again.",
        }
    }
}

/// RFC 9207: an authorization response that names its issuer must name this provider's (simple
/// string comparison). A response without `iss` is accepted: not every provider sends one.
pub fn check_response_issuer(sent: Option<&str>, expected: &str) -> Result<(), OidcError> {
    match sent {
        Some(sent) if sent != expected => Err(OidcError::ResponseIssuer {
            sent: sent.to_owned(),
            expected: expected.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// A client made from a provider's discovery document (token and userinfo endpoints optional).
type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Who the provider says signed in, after every check.
#[derive(Debug, Clone)]
pub struct ExternalIdentity {
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

pub struct Oidc {
    providers: Vec<ProviderConfig>,
    public_url: String,
    http: openidconnect::reqwest::Client,
    metadata: Mutex<HashMap<String, (CoreProviderMetadata, Instant)>>,
}

const METADATA_TTL: Duration = Duration::from_secs(600);

impl Oidc {
    pub fn new(providers: Vec<ProviderConfig>, public_url: &str) -> anyhow::Result<Self> {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer send us elsewhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            providers,
            public_url: public_url.to_owned(),
            http,
            metadata: Mutex::new(HashMap::new()),
        })
    }

    pub fn providers(&self) -> &[ProviderConfig] {
        &self.providers
    }

    pub fn provider(&self, key: &str) -> Result<&ProviderConfig, OidcError> {
        self.providers
            .iter()
            .find(|p| p.key == key)
            .ok_or(OidcError::UnknownProvider)
    }

    pub fn redirect_uri(&self, key: &str) -> String {
        format!("{}{}", self.public_url, paths::oidc_callback(key))
    }

    async fn metadata(&self, p: &ProviderConfig) -> Result<CoreProviderMetadata, OidcError> {
        if let Ok(cache) = self.metadata.lock() {
            if let Some((m, at)) = cache.get(&p.key) {
                if at.elapsed() < METADATA_TTL {
                    return Ok(m.clone());
                }
            }
        }
        let issuer =
            IssuerUrl::new(p.issuer.clone()).map_err(|e| OidcError::Discovery(e.to_string()))?;
        let metadata = if p.tenant_template {
            self.discover_tenant_template(&issuer).await?
        } else {
            // Checks that the document's issuer is exactly the configured one.
            CoreProviderMetadata::discover_async(issuer, &self.http)
                .await
                .map_err(|e| OidcError::Discovery(format!("{e}")))?
        };
        if let Ok(mut cache) = self.metadata.lock() {
            cache.insert(p.key.clone(), (metadata.clone(), Instant::now()));
        }
        Ok(metadata)
    }

    /// Microsoft's common endpoint publishes `https://login.microsoftonline.com/{tenantid}/v2.0`.
    async fn discover_tenant_template(
        &self,
        issuer: &IssuerUrl,
    ) -> Result<CoreProviderMetadata, OidcError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.as_str().trim_end_matches('/')
        );
        let fetch = |url: String| async move {
            let r = self
                .http
                .get(url)
                .send()
                .await
                .map_err(|e| OidcError::Discovery(e.to_string()))?;
            r.bytes()
                .await
                .map_err(|e| OidcError::Discovery(e.to_string()))
        };
        let body = fetch(url).await?;
        let metadata: CoreProviderMetadata =
            serde_json::from_slice(&body).map_err(|e| OidcError::Discovery(e.to_string()))?;
        if !metadata.issuer().as_str().contains("{tenantid}") {
            return Err(OidcError::Discovery(
                "expected a {tenantid} issuer template".into(),
            ));
        }
        let jwks_body = fetch(metadata.jwks_uri().url().to_string()).await?;
        let jwks =
            serde_json::from_slice(&jwks_body).map_err(|e| OidcError::Discovery(e.to_string()))?;
        Ok(metadata.set_jwks(jwks))
    }

    fn forget_metadata(&self, key: &str) {
        if let Ok(mut cache) = self.metadata.lock() {
            cache.remove(key);
        }
    }

    fn client(
        &self,
        p: &ProviderConfig,
        metadata: CoreProviderMetadata,
    ) -> Result<DiscoveredClient, OidcError> {
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(p.client_id.clone()),
            Some(ClientSecret::new(
                p.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(
            RedirectUrl::new(self.redirect_uri(&p.key))
                .map_err(|e| OidcError::Discovery(e.to_string()))?,
        ))
    }

    /// Where to send the browser, for this provider, state, nonce and PKCE verifier.
    pub async fn authorization_url(
        &self,
        key: &str,
        state: &str,
        nonce: &str,
        verifier: &str,
    ) -> Result<String, OidcError> {
        let p = self.provider(key)?;
        let client = self.client(p, self.metadata(p).await?)?;
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            verifier.to_owned(),
        ));
        let (state, nonce) = (state.to_owned(), nonce.to_owned());
        let (url, _, _) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(url.to_string())
    }

    /// Checks the authorization response's issuer, redeems the code, checks the ID token, and
    /// completes the person's claims from userinfo when the ID token lacks them.
    /// `response_issuer` is the callback's `iss` parameter (RFC 9207), if it had one.
    pub async fn finish(
        &self,
        key: &str,
        code: &str,
        response_issuer: Option<&str>,
        verifier: &str,
        nonce: &str,
    ) -> Result<ExternalIdentity, OidcError> {
        let p = self.provider(key)?;
        let metadata = self.metadata(p).await?;
        // Microsoft's template issuer is only known once the ID token names its tenant: that
        // case is checked below, before the identity is used.
        if !p.tenant_template {
            check_response_issuer(response_issuer, metadata.issuer().as_str())?;
        }
        let client = self.client(p, metadata.clone())?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Exchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Exchange(describe_request_error(&e)))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::IdToken("no ID token in the response".into()))?;
        let verifier_checks = client
            .id_token_verifier()
            .require_issuer_match(!p.tenant_template);
        let claims = id_token
            .claims(&verifier_checks, &Nonce::new(nonce.to_owned()))
            .map_err(|e| {
                // The provider may have rotated its keys: fetch its metadata afresh next time.
                self.forget_metadata(&p.key);
                OidcError::IdToken(e.to_string())
            })?;
        // Extra claims (Microsoft's tid/oid/xms_edov) from the payload whose signature was just verified.
        let extra = payload_claims(&id_token.to_string());
        let mut issuer = claims.issuer().as_str().to_owned();
        let mut subject = claims.subject().as_str().to_owned();
        if p.tenant_template {
            let tid = extra
                .get("tid")
                .and_then(|v| v.as_str())
                .ok_or_else(|| OidcError::IdToken("no tid claim".into()))?;
            let oid = extra
                .get("oid")
                .and_then(|v| v.as_str())
                .ok_or_else(|| OidcError::IdToken("no oid claim".into()))?;
            let expected = expected_tenant_issuer(metadata.issuer().as_str(), tid)?;
            if issuer != expected {
                return Err(OidcError::IdToken(format!(
                    "issuer {issuer} is not {expected}"
                )));
            }
            check_response_issuer(response_issuer, &expected)?;
            issuer = expected;
            subject = format!("{tid}/{oid}");
        }
        let microsoft_verified = if p.key == "microsoft" {
            extra.get("xms_edov").and_then(|v| v.as_bool())
        } else {
            None
        };
        let mut person = person::Person::from_id_token(claims, microsoft_verified);
        if person.lacks_email() && client.user_info_url().is_some() {
            let from_userinfo = person::from_userinfo(
                &client,
                &self.http,
                response.access_token().clone(),
                claims.subject().clone(),
                !p.tenant_template,
            )
            .await?;
            person = person.completed_by(from_userinfo);
        }
        Ok(ExternalIdentity {
            provider: p.key.clone(),
            issuer,
            subject,
            email_verified: person.email_verified.unwrap_or(false),
            email: person.email,
            name: person.name,
        })
    }
}

fn describe_request_error<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Substitutes the token's tenant into the `{tenantid}` template; the tenant id must be a UUID.
pub fn expected_tenant_issuer(template: &str, tid: &str) -> Result<String, OidcError> {
    if uuid::Uuid::parse_str(tid).is_err() {
        return Err(OidcError::IdToken("tid is not a tenant id".into()));
    }
    Ok(template.replace("{tenantid}", tid))
}

fn payload_claims(jwt: &str) -> serde_json::Map<String, serde_json::Value> {
    use base64::Engine;
    jwt.split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_issuer_substitution_requires_a_real_tenant_id() {
        let t = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let tid = "9188040d-6c67-4c5b-b112-36a304b66dad";
        assert_eq!(
            expected_tenant_issuer(t, tid).ok().as_deref(),
            Some("https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0")
        );
        assert!(expected_tenant_issuer(t, "evil.example/x").is_err());
    }

    #[test]
    fn an_authorization_response_may_name_only_this_providers_issuer() {
        let ours = "https://id.example.com/realms/a";
        assert!(
            check_response_issuer(None, ours).is_ok(),
            "absent: accepted"
        );
        assert!(check_response_issuer(Some(ours), ours).is_ok());
        for other in [
            "https://id.example.com/realms/b",
            "https://id.example.com/realms/a/",
            "https://ID.example.com/realms/a",
        ] {
            assert!(
                matches!(
                    check_response_issuer(Some(other), ours),
                    Err(OidcError::ResponseIssuer { .. })
                ),
                "{other}"
            );
        }
    }
}
