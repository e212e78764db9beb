//! In-process rate limits (GCRA, via `governor`): sign-in and sign-up attempts per IP and per
//! (account, IP), password recovery per IP and per account, invitations per company, API
//! requests per credential; and a ceiling on failed sign-ins per account. Each instance counts
//! for itself.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Settings;
use crate::telemetry::metrics::{Limiter, Metrics};

#[derive(Clone)]
pub struct RateLimits {
    login: Arc<DefaultKeyedRateLimiter<String>>,
    recovery: Arc<DefaultKeyedRateLimiter<String>>,
    invite: Arc<DefaultKeyedRateLimiter<String>>,
    api: Arc<DefaultKeyedRateLimiter<String>>,
    /// Second-step codes, apart from passwords: a million codes must not be tried at login speed.
    two_factor: Arc<DefaultKeyedRateLimiter<String>>,
    /// The same per IP, wider: many people may share one address.
    two_factor_ip: Arc<DefaultKeyedRateLimiter<String>>,
    failures: Arc<AccountFailures>,
    /// Leaked-credential reports per IP (unauthenticated).
    leak_report: Arc<DefaultKeyedRateLimiter<String>>,
    /// Counts refusals by limiter (off unless `METRICS_ADDR` is set).
    metrics: Metrics,
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

/// Seconds until the next request would be let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

const FAILURE_WINDOW: Duration = Duration::from_secs(3600);

/// Failed sign-ins per account in fixed one-hour windows. Far above what a person mistypes, so
/// strangers guessing from many addresses cannot lock the real person out cheaply; the
/// per-(account, IP) limit is what slows a guesser down.
struct AccountFailures {
    ceiling: u32,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl AccountFailures {
    fn current(&self, account: &str) -> u32 {
        let Ok(counts) = self.counts.lock() else {
            return 0;
        };
        match counts.get(account) {
            Some((since, n)) if since.elapsed() < FAILURE_WINDOW => *n,
            _ => 0,
        }
    }

    /// Counts one failure; true for the one that reaches the ceiling.
    fn add(&self, account: &str) -> bool {
        let Ok(mut counts) = self.counts.lock() else {
            return false;
        };
        let entry = counts
            .entry(account.to_owned())
            .or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= FAILURE_WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 == self.ceiling
    }

    fn shrink(&self) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.retain(|_, (since, _)| since.elapsed() < FAILURE_WINDOW);
        }
    }
}

impl RateLimits {
    pub fn from_settings(settings: &Settings) -> Self {
        let per_minute = nz(settings.login_rate_limit_per_minute);
        let login = Quota::per_minute(per_minute).allow_burst(per_minute);
        let invite_per_hour = nz(settings.invite_rate_limit_per_hour);
        let invite = Quota::per_hour(invite_per_hour).allow_burst(invite_per_hour);
        let api = Quota::per_minute(nz(settings.api_rate_limit_per_minute))
            .allow_burst(nz(settings.api_rate_limit_burst));
        // Five codes a minute per person (30 per IP): enough for typos, far too few to guess.
        let two_factor = Quota::per_minute(nz(5)).allow_burst(nz(5));
        let two_factor_ip = Quota::per_minute(nz(30)).allow_burst(nz(30));
        let leak_per_hour = nz(settings.leak_report_rate_limit_per_hour);
        let leak_report = Quota::per_hour(leak_per_hour).allow_burst(leak_per_hour);
        Self {
            leak_report: Arc::new(RateLimiter::keyed(leak_report)),
            two_factor_ip: Arc::new(RateLimiter::keyed(two_factor_ip)),
            two_factor: Arc::new(RateLimiter::keyed(two_factor)),
            login: Arc::new(RateLimiter::keyed(login)),
            recovery: Arc::new(RateLimiter::keyed(login)),
            invite: Arc::new(RateLimiter::keyed(invite)),
            api: Arc::new(RateLimiter::keyed(api)),
            failures: Arc::new(AccountFailures {
                ceiling: settings.login_account_failures_per_hour.max(1),
                counts: Mutex::new(HashMap::new()),
            }),
            metrics: Metrics::default(),
        }
    }

    /// The same limits, their refusals counted in `metrics`.
    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    fn check(
        &self,
        which: Limiter,
        limiter: &DefaultKeyedRateLimiter<String>,
        key: String,
    ) -> Result<(), RetryAfter> {
        limiter.check_key(&key).map_err(|not_until| {
            self.metrics.rate_limited(which);
            // The limiter's own clock: building a new one (`DefaultClock::default()`) probes
            // the CPU with CPUID, which is slow (a VM exit under virtualisation), and would
            // make every refused request cost more than an allowed one.
            let wait = not_until.wait_time_from(limiter.clock().now());
            RetryAfter(wait.as_secs().max(1))
        })
    }

    /// One attempt to sign in or sign up: counted against the IP and, when known, against
    /// the account from this IP. Attempts from elsewhere never use up the real person's.
    pub fn login_attempt(&self, ip: &str, account: Option<&str>) -> Result<(), RetryAfter> {
        self.check(Limiter::Login, &self.login, format!("ip:{ip}"))?;
        if let Some(account) = account {
            self.check(
                Limiter::Login,
                &self.login,
                format!("account:{account}|ip:{ip}"),
            )?;
        }
        Ok(())
    }

    /// One two-factor code (sign-in second step, enrolment, disabling): per IP and per person.
    pub fn two_factor_attempt(&self, ip: &str, user: &str) -> Result<(), RetryAfter> {
        self.check(Limiter::TwoFactorIp, &self.two_factor_ip, ip.to_owned())?;
        self.check(Limiter::TwoFactor, &self.two_factor, format!("user:{user}"))
    }

    /// Refuses password sign-in to an account that failed too often this hour, from anywhere.
    pub fn account_failures_exceeded(&self, account: &str) -> bool {
        let exceeded = self.failures.current(account) >= self.failures.ceiling;
        if exceeded {
            self.metrics.rate_limited(Limiter::AccountFailures);
        }
        exceeded
    }

    /// Counts a failed sign-in of `account`; true when it reaches the ceiling (mail the person).
    pub fn sign_in_failed(&self, account: &str) -> bool {
        self.failures.add(account)
    }

    /// A "forgot password" request, a reset or a password change: per IP and per account.
    pub fn recovery_attempt(&self, ip: &str, account: &str) -> Result<(), RetryAfter> {
        self.check(Limiter::Recovery, &self.recovery, format!("ip:{ip}"))?;
        self.check(
            Limiter::Recovery,
            &self.recovery,
            format!("account:{account}"),
        )
    }

    /// One invitation sent (or sent again) by `company`.
    pub fn invitation(&self, company: &str) -> Result<(), RetryAfter> {
        self.check(Limiter::Invitation, &self.invite, company.to_owned())
    }

    pub fn api_request(&self, credential_id: &str) -> Result<(), RetryAfter> {
        self.check(Limiter::Api, &self.api, credential_id.to_owned())
    }

    /// One leaked-credential report from `ip`.
    pub fn leak_report(&self, ip: &str) -> Result<(), RetryAfter> {
        self.check(Limiter::LeakReport, &self.leak_report, ip.to_owned())
    }

    /// Forgets idle keys so the maps stay small.
    pub fn shrink(&self) {
        self.leak_report.retain_recent();
        self.login.retain_recent();
        self.recovery.retain_recent();
        self.invite.retain_recent();
        self.api.retain_recent();
        self.two_factor.retain_recent();
        self.two_factor_ip.retain_recent();
        self.failures.shrink();
    }
}
