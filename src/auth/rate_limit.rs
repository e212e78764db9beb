//! Rate limits (GCRA): sign-in and sign-up attempts per IP and per (account, IP), password
//! recovery per IP and per account, invitations per company, two-factor codes, leak reports
//! and API requests per credential; and a ceiling on failed sign-ins per account.
//!
//! With `REDIS_URL` set they are counted in Redis (see [`shared`]), so every instance enforces
//! one limit; without it, in this instance's memory with `governor` (a single instance only).
//! Redis unavailable: the API limit lets requests through (a warning, a metric) and every other
//! limit is counted in this instance's memory instead, never left open.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, RateLimiter};

use crate::config::Settings;
use crate::telemetry::metrics::{Limiter, Metrics};

mod shared;

use shared::{Shared, Unavailable};

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

/// Seconds until the next request would be let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

/// `count` requests per `per`, of which `burst` may come at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub count: u32,
    pub per: Duration,
    pub burst: u32,
}

impl Quota {
    fn new(count: u32, per: Duration, burst: u32) -> Self {
        Self {
            count: count.max(1),
            per,
            burst: burst.max(1),
        }
    }

    /// The time one request takes to be earned back (GCRA's emission interval).
    pub fn emission_interval(&self) -> Duration {
        self.per / self.count.max(1)
    }

    fn governor(self) -> governor::Quota {
        governor::Quota::with_period(self.emission_interval())
            .unwrap_or_else(|| governor::Quota::per_second(nz(self.count)))
            .allow_burst(nz(self.burst))
    }
}

const FAILURE_WINDOW: Duration = Duration::from_secs(3600);

/// Every limit's quota, in one place: the in-memory and the Redis counting both read it.
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    login_per_minute: u32,
    invitations_per_hour: u32,
    api_per_minute: u32,
    api_burst: u32,
    leak_reports_per_hour: u32,
    account_failures_per_hour: u32,
}

impl Quotas {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            login_per_minute: settings.login_rate_limit_per_minute,
            invitations_per_hour: settings.invite_rate_limit_per_hour,
            api_per_minute: settings.api_rate_limit_per_minute,
            api_burst: settings.api_rate_limit_burst,
            leak_reports_per_hour: settings.leak_report_rate_limit_per_hour,
            account_failures_per_hour: settings.login_account_failures_per_hour.max(1),
        }
    }

    pub fn of(&self, limiter: Limiter) -> Quota {
        const MINUTE: Duration = Duration::from_secs(60);
        const HOUR: Duration = Duration::from_secs(3600);
        match limiter {
            // Recovery has the same quota as signing in, counted apart.
            Limiter::Login | Limiter::Recovery => {
                Quota::new(self.login_per_minute, MINUTE, self.login_per_minute)
            }
            Limiter::Invitation => {
                Quota::new(self.invitations_per_hour, HOUR, self.invitations_per_hour)
            }
            Limiter::Api => Quota::new(self.api_per_minute, MINUTE, self.api_burst),
            // Five codes a minute per person (30 per IP): enough for typos, far too few to guess.
            Limiter::TwoFactor => Quota::new(5, MINUTE, 5),
            Limiter::TwoFactorIp => Quota::new(30, MINUTE, 30),
            Limiter::LeakReport => {
                Quota::new(self.leak_reports_per_hour, HOUR, self.leak_reports_per_hour)
            }
            // Not a GCRA: failures counted in fixed one-hour windows (see `AccountFailures`).
            Limiter::AccountFailures => Quota::new(
                self.account_failures_per_hour,
                FAILURE_WINDOW,
                self.account_failures_per_hour,
            ),
        }
    }
}

#[derive(Clone)]
pub struct RateLimits {
    quotas: Quotas,
    /// This instance's own counts: all of them without Redis, the fallback with it.
    local: Arc<Local>,
    /// Redis (`REDIS_URL`), shared by every instance.
    shared: Option<Shared>,
    /// Counts refusals and Redis trouble (off unless `METRICS_ADDR` is set).
    metrics: Metrics,
}

