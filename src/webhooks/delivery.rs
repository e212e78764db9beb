//! The delivery worker. A round claims the deliveries that are due, sends each (signed, see
//! [`signing`]) outside any transaction, and records the outcome:
//!
//! - **Claim**: in one write transaction, due pending deliveries are locked (PostgreSQL:
//!   `FOR UPDATE SKIP LOCKED`; SQLite: the `BEGIN IMMEDIATE` write lock) and leased: their
//!   `next_attempt_at` and `locked_until` move [`LEASE`] ahead, past the request's timeout.
//!   Another worker (a second instance, the job runner beside the server's loop) does not find
//!   them due while the lease lasts, so one worker at a time attempts a delivery; a worker that
//!   dies mid-attempt leaves the lease to run out, and the next round sends it again with the
//!   same `webhook-id` (at least once).
//! - **Outcome**: a 2xx answer is success; anything else (a 3xx too: redirects are not
//!   followed), a timeout or a refused connection is a failed attempt, retried after
//!   [`BACKOFF`] and failed for good when it runs out (about a day). Every attempt is recorded.
//! - **Disable**: an endpoint whose failures run for [`DISABLE_AFTER`] (no success since the
//!   first failure) is switched off, its pending deliveries fail, its company's owners and
//!   admins are mailed and the audit log says so.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, NaiveDateTime};
use futures_util::future::join_all;

use super::secret::SigningSecret;
use super::target::TargetPolicy;
use super::{client, signing, DeliveryState};
use crate::auth::keys::Keys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::models::{
    now as system_now, DeliveryLog, DueDelivery, User, WebhookAttempt, WebhookDelivery,
    WebhookEndpoint,
};
use crate::db::{Db, Tx};
use crate::domain::{AuditKind, Role, WebhookEndpointId};
use crate::error::AppError;
use crate::services::audit::{self, Event, Origin};
use crate::services::mail::{Mail, Mailer};
use crate::telemetry::metrics::Metrics;

/// The wait after the 1st, 2nd, … failed attempt; after the last, the delivery fails. The
/// waits add up to about a day (27.6 hours over 8 attempts).
pub const BACKOFF: [Duration; 7] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(10),
];

/// An endpoint failing for this long, with no success in between, is switched off.
pub const DISABLE_AFTER: Duration = Duration::days(3);

/// How long a claimed delivery is held for its attempt: the request's timeout and a margin.
pub const LEASE: Duration = Duration::seconds(client::TIMEOUT.as_secs() as i64 + 60);

/// Deliveries claimed (and sent at once) per batch.
const BATCH: i64 = 16;

/// A round stops after this many batches so a flood cannot keep it from ending.
const MAX_BATCHES: usize = 64;

/// How much of an answer is kept with the attempt.
const EXCERPT_BYTES: usize = 1024;

/// What one round did: counts only.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub attempted: usize,
    pub succeeded: usize,
    /// Failed attempts that will be tried again.
    pub retrying: usize,
    /// Deliveries given up: retries ran out, or the endpoint was switched off or deleted.
    pub failed: usize,
    pub endpoints_disabled: usize,
}

impl std::fmt::Display for DeliveryReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} webhook attempts ({} delivered, {} to retry), {} deliveries failed, {} endpoints disabled",
            self.attempted, self.succeeded, self.retrying, self.failed, self.endpoints_disabled
        )
    }
}

/// What an attempt came to.
#[derive(Debug, Clone)]
struct Outcome {
    started_at: NaiveDateTime,
    latency_ms: i32,
    status: Option<u16>,
    excerpt: Option<String>,
    error: Option<String>,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// An endpoint switched off in this round, to tell its company's owners and admins.
struct Disabled {
    id: WebhookEndpointId,
    endpoint: String,
    failing_since: NaiveDateTime,
    recipients: Vec<String>,
}

/// Sends webhooks: the job runner runs a round with every round of jobs, the server's loop
/// every `WEBHOOK_POLL_INTERVAL_MS`.
#[derive(Clone)]
pub struct Deliverer {
    db: Db,
    mailer: Mailer,
    clock: Clock,
    keys: Arc<Keys>,
    policy: TargetPolicy,
    client: reqwest::Client,
    public_url: String,
    metrics: Metrics,
}

impl Deliverer {
    pub fn new(
        db: Db,
        mailer: Mailer,
        keys: Arc<Keys>,
        settings: &Settings,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let policy = TargetPolicy::from_settings(settings);
        Ok(Self {
            db,
            mailer,
            clock,
            keys,
            policy,
            client: client::build(policy, settings.dns_resolver)?,
            public_url: settings.public_url.clone(),
            metrics: Metrics::default(),
        })
    }

