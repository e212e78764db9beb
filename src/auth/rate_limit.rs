//! In-process rate limits (GCRA, via `governor`): login and signup attempts per IP and per
//! account, API requests per credential. Each instance counts for itself.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

#[derive(Clone)]
pub struct RateLimits {
    login: Arc<DefaultKeyedRateLimiter<String>>,
    api: Arc<DefaultKeyedRateLimiter<String>>,
    /// Second-step codes, apart from passwords: a million codes must not be tried at login speed.
    two_factor: Arc<DefaultKeyedRateLimiter<String>>,
    /// The same per IP, wider: many people may share one address.
    two_factor_ip: Arc<DefaultKeyedRateLimiter<String>>,
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

/// Seconds until the next request would be let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl RateLimits {
    pub fn new(login_per_minute: u32, api_per_minute: u32, api_burst: u32) -> Self {
        let login = Quota::per_minute(nz(login_per_minute)).allow_burst(nz(login_per_minute));
        let api = Quota::per_minute(nz(api_per_minute)).allow_burst(nz(api_burst));
        // Five codes a minute per person (30 per IP): enough for typos, far too few to guess.
        let two_factor = Quota::per_minute(nz(5)).allow_burst(nz(5));
        let two_factor_ip = Quota::per_minute(nz(30)).allow_burst(nz(30));
        Self {
            two_factor_ip: Arc::new(RateLimiter::keyed(two_factor_ip)),
            two_factor: Arc::new(RateLimiter::keyed(two_factor)),
            login: Arc::new(RateLimiter::keyed(login)),
            api: Arc::new(RateLimiter::keyed(api)),
        }
    }

    fn check(limiter: &DefaultKeyedRateLimiter<String>, key: String) -> Result<(), RetryAfter> {
        limiter.check_key(&key).map_err(|not_until| {
            // The limiter's own clock: building a new one (`DefaultClock::default()`) probes
            // the CPU with CPUID, which is slow (a VM exit under virtualisation), and would
            // make every refused request cost more than an allowed one.
            let wait = not_until.wait_time_from(limiter.clock().now());
            RetryAfter(wait.as_secs().max(1))
        })
    }

    /// One attempt to sign in or sign up: counted against the IP and, when known, the account.
    pub fn login_attempt(&self, ip: &str, account: Option<&str>) -> Result<(), RetryAfter> {
        Self::check(&self.login, format!("ip:{ip}"))?;
        if let Some(account) = account {
            Self::check(&self.login, format!("account:{account}"))?;
        }
        Ok(())
    }

    /// One two-factor code (sign-in second step, enrolment, disabling): per IP and per person.
    pub fn two_factor_attempt(&self, ip: &str, user: &str) -> Result<(), RetryAfter> {
        Self::check(&self.two_factor_ip, ip.to_owned())?;
        Self::check(&self.two_factor, format!("user:{user}"))
    }

    pub fn api_request(&self, credential_id: &str) -> Result<(), RetryAfter> {
        Self::check(&self.api, credential_id.to_owned())
    }

    /// Forgets idle keys so the maps stay small.
    pub fn shrink(&self) {
        self.login.retain_recent();
        self.api.retain_recent();
        self.two_factor.retain_recent();
        self.two_factor_ip.retain_recent();
    }
}
