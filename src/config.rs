//! Typed settings read from the environment. Secrets are wrapped so they never print.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use secrecy::{ExposeSecret, SecretString};

use crate::client_ip::TrustedProxies;
use crate::db::DatabaseUrl;

pub mod oidc;

pub const MIN_SECRET_KEY_LEN: usize = 32;

/// The static folder beside the crate, for running from the source tree.
fn crate_static_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind_addr: SocketAddr,
    /// `TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the client (see `client_ip`).
    pub trusted_proxies: TrustedProxies,
    /// `METRICS_ADDR`: where `GET /metrics` is served, apart from `bind_addr`; `None`: off.
    pub metrics_addr: Option<SocketAddr>,
    pub database_url: DatabaseUrl,
    pub data_dir: PathBuf,
    /// Where the console is reached from outside, without a trailing slash.
    pub public_url: String,
    pub secret_key: SecretString,
    pub session_idle_timeout: Duration,
    pub session_max_lifetime: Duration,
    pub login_rate_limit_per_minute: u32,
    /// Failed sign-ins per account per hour, from anywhere, before the account refuses
    /// password sign-in for the rest of the hour and its owner is mailed.
    pub login_account_failures_per_hour: u32,
    /// Invitations a company may send per hour.
    pub invite_rate_limit_per_hour: u32,
    pub api_rate_limit_per_minute: u32,
    pub api_rate_limit_burst: u32,
    /// `REDIS_URL`: the rate limits are counted in Redis, one limit for every instance;
    /// `None`: in this instance's memory (a single instance only). May hold a password.
    pub redis_url: Option<SecretString>,
    pub db_pool_size: u32,
    /// Password-hashing threads; default: the number of CPU cores.
    pub max_concurrent_password_hashes: usize,
    /// After SIGTERM, how long the server keeps answering (with `Connection: close`) before
    /// it stops accepting connections.
    pub shutdown_drain: Duration,
    /// `smtp://user:pass@host:port` or `smtps://…`; unset writes mail into `DATA_DIR/mail/`.
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    pub invitation_ttl_days: i64,
    /// How long a link confirming an email address works.
    pub email_verification_ttl_hours: i64,
    /// Least time between two verification mails to one person ("resend").
    pub email_verification_resend_secs: i64,
    /// `ip:port` of the DNS server that checks domain TXT records; None: the system's.
    pub dns_resolver: Option<SocketAddr>,
    /// OpenID Connect providers (GOOGLE_*, MICROSOFT_*, OIDC_PROVIDERS + OIDC_<NAME>_*).
    pub oidc_providers: Vec<oidc::ProviderConfig>,
    /// Where the CSS and JS are served from (`STATIC_DIR`).
    pub static_dir: PathBuf,
    /// Allowed clock difference with SAML identity providers.
    pub saml_clock_skew_secs: i64,
    /// How often the per-credential API usage counted in memory is written to the database.
    pub usage_flush: Duration,
    /// How often the server runs its jobs (purges, expiry reminders); `None`
    /// (`JOBS_INTERVAL_SECS=0`) leaves them to `meetergo-console run-jobs` from cron.
    pub jobs_interval: Option<Duration>,
    /// Leaked-credential reports (`POST /v4/credentials/revoke`) per IP per hour.
    pub leak_report_rate_limit_per_hour: u32,
    /// `WEBHOOK_ALLOW_PRIVATE_TARGETS=true`: webhooks may go to loopback, private and other
    /// non-public addresses. For tests and local development only.
    pub webhook_allow_private_targets: bool,
    /// How often the server looks for webhook deliveries that are due
    /// (`WEBHOOK_POLL_INTERVAL_MS`); `None` (0) leaves them to the job rounds.
    pub webhook_poll_interval: Option<Duration>,
    /// The verified-credential cache (`CREDENTIAL_CACHE=off` turns it off).
    pub credential_cache: CredentialCacheSettings,
}

/// How many resolved credentials each instance keeps, and for how long at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialCacheSettings {
    pub enabled: bool,
    pub capacity: u64,
    pub ttl: Duration,
}

impl Default for CredentialCacheSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            capacity: 10_000,
            ttl: Duration::from_secs(60),
        }
    }
}