    /// The same deliverer, each attempt's outcome counted in `metrics`.
    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    /// Delivers everything due now (as the clock says), batch after batch.
    pub async fn run_once(&self) -> Result<DeliveryReport, AppError> {
        let mut report = DeliveryReport::default();
        for _ in 0..MAX_BATCHES {
            let now = self.clock.now();
            if !self
                .db
                .run(move |conn| WebhookDelivery::any_due(conn, now))
                .await?
            {
                break;
            }
            let lease = now + LEASE;
            let (due, undeliverable) = self
                .db
                .transaction(move |tx| {
                    let undeliverable = WebhookDelivery::fail_undeliverable(tx, now)?;
                    let ids = WebhookDelivery::lock_due(tx, now, BATCH)?;
                    WebhookDelivery::lease(tx, &ids, lease)?;
                    Ok((
                        WebhookDelivery::with_event_and_endpoint(tx, &ids)?,
                        undeliverable,
                    ))
                })
                .await?;
            report.failed += undeliverable;
            if due.is_empty() {
                break;
            }
            let attempts = due.iter().map(|d| self.attempt(d));
            let outcomes = join_all(attempts).await;
            for (due, outcome) in due.into_iter().zip(outcomes) {
                report.attempted += 1;
                self.settle(due, outcome, lease, &mut report).await?;
            }
        }
        Ok(report)
    }

    /// Runs a round every `interval` for as long as the runtime lives.
    pub fn spawn_loop(self, interval: StdDuration) {
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.run_once().await {
                    tracing::warn!(error = %e, "webhook delivery round failed");
                }
            }
        });
    }

    /// One signed POST of the event's body to the endpoint.
    async fn attempt(&self, due: &DueDelivery) -> Outcome {
        let started_at = self.clock.now();
        let started = Instant::now();
        let failed = |error: String| Outcome {
            started_at,
            latency_ms: 0,
            status: None,
            excerpt: None,
            error: Some(error),
        };
        let url = match client::check_before_sending(&due.endpoint.endpoint, &self.policy) {
            Ok(url) => url,
            Err(why) => return failed(why),
        };
        let Some(secrets) = self.secrets(&due.endpoint, started_at) else {
            return failed("the signing secret could not be read (was SECRET_KEY changed?)".into());
        };
        let id = due.delivery.event_id.as_str();
        // The wall clock, not the console's: the receiver compares it with its own to refuse
        // replays, and it says when this request was sent.
        let timestamp = system_now().and_utc().timestamp();
        let Some(signature) = signing::signature_header(&secrets, id, timestamp, &due.payload)
        else {
            return failed("the signing secret is malformed".into());
        };
        let sent = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(due.payload.clone())
            .send()
            .await;
        let outcome = match sent {
            Ok(answer) => {
                let status = answer.status();
                let excerpt = excerpt(answer).await;
                Outcome {
                    started_at,
                    latency_ms: 0,
                    status: Some(status.as_u16()),
                    excerpt,
                    error: status
                        .is_redirection()
                        .then(|| "redirect not followed".to_owned()),
                }
            }
            Err(e) => failed(describe(&e)),
        };
        Outcome {
            latency_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
            ..outcome
        }
    }

    /// The current secret, and the previous one while its rotation overlap lasts.
    fn secrets(
        &self,
        endpoint: &WebhookEndpoint,
        now: NaiveDateTime,
    ) -> Option<Vec<SigningSecret>> {
        let id = endpoint.id.as_str();
        let mut secrets = vec![SigningSecret::decrypt(
            &self.keys,
            id,
            &endpoint.secret_encrypted,
        )?];
        if let (Some(previous), Some(until)) = (
            &endpoint.previous_secret_encrypted,
            endpoint.previous_secret_expires_at,
        ) {
            if until > now {
                secrets.push(SigningSecret::decrypt(&self.keys, id, previous)?);
            }
        }
        Some(secrets)
    }

    /// Records the attempt and what follows from it, then mails about a disabled endpoint.
    async fn settle(
        &self,
        due: DueDelivery,
        outcome: Outcome,
        lease: NaiveDateTime,
        report: &mut DeliveryReport,
    ) -> Result<(), AppError> {
        let now = self.clock.now();
        let succeeded = outcome.succeeded();
        let attempts_made = usize::try_from(due.delivery.attempts).unwrap_or(0) + 1;
        let retry_at = BACKOFF.get(attempts_made - 1).map(|wait| now + *wait);
        let after = if succeeded {
            report.succeeded += 1;
            DeliveryState::Succeeded
        } else if retry_at.is_some() {
            report.retrying += 1;
            DeliveryState::Pending
        } else {
            report.failed += 1;
            DeliveryState::Failed
        };
        self.metrics.webhook_delivery(after);
        let disabled = self
            .db
            .transaction(move |tx| record(tx, &due, &outcome, lease, retry_at, now))
            .await?;
        if let Some(disabled) = disabled {
            report.endpoints_disabled += 1;
            for to in &disabled.recipients {
                if let Err(e) = self
                    .mailer
                    .send(disabled_mail(&self.public_url, &disabled, to))
                    .await
                {
                    tracing::warn!(error = %e, "webhook disabled mail not sent to one recipient");
                }
            }
        }
        Ok(())
    }
}

