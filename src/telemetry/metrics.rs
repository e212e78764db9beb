//! Prometheus metrics (`metrics` + `metrics-exporter-prometheus`), served by [`serve`] on
//! `METRICS_ADDR`, a listener of their own: never on the public one.
//!
//! Each application holds its own recorder instead of installing the process-wide one, so two
//! applications in one process (the tests run dozens) never count into each other. With
//! `METRICS_ADDR` unset the handle is off and every call here does nothing.
//!
//! Labels are bounded by construction: a route is its *pattern* (`/v4/user/{id}`, never the
//! path, whose ids would make a series per user), a method outside the standard ones is
//! `other`, limiters and outcomes are fixed words.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, App, HttpResponse, HttpServer};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};

use crate::db::Db;
use crate::jobs::JobsReport;
use crate::state::AppState;

const HTTP_REQUESTS: &str = "console_http_requests_total";
const HTTP_DURATION: &str = "console_http_request_duration_seconds";
const RATE_LIMITED: &str = "console_rate_limit_rejections_total";
const RATE_LIMIT_BACKEND_ERRORS: &str = "console_rate_limit_backend_errors_total";
const RATE_LIMIT_FAIL_OPEN: &str = "console_rate_limit_fail_open_total";
const RATE_LIMIT_FALLBACK: &str = "console_rate_limit_fallback_total";
const API_AUTH: &str = "console_api_auth_total";
const DB_CONNECTIONS: &str = "console_db_pool_connections";
const DB_WAITING: &str = "console_db_jobs_waiting";
const JOB_ROUNDS: &str = "console_job_rounds_total";
const JOB_FAILURES: &str = "console_job_failures_total";
const JOB_ITEMS: &str = "console_job_items_total";
const WEBHOOK_DELIVERIES: &str = "console_webhook_deliveries_total";
const AUTH_CACHE: &str = "console_auth_cache_total";
const AUTH_CACHE_INVALIDATIONS: &str = "console_auth_cache_invalidations_total";

/// Seconds; from a cached page (~1 ms) to a slow sign-in (argon2 under load).
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// This application's metrics; cheap to clone, off unless `METRICS_ADDR` is set.
#[derive(Clone, Default)]
pub struct Metrics {
    recorder: Option<Arc<PrometheusRecorder>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("on", &self.is_on())
            .finish()
    }
}

/// Which rate limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limiter {
    Login,
    Recovery,
    Invitation,
    Api,
    TwoFactor,
    TwoFactorIp,
    LeakReport,
    /// The per-account ceiling on failed sign-ins.
    AccountFailures,
}

impl Limiter {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Recovery => "recovery",
            Self::Invitation => "invitation",
            Self::Api => "api",
            Self::TwoFactor => "two_factor",
            Self::TwoFactorIp => "two_factor_ip",
            Self::LeakReport => "leak_report",
            Self::AccountFailures => "account_failures",
        }
    }
}

/// How the authentication of an API credential (PAT or API key) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthOutcome {
    /// A valid credential, let in.
    Ok,
    /// Missing, malformed, unknown, revoked, deactivated or expired.
    Invalid,
    /// A valid credential whose request was refused (rate limit, user header).
    Refused,
    /// The database failed.
    Error,
}

impl AuthOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Invalid => "invalid",
            Self::Refused => "refused",
            Self::Error => "error",
        }
    }

    /// From the status the authentication answered with (200 when it let the request in).
    pub fn from_status(status: StatusCode) -> Self {
        match status.as_u16() {
            200..=299 => Self::Ok,
            401 => Self::Invalid,
            500..=599 => Self::Error,
            _ => Self::Refused,
        }
    }
}

