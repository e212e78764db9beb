//! The application's shared state: one value handlers reach through their request context.

use std::sync::Arc;

use actix_web::web::Data;

use crate::auth::keys::Keys;
use crate::auth::oidc::Oidc;
use crate::auth::password::PasswordHasherPool;
use crate::auth::rate_limit::RateLimits;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::services::mail::Mailer;

/// Each part is also registered on its own for the middleware that needs only it; both
/// point at the same instance.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Data<Settings>,
    pub keys: Arc<Keys>,
    pub limits: Data<RateLimits>,
    pub hasher: Data<PasswordHasherPool>,
    pub mailer: Data<Mailer>,
    pub oidc: Data<Oidc>,
    pub clock: Clock,
    /// Checks the TXT records that prove a company's domain.
    pub dns: Arc<crate::services::dns::DnsCheck>,
    /// Per-credential `/v4` requests counted in memory, written in batches.
    pub usage: Arc<crate::services::usage::UsageRecorder>,
    /// Prometheus metrics (off unless `METRICS_ADDR` is set).
    pub metrics: crate::telemetry::metrics::Metrics,
    /// Verified credentials, so a repeated `/v4` request needs no database query.
    pub credential_cache: Arc<crate::auth::credential_cache::CredentialCache>,
}