/// Inside the write transaction: the attempt, the delivery's new state and the endpoint's run
/// of failures; the endpoint switched off when that run has lasted [`DISABLE_AFTER`].
fn record(
    tx: &mut Tx<'_>,
    due: &DueDelivery,
    outcome: &Outcome,
    lease: NaiveDateTime,
    retry_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<Option<Disabled>, AppError> {
    let delivery = &due.delivery;
    let endpoint = &due.endpoint;
    WebhookAttempt {
        id: uuid::Uuid::new_v4().to_string(),
        delivery_id: delivery.id.clone(),
        attempted_at: outcome.started_at,
        status_code: outcome.status.map(i32::from),
        latency_ms: outcome.latency_ms,
        response_excerpt: outcome.excerpt.clone(),
        error: outcome.error.clone(),
    }
    .insert(tx)?;
    if outcome.succeeded() {
        WebhookDelivery::settle(tx, &delivery.id, lease, DeliveryState::Succeeded, None, now)?;
        WebhookEndpoint::note_success(tx, &endpoint.id)?;
        return Ok(None);
    }
    let state = match retry_at {
        Some(_) => DeliveryState::Pending,
        None => DeliveryState::Failed,
    };
    WebhookDelivery::settle(tx, &delivery.id, lease, state, retry_at, now)?;
    let Some(failing_since) = WebhookEndpoint::note_failure(tx, &endpoint.id, now)? else {
        return Ok(None);
    };
    if now - failing_since < DISABLE_AFTER {
        return Ok(None);
    }
    let reason = format!(
        "every delivery failed since {} UTC",
        failing_since.format("%Y-%m-%d %H:%M")
    );
    if !WebhookEndpoint::disable(tx, &endpoint.id, &reason, now)? {
        return Ok(None);
    }
    let failed = DeliveryLog::fail_pending(tx, &endpoint.id, now)?;
    audit::record(
        tx,
        &Origin::default(),
        Event::new(AuditKind::WebhookDisabled)
            .company(&endpoint.company_id)
            .target(format!("{} ({})", endpoint.endpoint, endpoint.id))
            .detail(format!("{reason}; {failed} pending deliveries failed")),
    )?;
    let recipients = User::active_in_company(tx, &endpoint.company_id)?
        .into_iter()
        .filter(|u| matches!(u.role(), Role::Owner | Role::Admin))
        .map(|u| u.email)
        .collect();
    Ok(Some(Disabled {
        id: endpoint.id.clone(),
        endpoint: endpoint.endpoint.clone(),
        failing_since,
        recipients,
    }))
}

/// The first [`EXCERPT_BYTES`] of the answer as text (invalid UTF-8 replaced); the rest is
/// not read.
async fn excerpt(mut answer: reqwest::Response) -> Option<String> {
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT_BYTES {
        match answer.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(EXCERPT_BYTES);
    (!bytes.is_empty()).then(|| String::from_utf8_lossy(&bytes).into_owned())
}

/// A failed request in words, with its causes (the resolver's refusal is one of them).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = what.to_owned();
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text.chars().take(1000).collect()
}

fn disabled_mail(public_url: &str, d: &Disabled, to: &str) -> Mail {
    // Short ASCII lines: the mail goes out as plain 7-bit text, links unbroken.
    Mail {
        to: to.to_owned(),
        subject: "A webhook endpoint was disabled after 3 days of failures".to_owned(),
        body: format!(
            "Every delivery to this webhook endpoint has failed since {} UTC:\n\n\
             {}\n\n\
             so it was disabled. No more events are sent to it, and the deliveries\n\
             still pending were marked failed.\n\n\
             Fix the receiver, then switch the endpoint on again and redeliver what\n\
             it missed:\n\n\
             {public_url}{}\n\n\
             You get this mail because you are an owner or admin of the company.\n",
            d.failing_since.format("%Y-%m-%d %H:%M"),
            d.endpoint,
            crate::paths::webhook(&d.id),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_last_about_a_day_and_the_lease_outlasts_the_timeout() {
        let total = BACKOFF.iter().fold(Duration::zero(), |a, b| a + *b);
        assert!(
            total > Duration::hours(20) && total < Duration::hours(30),
            "{total}"
        );
        assert!(LEASE.to_std().unwrap_or_default() > client::TIMEOUT);
        assert!(BACKOFF.windows(2).all(|w| w[0] <= w[1]));
    }
}