impl Metrics {
    /// Metrics on: a recorder of this application's own.
    pub fn on() -> Self {
        // Only an empty bucket list is refused; a summary would be the fallback.
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), LATENCY_BUCKETS)
            .map_or_else(
                |_| PrometheusBuilder::new().build_recorder(),
                PrometheusBuilder::build_recorder,
            );
        let metrics = Self {
            recorder: Some(Arc::new(recorder)),
        };
        metrics.record(describe);
        metrics
    }

    pub fn is_on(&self) -> bool {
        self.recorder.is_some()
    }

    fn record(&self, f: impl FnOnce()) {
        if let Some(recorder) = &self.recorder {
            metrics::with_local_recorder(recorder.as_ref(), f);
        }
    }

    /// One answered HTTP request; `route` is the matched pattern.
    pub fn http_request(&self, method: &Method, route: &str, status: StatusCode, took: Duration) {
        self.record(|| {
            let labels = [
                ("method", method_label(method).to_owned()),
                ("route", route.to_owned()),
                ("status", status.as_u16().to_string()),
            ];
            metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
            metrics::histogram!(HTTP_DURATION, &labels).record(took.as_secs_f64());
        });
    }

    /// A request refused by a rate limit.
    pub fn rate_limited(&self, limiter: Limiter) {
        self.record(|| {
            metrics::counter!(RATE_LIMITED, "limiter" => limiter.as_str()).increment(1);
        });
    }

    /// Redis (`REDIS_URL`) failed or timed out while checking `limiter`.
    pub fn rate_limit_backend_error(&self, limiter: Limiter) {
        self.record(|| {
            metrics::counter!(RATE_LIMIT_BACKEND_ERRORS, "limiter" => limiter.as_str())
                .increment(1);
        });
    }

    /// An API request let through unchecked because Redis was unavailable.
    pub fn rate_limit_fail_open(&self) {
        self.record(|| metrics::counter!(RATE_LIMIT_FAIL_OPEN).increment(1));
    }

    /// A check of `limiter` counted in this instance's memory because Redis was unavailable.
    pub fn rate_limit_fallback(&self, limiter: Limiter) {
        self.record(|| {
            metrics::counter!(RATE_LIMIT_FALLBACK, "limiter" => limiter.as_str()).increment(1);
        });
    }

    /// An API request authenticated (or not) with a credential; `credential` is `pat`,
    /// `api_key` or `unknown` (no readable credential).
    pub fn api_auth(&self, credential: &'static str, outcome: AuthOutcome) {
        self.record(|| {
            metrics::counter!(API_AUTH, "credential" => credential, "outcome" => outcome.as_str())
                .increment(1);
        });
    }

    /// A credential looked up in the cache: `hit`, `miss` or `bypass` (cache not trusted now).
    pub fn auth_cache(&self, outcome: crate::auth::credential_cache::Lookup) {
        self.record(|| {
            metrics::counter!(AUTH_CACHE, "outcome" => outcome.as_str()).increment(1);
        });
    }

    /// The credential cache dropped everything: a local write, a NOTIFY, or a reconnect.
    pub fn auth_cache_invalidation(&self, source: crate::auth::credential_cache::Invalidation) {
        self.record(|| {
            metrics::counter!(AUTH_CACHE_INVALIDATIONS, "source" => source.as_str()).increment(1);
        });
    }

    /// One round of the jobs and what it did.
    pub fn job_round(&self, report: &JobsReport) {
        self.record(|| {
            metrics::counter!(JOB_ROUNDS).increment(1);
            metrics::counter!(JOB_FAILURES).increment(report.failures as u64);
            let r = &report.reminders;
            for (item, n) in [
                ("sessions_purged", report.sessions_purged),
                ("sso_purged", report.sso_purged),
                ("invitations_purged", report.invitations_purged),
                ("reminders_sent", r.sent),
                ("reminder_mails", r.mails),
                ("reminders_skipped", r.skipped),
                ("reminders_failed", r.failed),
            ] {
                metrics::counter!(JOB_ITEMS, "item" => item).increment(n as u64);
            }
        });
    }

    /// One attempt to deliver a webhook and where the delivery stands after it: `succeeded`,
    /// `pending` (failed, will be retried) or `failed` (retries ran out). For the delivery
    /// worker to call.
    pub fn webhook_delivery(&self, after: crate::webhooks::DeliveryState) {
        self.record(|| {
            metrics::counter!(WEBHOOK_DELIVERIES, "outcome" => after.as_str()).increment(1);
        });
    }

    /// The text a scrape receives; the pool is sampled now. `None` when off.
    pub fn render(&self, db: &Db) -> Option<String> {
        let recorder = self.recorder.as_ref()?;
        metrics::with_local_recorder(recorder.as_ref(), || {
            let pools = db.pool_use();
            for pool in &pools.pools {
                let connections = |state: &'static str| metrics::gauge!(DB_CONNECTIONS, "pool" => pool.name, "state" => state);
                connections("in_use").set(f64::from(pool.in_use));
                connections("idle").set(f64::from(pool.idle));
            }
            metrics::gauge!(DB_WAITING).set(pools.jobs_waiting as f64);
        });
        Some(recorder.handle().render())
    }

    /// Histograms keep their samples until a scrape takes them; without scrapes this bounds
    /// them. Runs for as long as the runtime lives.
    fn spawn_upkeep(&self) {
        if let Some(recorder) = &self.recorder {
            let handle = recorder.handle();
            actix_web::rt::spawn(async move {
                let mut tick = actix_web::rt::time::interval(Duration::from_secs(10));
                loop {
                    tick.tick().await;
                    handle.run_upkeep();
                }
            });
        }
    }
}

fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route pattern and status"
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to the response head, by method, route pattern and status"
    );
    metrics::describe_counter!(RATE_LIMITED, "Requests refused by a rate limit, by limiter");
    metrics::describe_counter!(
        RATE_LIMIT_BACKEND_ERRORS,
        "Redis failures or timeouts while checking a rate limit, by limiter"
    );
    metrics::describe_counter!(
        RATE_LIMIT_FAIL_OPEN,
        "API requests let through unchecked because Redis was unavailable"
    );
    metrics::describe_counter!(
        RATE_LIMIT_FALLBACK,
        "Rate-limit checks counted in this instance's memory because Redis was unavailable, by limiter"
    );
    metrics::describe_counter!(
        API_AUTH,
        "API credential authentications, by credential kind and outcome"
    );
    metrics::describe_gauge!(
        DB_CONNECTIONS,
        "Database pool connections, by pool and state"
    );
    metrics::describe_gauge!(DB_WAITING, "Database jobs queued for a database thread");
    metrics::describe_counter!(
        JOB_ROUNDS,
        "Rounds of the periodic jobs run by this instance"
    );
    metrics::describe_counter!(JOB_FAILURES, "Jobs that failed in a round");
    metrics::describe_counter!(JOB_ITEMS, "What the jobs did, by item");
    metrics::describe_counter!(
        WEBHOOK_DELIVERIES,
        "Webhook delivery attempts, by the delivery's state after the attempt"
    );
    metrics::describe_counter!(
        AUTH_CACHE,
        "API credential cache lookups, by outcome (hit, miss, bypass)"
    );
    metrics::describe_counter!(
        AUTH_CACHE_INVALIDATIONS,
        "Credential cache invalidations, by source (local, notify, reconnect)"
    );
}

/// Standard methods by name; anything else one label, so a client cannot mint series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: counts and times every request by its route pattern and status.
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|app| app.metrics.clone())
        .filter(Metrics::is_on);
    let Some(metrics) = metrics else {
        return next.call(req).await;
    };
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let route = req
        .match_pattern()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let outcome = next.call(req).await;
    let status = match &outcome {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    metrics.http_request(&method, &route, status, started.elapsed());
    outcome
}

/// The metrics listener: `GET /metrics` and nothing else. One worker; a scrape is rare.
pub fn serve(listener: std::net::TcpListener, metrics: Metrics, db: Db) -> std::io::Result<Server> {
    metrics.spawn_upkeep();
    let state = web::Data::new((metrics, db));
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route(crate::paths::METRICS, web::get().to(scrape))
    })
    .workers(1)
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(1)
    .run())
}

async fn scrape(state: web::Data<(Metrics, Db)>) -> HttpResponse {
    let (metrics, db) = state.get_ref();
    match metrics.render(db) {
        Some(text) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(text),
        None => HttpResponse::NotFound().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DatabaseUrl;
    use crate::webhooks::DeliveryState;

    fn db() -> (Db, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("metrics-{}", uuid::Uuid::new_v4().simple()));
        let url = DatabaseUrl::Sqlite(dir.join("m.sqlite").to_string_lossy().into_owned());
        (Db::connect(&url, 1).unwrap(), dir)
    }

    #[test]
    fn off_records_nothing_and_serves_nothing() {
        let (db, dir) = db();
        let off = Metrics::default();
        off.rate_limited(Limiter::Api);
        assert!(off.render(&db).is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn two_applications_never_count_into_each_other() {
        let (db, dir) = db();
        let (a, b) = (Metrics::on(), Metrics::on());
        a.webhook_delivery(DeliveryState::Succeeded);
        a.webhook_delivery(DeliveryState::Pending);
        a.webhook_delivery(DeliveryState::Succeeded);
        b.rate_limited(Limiter::LeakReport);
        let text = a.render(&db).unwrap();
        assert!(
            text.contains("console_webhook_deliveries_total{outcome=\"succeeded\"} 2"),
            "{text}"
        );
        assert!(text.contains("console_webhook_deliveries_total{outcome=\"pending\"} 1"));
        assert!(!text.contains("leak_report"), "{text}");
        assert!(text.contains("console_db_pool_connections{pool=\"main\",state=\"idle\"}"));
        let text = b.render(&db).unwrap();
        assert!(text.contains("console_rate_limit_rejections_total{limiter=\"leak_report\"} 1"));
        assert!(!text.contains("webhook_deliveries_total{"), "{text}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn outcomes_follow_the_status_of_the_authentication() {
        let of = |code: u16| AuthOutcome::from_status(StatusCode::from_u16(code).unwrap());
        assert_eq!(of(200), AuthOutcome::Ok);
        assert_eq!(of(401), AuthOutcome::Invalid);
        for refused in [400, 403, 404, 429] {
            assert_eq!(of(refused), AuthOutcome::Refused);
        }
        assert_eq!(of(503), AuthOutcome::Error);
    }

    #[test]
    fn methods_outside_the_standard_ones_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
