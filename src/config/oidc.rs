//! OpenID Connect providers from the environment: GOOGLE_*, MICROSOFT_* and the providers named
//! in OIDC_PROVIDERS (OIDC_<NAME>_*). The sign-in flow itself is `auth::oidc`.

use secrecy::SecretString;

/// One configured provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The path segment: `/auth/oidc/{key}/...`.
    pub key: String,
    pub display_name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Microsoft's multi-tenant endpoints publish an issuer with `{tenantid}` in it; the ID
    /// token's `tid` is substituted and must give exactly the token's `iss`.
    pub tenant_template: bool,
}

impl ProviderConfig {
    fn from_env(
        key: &str,
        prefix: &str,
        display: &str,
        default_issuer: Option<String>,
    ) -> Option<Self> {
        let var = |name: &str| {
            std::env::var(format!("{prefix}_{name}"))
                .ok()
                .filter(|v| !v.trim().is_empty())
        };
        let client_id = var("CLIENT_ID")?;
        let client_secret = var("CLIENT_SECRET")?;
        let issuer = var("ISSUER_URL").or(default_issuer)?;
        Some(Self {
            key: key.to_owned(),
            display_name: var("DISPLAY_NAME").unwrap_or_else(|| display.to_owned()),
            tenant_template: false,
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id,
            client_secret: SecretString::from(client_secret),
        })
    }
}

/// Providers from the environment: GOOGLE_*, MICROSOFT_* and those named in OIDC_PROVIDERS.
pub(super) fn providers_from_env() -> Vec<ProviderConfig> {
    let mut out = Vec::new();
    if let Some(p) = ProviderConfig::from_env(
        "google",
        "GOOGLE",
        "Google",
        Some("https://accounts.google.com".into()),
    ) {
        out.push(p);
    }
    let tenant = std::env::var("MICROSOFT_TENANT")
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "common".into());
    let multi = matches!(tenant.as_str(), "common" | "organizations" | "consumers");
    let ms_issuer = format!("https://login.microsoftonline.com/{tenant}/v2.0");
    if let Some(mut p) =
        ProviderConfig::from_env("microsoft", "MICROSOFT", "Microsoft", Some(ms_issuer))
    {
        p.tenant_template = multi && std::env::var("MICROSOFT_ISSUER_URL").is_err();
        out.push(p);
    }
    for name in std::env::var("OIDC_PROVIDERS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let key = name.to_lowercase();
        if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            || out.iter().any(|p| p.key == key)
        {
            tracing::warn!(
                provider = name,
                "ignoring OIDC provider with an unusable or duplicate name"
            );
            continue;
        }
        let prefix = format!("OIDC_{}", key.to_uppercase().replace('-', "_"));
        match ProviderConfig::from_env(&key, &prefix, name, None) {
            Some(p) => out.push(p),
            None => tracing::warn!(
                provider = name,
                "OIDC provider needs {prefix}_ISSUER_URL, _CLIENT_ID and _CLIENT_SECRET"
            ),
        }
    }
    out
}
