//! The job runner: what must happen now and then whether or not anyone makes a request.
//! `run_due_jobs` does one round; the server calls it every `JOBS_INTERVAL_SECS` (see
//! [`Jobs::spawn_loop`]) and `meetergo-console run-jobs --once` calls it from cron. Every job
//! is safe to run from several instances at once, and a round that is run twice does nothing
//! the second time.

pub mod reminders;

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::auth::session_store;
use crate::clock::Clock;
use crate::db::job_lock::JobLock;
use crate::db::models::{now as system_now, Invitation, SsoRequest};
use crate::db::{Db, Tx};
use crate::error::AppError;
use crate::services::mail::Mailer;
use crate::telemetry::metrics::Metrics;
use crate::webhooks::delivery::{Deliverer, DeliveryReport};
pub use reminders::RemindersReport;

/// How long an expired, unused invitation is kept: its link keeps saying "expired" (rather
/// than "not valid") for this long before the row goes.
pub const EXPIRED_INVITATION_RETENTION: chrono::Duration = chrono::Duration::days(30);

/// What one round did: counts only, never a secret or an address.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JobsReport {
    pub sessions_purged: usize,
    /// Pending SSO requests and remembered SAML assertion ids.
    pub sso_purged: usize,
    pub invitations_purged: usize,
    pub reminders: RemindersReport,
    /// Webhook deliveries (the server's own loop sends most of them between rounds).
    pub webhooks: DeliveryReport,
    /// Another instance was doing the housekeeping (PostgreSQL), so this one skipped it.
    pub housekeeping_busy: bool,
    /// Jobs that failed this round (logged); the next round tries them again.
    pub failures: usize,
}

struct Purged {
    sessions: usize,
    sso: usize,
    invitations: usize,
}

/// The purges, in one transaction under the housekeeping lock: with several instances on one
/// PostgreSQL one of them does them while the others skip (`None`).
fn housekeeping(
    tx: &mut Tx<'_>,
    system: NaiveDateTime,
    expired_before: NaiveDateTime,
) -> Result<Option<Purged>, AppError> {
    if !JobLock::Housekeeping.try_take_for_transaction(tx)? {
        return Ok(None);
    }
    Ok(Some(Purged {
        sessions: session_store::purge_expired(tx)?,
        sso: SsoRequest::purge_expired(tx, system)?,
        invitations: Invitation::purge_unused_expired(tx, expired_before)?,
    }))
}

impl std::fmt::Display for JobsReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.reminders;
        write!(
            f,
            "jobs done: {} expired sessions, {} SSO requests and {} invitations purged{}; \
             {} expiry reminders sent ({} mails), {} skipped, {} failed{}; {}; {} jobs failed",
            self.sessions_purged,
            self.sso_purged,
            self.invitations_purged,
            if self.housekeeping_busy {
                " (another instance was purging)"
            } else {
                ""
            },
            r.sent,
            r.mails,
            r.skipped,
            r.failed,
            if r.busy {
                " (another instance was sending them)"
            } else {
                ""
            },
            self.webhooks,
            self.failures
        )
    }
}

/// Runs every job once, as of `now`. A failing job is logged and counted; the others still run.
pub async fn run_due_jobs(
    db: &Db,
    mailer: &Mailer,
    public_url: &str,
    webhooks: Option<&Deliverer>,
    now: NaiveDateTime,
) -> JobsReport {
    let mut report = JobsReport::default();
    let failed = |job: &str, e: AppError| -> usize {
        tracing::warn!(error = %e, job, "job failed");
        1
    };
    // Sessions, SSO requests and SAML assertion ids are stamped and checked with the system
    // time in places, so they go by the earlier of the two clocks: a test clock moved forward
    // never removes something still valid.
    let system = system_now().min(now);
    let expired_before = now - EXPIRED_INVITATION_RETENTION;
    match db
        .transaction(move |tx| housekeeping(tx, system, expired_before))
        .await
    {
        Ok(Some(purged)) => {
            report.sessions_purged = purged.sessions;
            report.sso_purged = purged.sso;
            report.invitations_purged = purged.invitations;
        }
        Ok(None) => report.housekeeping_busy = true,
        Err(e) => report.failures += failed("housekeeping", e),
    }
    match reminders::send_due(db, mailer, public_url, now).await {
        Ok(r) => report.reminders = r,
        Err(e) => report.failures += failed("expiry reminders", e),
    }
    // After the reminders: their `credential_expiring` events go out in this round.
    if let Some(deliverer) = webhooks {
        match deliverer.run_once().await {
            Ok(r) => report.webhooks = r,
            Err(e) => report.failures += failed("webhook deliveries", e),
        }
    }
    let r = &report.reminders;
    tracing::info!(
        sessions_purged = report.sessions_purged,
        sso_purged = report.sso_purged,
        invitations_purged = report.invitations_purged,
        housekeeping_busy = report.housekeeping_busy,
        reminders_sent = r.sent,
        reminder_mails = r.mails,
        reminders_skipped = r.skipped,
        reminders_failed = r.failed,
        reminders_busy = r.busy,
        webhook_attempts = report.webhooks.attempted,
        webhooks_delivered = report.webhooks.succeeded,
        webhooks_failed = report.webhooks.failed,
        webhook_endpoints_disabled = report.webhooks.endpoints_disabled,
        failures = report.failures,
        "jobs ran"
    );
    report
}

/// What the jobs need, bundled so the server, the CLI and tests start a round the same way.
#[derive(Clone)]
pub struct Jobs {
    db: Db,
    mailer: Mailer,
    public_url: String,
    clock: Clock,
    metrics: Metrics,
    webhooks: Option<Deliverer>,
}

impl Jobs {
    pub fn new(db: Db, mailer: Mailer, public_url: String, clock: Clock) -> Self {
        Self {
            db,
            mailer,
            public_url,
            clock,
            metrics: Metrics::default(),
            webhooks: None,
        }
    }

    /// The same jobs, each round counted in `metrics`.
    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    /// Rounds deliver webhooks too.
    pub fn with_webhooks(mut self, deliverer: Deliverer) -> Self {
        self.webhooks = Some(deliverer);
        self
    }

    /// One round now, as the clock says.
    pub async fn run_once(&self) -> JobsReport {
        let report = run_due_jobs(
            &self.db,
            &self.mailer,
            &self.public_url,
            self.webhooks.as_ref(),
            self.clock.now(),
        )
        .await;
        self.metrics.job_round(&report);
        report
    }

    /// Only the webhook deliveries due now (tests; the server's delivery loop does the same).
    pub async fn deliver_webhooks(&self) -> Result<DeliveryReport, AppError> {
        match &self.webhooks {
            Some(deliverer) => deliverer.run_once().await,
            None => Ok(DeliveryReport::default()),
        }
    }

    /// Runs a round every `interval` (the first at once) for as long as the runtime lives.
    pub fn spawn_loop(self, interval: Duration) {
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(interval);
            // A long round (slow SMTP) delays the next instead of starting a burst of them.
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                self.run_once().await;
            }
        });
    }
}