impl RateLimits {
    /// The limits of `settings`. With `REDIS_URL`, no connection is made yet: the app starts
    /// whether or not Redis answers, and uses it once it does. Call inside the runtime.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let quotas = Quotas::from_settings(settings);
        let shared = settings.redis_url().map(Shared::connect).transpose()?;
        Ok(Self {
            quotas,
            local: Arc::new(Local::new(&quotas)),
            shared,
            metrics: Metrics::default(),
        })
    }

    /// The same limits, their refusals counted in `metrics`.
    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    /// True when counted in Redis.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    async fn check(&self, which: Limiter, key: String) -> Result<(), RetryAfter> {
        let verdict = match &self.shared {
            None => self.local.check(which, &key),
            Some(shared) => match shared.gcra(which, self.quotas.of(which), &key).await {
                Ok(verdict) => verdict,
                Err(why) => {
                    self.unavailable(shared, which, why);
                    if which == Limiter::Api {
                        // Fails open: a Redis outage must not take the API down with it.
                        self.metrics.rate_limit_fail_open();
                        Ok(())
                    } else {
                        self.metrics.rate_limit_fallback(which);
                        self.local.check(which, &key)
                    }
                }
            },
        };
        if verdict.is_err() {
            self.metrics.rate_limited(which);
        }
        verdict
    }

    fn unavailable(&self, shared: &Shared, which: Limiter, why: Unavailable) {
        if let Unavailable::Failed(error) = why {
            self.metrics.rate_limit_backend_error(which);
            shared.warn(&error);
        }
    }

    /// One attempt to sign in or sign up: counted against the IP and, when known, against
    /// the account from this IP. Attempts from elsewhere never use up the real person's.
    pub async fn login_attempt(&self, ip: &str, account: Option<&str>) -> Result<(), RetryAfter> {
        self.check(Limiter::Login, format!("ip:{ip}")).await?;
        if let Some(account) = account {
            self.check(Limiter::Login, format!("account:{account}|ip:{ip}"))
                .await?;
        }
        Ok(())
    }

    /// One two-factor code (sign-in second step, enrolment, disabling): per IP and per person.
    pub async fn two_factor_attempt(&self, ip: &str, user: &str) -> Result<(), RetryAfter> {
        self.check(Limiter::TwoFactorIp, ip.to_owned()).await?;
        self.check(Limiter::TwoFactor, format!("user:{user}")).await
    }

    /// Failed sign-ins of `account` in the current window, from anywhere.
    async fn failures(&self, account: &str) -> u32 {
        if let Some(shared) = &self.shared {
            match shared.failures(account).await {
                Ok(n) => return n,
                Err(why) => {
                    self.unavailable(shared, Limiter::AccountFailures, why);
                    self.metrics.rate_limit_fallback(Limiter::AccountFailures);
                }
            }
        }
        self.local.failures.current(account)
    }

    /// Refuses password sign-in to an account that failed too often this hour, from anywhere.
    pub async fn account_failures_exceeded(&self, account: &str) -> bool {
        let exceeded = self.failures(account).await >= self.quotas.account_failures_per_hour;
        if exceeded {
            self.metrics.rate_limited(Limiter::AccountFailures);
        }
        exceeded
    }

    /// Counts a failed sign-in of `account`; true when it reaches the ceiling (mail the person).
    pub async fn sign_in_failed(&self, account: &str) -> bool {
        let ceiling = self.quotas.account_failures_per_hour;
        if let Some(shared) = &self.shared {
            match shared.add_failure(account, FAILURE_WINDOW).await {
                Ok(n) => return n == ceiling,
                Err(why) => {
                    self.unavailable(shared, Limiter::AccountFailures, why);
                    self.metrics.rate_limit_fallback(Limiter::AccountFailures);
                }
            }
        }
        self.local.failures.add(account) == ceiling
    }

    /// A "forgot password" request, a reset or a password change: per IP and per account.
    pub async fn recovery_attempt(&self, ip: &str, account: &str) -> Result<(), RetryAfter> {
        self.check(Limiter::Recovery, format!("ip:{ip}")).await?;
        self.check(Limiter::Recovery, format!("account:{account}"))
            .await
    }

    /// One invitation sent (or sent again) by `company`.
    pub async fn invitation(&self, company: &str) -> Result<(), RetryAfter> {
        self.check(Limiter::Invitation, company.to_owned()).await
    }

    /// One API request (`/v4` or SCIM) with the credential `credential_id`.
    pub async fn api_request(&self, credential_id: &str) -> Result<(), RetryAfter> {
        self.check(Limiter::Api, credential_id.to_owned()).await
    }

    /// One leaked-credential report from `ip`.
    pub async fn leak_report(&self, ip: &str) -> Result<(), RetryAfter> {
        self.check(Limiter::LeakReport, ip.to_owned()).await
    }

    /// Forgets idle keys so the maps stay small (Redis expires its own).
    pub fn shrink(&self) {
        self.local.shrink();
    }
}

/// The limits counted in this instance's memory.
struct Local {
    login: DefaultKeyedRateLimiter<String>,
    recovery: DefaultKeyedRateLimiter<String>,
    invitation: DefaultKeyedRateLimiter<String>,
    api: DefaultKeyedRateLimiter<String>,
    /// Second-step codes, apart from passwords: a million codes must not be tried at login speed.
    two_factor: DefaultKeyedRateLimiter<String>,
    /// The same per IP, wider: many people may share one address.
    two_factor_ip: DefaultKeyedRateLimiter<String>,
    /// Leaked-credential reports per IP (unauthenticated).
    leak_report: DefaultKeyedRateLimiter<String>,
    failures: AccountFailures,
}

