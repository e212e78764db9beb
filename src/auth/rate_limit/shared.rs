//! The limits counted in Redis, one count for every instance: a GCRA in one Lua script (atomic,
//! timed by Redis's own clock so instances never disagree), and the failed sign-ins per account
//! as a counter that expires with its window.
//!
//! An unreachable Redis must never hold a request up: every call is bounded by [`TIMEOUT`],
//! and after a failure Redis is left alone for [`REST`] (callers count in memory or fail open
//! meanwhile) before the next request tries again. `ConnectionManager` reconnects by itself,
//! and makes no connection until the first call, so the app starts with Redis down.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisResult, Script};
use sha2::{Digest, Sha256};

use super::{Quota, RetryAfter};
use crate::telemetry::metrics::Limiter;

/// The longest a request waits for Redis before counting without it.
pub const TIMEOUT: Duration = Duration::from_millis(250);
/// After a failure, how long requests skip Redis (so an outage costs them nothing).
pub const REST: Duration = Duration::from_secs(1);
/// At most one warning about Redis per this long.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// GCRA (the algorithm of `governor`): a key holds the theoretical arrival time (TAT) of the
/// next request in µs; a request is let in when it is no more than `burst` intervals early.
/// KEYS[1]: the key; ARGV: emission interval (µs), burst. Returns {1, 0} when let in, else
/// {0, milliseconds until the next one would be}.
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local next_tat = tat + interval
local allow_at = next_tat - tolerance
if now < allow_at then
  return {0, math.ceil((allow_at - now) / 1000)}
end
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000))
return {1, 0}
";

/// One failed sign-in: the count of the window, which starts with the first failure.
/// KEYS[1]: the account's key; ARGV[1]: the window (ms).
const COUNT_FAILURE: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
";

/// Why Redis gave no answer.
pub enum Unavailable {
    /// It failed or timed out just now.
    Failed(String),
    /// It failed a moment ago and is left alone for [`REST`].
    Resting,
}

#[derive(Clone)]
pub struct Shared {
    connection: ConnectionManager,
    state: Arc<State>,
}

struct State {
    gcra: Script,
    count_failure: Script,
    /// Milliseconds since `epoch`: until when Redis is skipped, and of the last warning.
    resting_until: AtomicU64,
    warned_at: AtomicU64,
    down: AtomicBool,
    epoch: Instant,
}

impl Shared {
    /// A lazy connection to `url`: nothing is sent until the first check. Needs the runtime
    /// (the connection manager spawns its task there).
    pub fn connect(url: &str) -> anyhow::Result<Self> {
        tokio::runtime::Handle::try_current()
            .context("the Redis rate limits need the async runtime")?;
        let client = redis::Client::open(url)
            .context("REDIS_URL must be a Redis URL, like redis://127.0.0.1:6379 or rediss://…")?;
        // One attempt per call: retrying is what the next request, after `REST`, does.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(0);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .context("the Redis connection manager")?;
        Ok(Self {
            connection,
            state: Arc::new(State {
                gcra: Script::new(GCRA),
                count_failure: Script::new(COUNT_FAILURE),
                resting_until: AtomicU64::new(0),
                warned_at: AtomicU64::new(0),
                down: AtomicBool::new(false),
                epoch: Instant::now(),
            }),
        })
    }

    /// One request against `quota` under `key`.
    pub async fn gcra(
        &self,
        which: Limiter,
        quota: Quota,
        key: &str,
    ) -> Result<Result<(), RetryAfter>, Unavailable> {
        let interval = u64::try_from(quota.emission_interval().as_micros()).unwrap_or(u64::MAX);
        let mut connection = self.connection.clone();
        let key = redis_key(which, key);
        let (allowed, retry_ms): (i64, u64) = self
            .call(
                self.state
                    .gcra
                    .key(key)
                    .arg(interval.max(1))
                    .arg(quota.burst)
                    .invoke_async(&mut connection),
            )
            .await?;
        Ok(if allowed == 1 {
            Ok(())
        } else {
            Err(RetryAfter(retry_ms.div_ceil(1000).max(1)))
        })
    }

    /// Failed sign-ins of `account` in its current window.
    pub async fn failures(&self, account: &str) -> Result<u32, Unavailable> {
        let mut connection = self.connection.clone();
        let key = redis_key(Limiter::AccountFailures, account);
        let n: Option<u32> = self
            .call(redis::cmd("GET").arg(key).query_async(&mut connection))
            .await?;
        Ok(n.unwrap_or(0))
    }

    /// Counts one failed sign-in of `account`; the count of its window, this one included.
    pub async fn add_failure(&self, account: &str, window: Duration) -> Result<u32, Unavailable> {
        let mut connection = self.connection.clone();
        let key = redis_key(Limiter::AccountFailures, account);
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        self.call(
            self.state
                .count_failure
                .key(key)
                .arg(window_ms)
                .invoke_async(&mut connection),
        )
        .await
    }

    async fn call<T>(
        &self,
        command: impl std::future::Future<Output = RedisResult<T>>,
    ) -> Result<T, Unavailable> {
        let state = &self.state;
        if state.millis() < state.resting_until.load(Ordering::Relaxed) {
            return Err(Unavailable::Resting);
        }
        let failure = match tokio::time::timeout(TIMEOUT, command).await {
            Ok(Ok(answer)) => {
                if state.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis answers again: rate limits are shared again");
                }
                return Ok(answer);
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {} ms", TIMEOUT.as_millis()),
        };
        state.down.store(true, Ordering::Relaxed);
        let rest = u64::try_from(REST.as_millis()).unwrap_or(u64::MAX);
        state
            .resting_until
            .store(state.millis().saturating_add(rest), Ordering::Relaxed);
        Err(Unavailable::Failed(failure))
    }

    /// Logs a Redis failure, at most once per [`WARN_EVERY`] (an outage is not a line per
    /// request).
    pub fn warn(&self, error: &str) {
        let state = &self.state;
        let now = state.millis();
        let last = state.warned_at.load(Ordering::Relaxed);
        let every = u64::try_from(WARN_EVERY.as_millis()).unwrap_or(u64::MAX);
        let due = last == 0 || now.saturating_sub(last) >= every;
        if due
            && state
                .warned_at
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                error,
                "Redis unavailable: the API limit lets requests through, the other limits are counted in this instance's memory"
            );
        }
    }
}

impl State {
    fn millis(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// `console:rl:<limiter>:<SHA-256 of the key>`: whatever a client sends (NUL bytes, megabytes
/// of email address) becomes a key of fixed length.
pub fn redis_key(which: Limiter, key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!(
        "console:rl:{}:{}",
        which.as_str(),
        data_encoding::HEXLOWER.encode(&digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_a_fixed_length_whatever_the_input() {
        let short = redis_key(Limiter::Login, "ip:127.0.0.1");
        let hostile = redis_key(
            Limiter::Login,
            &format!("account:a\0b{}", "x".repeat(1 << 20)),
        );
        assert!(short.starts_with("console:rl:login:"), "{short}");
        assert_eq!(short.len(), hostile.len());
        assert!(!hostile.contains('\0'));
        assert_ne!(
            redis_key(Limiter::Login, "ip:1"),
            redis_key(Limiter::Recovery, "ip:1")
        );
    }
}