impl Settings {
    /// True when the public URL is https, which marks a production deployment.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "data".into()));
        let bind_addr: SocketAddr = var("BIND_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .context("BIND_ADDR must be host:port, like 127.0.0.1:8080")?;
        let database_url = DatabaseUrl::parse(&var("DATABASE_URL").unwrap_or_else(|| {
            data_dir
                .join("console.sqlite")
                .to_string_lossy()
                .into_owned()
        }));
        let public_url = var("PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind_addr}"))
            .trim_end_matches('/')
            .to_owned();
        url::Url::parse(&public_url).context("PUBLIC_URL must be an absolute URL")?;
        let production = public_url.starts_with("https://");
        let secret_key = match var("SECRET_KEY") {
            Some(key) if key.len() >= MIN_SECRET_KEY_LEN => SecretString::from(key),
            Some(_) => bail!("SECRET_KEY must be at least {MIN_SECRET_KEY_LEN} characters long"),
            None if production => bail!(
                "SECRET_KEY is required when PUBLIC_URL is https (generate one with: openssl rand -hex 32)"
            ),
            None => development_secret_key(&data_dir)?,
        };
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            match var(name) {
                Some(v) => v
                    .parse()
                    .with_context(|| format!("{name} must be a whole number")),
                None => Ok(default),
            }
        };
        Ok(Self {
            bind_addr,
            trusted_proxies: var("TRUSTED_PROXIES")
                .unwrap_or_default()
                .parse::<TrustedProxies>()?,
            metrics_addr: var("METRICS_ADDR")
                .map(|v| {
                    v.parse::<SocketAddr>().map_err(|e| {
                        anyhow::anyhow!("METRICS_ADDR must be ip:port, like 127.0.0.1:9100 ({e})")
                    })
                })
                .transpose()?,
            database_url,
            data_dir,
            public_url,
            secret_key,
            session_idle_timeout: Duration::from_secs(number(
                "SESSION_IDLE_TIMEOUT_SECS",
                30 * 60,
            )?),
            session_max_lifetime: Duration::from_secs(number(
                "SESSION_MAX_LIFETIME_SECS",
                12 * 3600,
            )?),
            login_rate_limit_per_minute: number("LOGIN_RATE_LIMIT_PER_MINUTE", 10)?.max(1) as u32,
            login_account_failures_per_hour: number("LOGIN_ACCOUNT_FAILURES_PER_HOUR", 100)?.max(1)
                as u32,
            invite_rate_limit_per_hour: number("INVITE_RATE_LIMIT_PER_HOUR", 100)?.max(1) as u32,
            api_rate_limit_per_minute: number("API_RATE_LIMIT_PER_MINUTE", 100)?.max(1) as u32,
            api_rate_limit_burst: number("API_RATE_LIMIT_BURST", 200)?.max(1) as u32,
            redis_url: var("REDIS_URL").map(SecretString::from),
            db_pool_size: number("DB_POOL_SIZE", 16)?.max(1) as u32,
            max_concurrent_password_hashes: number("MAX_CONCURRENT_PASSWORD_HASHES", cpu_cores())?
                .max(1) as usize,
            shutdown_drain: Duration::from_secs(number("SHUTDOWN_DRAIN_SECS", 5)?),
            smtp_url: var("SMTP_URL").map(SecretString::from),
            mail_from: var("MAIL_FROM")
                .unwrap_or_else(|| "meetergo console <no-reply@localhost>".into()),
            invitation_ttl_days: number("INVITATION_TTL_DAYS", 7)?.clamp(1, 90) as i64,
            email_verification_ttl_hours: number("EMAIL_VERIFICATION_TTL_HOURS", 24)?
                .clamp(1, 24 * 14) as i64,
            email_verification_resend_secs: number("EMAIL_VERIFICATION_RESEND_SECS", 60)?.min(3600)
                as i64,
            dns_resolver: var("DNS_RESOLVER")
                .map(|v| {
                    v.parse::<SocketAddr>()
                        .map_err(|e| anyhow::anyhow!("DNS_RESOLVER must be ip:port ({e})"))
                })
                .transpose()?,
            oidc_providers: oidc::providers_from_env(),
            static_dir: var("STATIC_DIR").map_or_else(crate_static_dir, PathBuf::from),
            saml_clock_skew_secs: number("SAML_CLOCK_SKEW_SECS", 60)?.min(600) as i64,
            usage_flush: Duration::from_secs(number("USAGE_FLUSH_SECS", 60)?.clamp(1, 3600)),
            jobs_interval: match number("JOBS_INTERVAL_SECS", 60)? {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
            leak_report_rate_limit_per_hour: number("LEAK_REPORT_RATE_LIMIT_PER_HOUR", 60)?.max(1)
                as u32,
            webhook_allow_private_targets: match var("WEBHOOK_ALLOW_PRIVATE_TARGETS").as_deref() {
                None | Some("false") | Some("0") => false,
                Some("true") | Some("1") => true,
                Some(_) => bail!("WEBHOOK_ALLOW_PRIVATE_TARGETS must be true or false"),
            },
            webhook_poll_interval: match number("WEBHOOK_POLL_INTERVAL_MS", 1000)? {
                0 => None,
                ms => Some(Duration::from_millis(ms)),
            },
            credential_cache: CredentialCacheSettings {
                enabled: match var("CREDENTIAL_CACHE").as_deref() {
                    None | Some("on") | Some("true") | Some("1") => true,
                    Some("off") | Some("false") | Some("0") => false,
                    Some(_) => bail!("CREDENTIAL_CACHE must be on or off"),
                },
                capacity: number("CREDENTIAL_CACHE_CAPACITY", 10_000)?.max(1),
                ttl: Duration::from_secs(number("CREDENTIAL_CACHE_TTL_SECS", 60)?.clamp(1, 3600)),
            },
        })
    }

    /// Settings for tests and tools: a given database, a fixed key, an ephemeral port.
    pub fn for_tests(database_url: DatabaseUrl, data_dir: PathBuf) -> Self {
        Self {
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            trusted_proxies: TrustedProxies::default(),
            metrics_addr: None,
            database_url,
            data_dir,
            // Filled in with the bound address by `Application::build`.
            public_url: String::new(),
            secret_key: SecretString::from(
                "test-secret-key-that-is-long-enough-0123456789".to_owned(),
            ),
            session_idle_timeout: Duration::from_secs(1800),
            session_max_lifetime: Duration::from_secs(12 * 3600),
            login_rate_limit_per_minute: 1000,
            login_account_failures_per_hour: 100,
            invite_rate_limit_per_hour: 1000,
            api_rate_limit_per_minute: 6000,
            api_rate_limit_burst: 6000,
            redis_url: None,
            db_pool_size: 8,
            max_concurrent_password_hashes: 4,
            shutdown_drain: Duration::from_secs(5),
            smtp_url: None,
            mail_from: "meetergo console <no-reply@localhost>".into(),
            invitation_ttl_days: 7,
            email_verification_ttl_hours: 24,
            email_verification_resend_secs: 60,
            dns_resolver: None,
            oidc_providers: Vec::new(),
            static_dir: crate_static_dir(),
            saml_clock_skew_secs: 60,
            usage_flush: Duration::from_secs(60),
            // Tests run a round when they want one (`TestApp::run_jobs`), at a moment they chose.
            jobs_interval: None,
            leak_report_rate_limit_per_hour: 60,
            // Test receivers listen on loopback.
            webhook_allow_private_targets: true,
            // Tests deliver when they want to (`TestApp::deliver_webhooks`).
            webhook_poll_interval: None,
            credential_cache: CredentialCacheSettings::default(),
        }
    }

    pub fn redis_url(&self) -> Option<&str> {
        self.redis_url.as_ref().map(|s| s.expose_secret())
    }

    pub fn smtp_url(&self) -> Option<&str> {
        self.smtp_url.as_ref().map(|s| s.expose_secret())
    }

    pub fn secret_key_bytes(&self) -> &[u8] {
        self.secret_key.expose_secret().as_bytes()
    }
}

fn cpu_cores() -> u64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
}

/// In development a key is generated once into the data folder (mode 0600), so restarts keep
/// sessions and stored credential hashes valid.
fn development_secret_key(data_dir: &Path) -> anyhow::Result<SecretString> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let path = data_dir.join("secret_key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let key = existing.trim().to_owned();
        if key.len() >= MIN_SECRET_KEY_LEN {
            return Ok(SecretString::from(key));
        }
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let key = crate::auth::keys::random_hex(32);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(key.as_bytes())?;
    tracing::warn!(
        path = %path.display(),
        "SECRET_KEY is not set: generated a development key; set SECRET_KEY in production"
    );
    Ok(SecretString::from(key))
}