impl Local {
    fn new(quotas: &Quotas) -> Self {
        let keyed = |which| RateLimiter::keyed(quotas.of(which).governor());
        Self {
            login: keyed(Limiter::Login),
            recovery: keyed(Limiter::Recovery),
            invitation: keyed(Limiter::Invitation),
            api: keyed(Limiter::Api),
            two_factor: keyed(Limiter::TwoFactor),
            two_factor_ip: keyed(Limiter::TwoFactorIp),
            leak_report: keyed(Limiter::LeakReport),
            failures: AccountFailures {
                counts: Mutex::new(HashMap::new()),
            },
        }
    }

    fn limiter(&self, which: Limiter) -> Option<&DefaultKeyedRateLimiter<String>> {
        match which {
            Limiter::Login => Some(&self.login),
            Limiter::Recovery => Some(&self.recovery),
            Limiter::Invitation => Some(&self.invitation),
            Limiter::Api => Some(&self.api),
            Limiter::TwoFactor => Some(&self.two_factor),
            Limiter::TwoFactorIp => Some(&self.two_factor_ip),
            Limiter::LeakReport => Some(&self.leak_report),
            Limiter::AccountFailures => None,
        }
    }

    fn check(&self, which: Limiter, key: &String) -> Result<(), RetryAfter> {
        let Some(limiter) = self.limiter(which) else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            // The limiter's own clock: building a new one (`DefaultClock::default()`) probes
            // the CPU with CPUID, which is slow (a VM exit under virtualisation), and would
            // make every refused request cost more than an allowed one.
            let wait = not_until.wait_time_from(limiter.clock().now());
            RetryAfter(wait.as_secs().max(1))
        })
    }

    fn shrink(&self) {
        for limiter in [
            &self.login,
            &self.recovery,
            &self.invitation,
            &self.api,
            &self.two_factor,
            &self.two_factor_ip,
            &self.leak_report,
        ] {
            limiter.retain_recent();
        }
        self.failures.shrink();
    }
}

/// Failed sign-ins per account in fixed one-hour windows. Far above what a person mistypes, so
/// strangers guessing from many addresses cannot lock the real person out cheaply; the
/// per-(account, IP) limit is what slows a guesser down.
struct AccountFailures {
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

    /// Counts one failure; the count in this window, this one included.
    fn add(&self, account: &str) -> u32 {
        let Ok(mut counts) = self.counts.lock() else {
            return 0;
        };
        let entry = counts
            .entry(account.to_owned())
            .or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= FAILURE_WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1
    }

    fn shrink(&self) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.retain(|_, (since, _)| since.elapsed() < FAILURE_WINDOW);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DatabaseUrl;

    fn settings() -> Settings {
        let mut s = Settings::for_tests(DatabaseUrl::Sqlite(":memory:".into()), "data".into());
        s.login_rate_limit_per_minute = 10;
        s.api_rate_limit_per_minute = 100;
        s.api_rate_limit_burst = 200;
        s
    }

    #[test]
    fn the_api_quota_earns_one_request_back_every_600_ms_with_a_burst_of_200() {
        let api = Quotas::from_settings(&settings()).of(Limiter::Api);
        assert_eq!(api.emission_interval(), Duration::from_millis(600));
        assert_eq!(api.burst, 200);
    }

    #[test]
    fn the_in_memory_limit_lets_exactly_the_burst_through() {
        let limits = RateLimits::from_settings(&settings()).unwrap();
        let key = "pat_1".to_owned();
        let allowed = (0..250)
            .filter(|_| limits.local.check(Limiter::Api, &key).is_ok())
            .count();
        assert_eq!(allowed, 200);
        let refused = limits.local.check(Limiter::Api, &key).unwrap_err();
        assert_eq!(refused, RetryAfter(1));
    }

    #[test]
    fn zero_in_settings_still_makes_a_limit_of_one() {
        let mut s = settings();
        s.login_rate_limit_per_minute = 0;
        let login = Quotas::from_settings(&s).of(Limiter::Login);
        assert_eq!((login.count, login.burst), (1, 1));
        assert_eq!(login.emission_interval(), Duration::from_secs(60));
    }

    #[test]
    fn failures_count_up_to_the_ceiling_within_the_window() {
        let local = Local::new(&Quotas::from_settings(&settings()));
        assert_eq!(local.failures.current("a@x.test"), 0);
        assert_eq!(local.failures.add("a@x.test"), 1);
        assert_eq!(local.failures.add("a@x.test"), 2);
        assert_eq!(local.failures.current("a@x.test"), 2);
        assert_eq!(local.failures.current("b@x.test"), 0);
    }
}
