//! The fleet through nginx (issue 13 §6): two instances on one PostgreSQL database behind a
//! real nginx started from `deploy/nginx.conf.example` (helpers/fleet.rs). PostgreSQL only, as
//! one database shared by two instances is the point: `scripts/test` runs them in its
//! PostgreSQL run and skips `fleet::` in the SQLite one; run on SQLite, they fail. The tests
//! with `REDIS_URL` start a `redis-server` of their own (helpers/redis.rs) for both instances.

mod client_address;
mod one_api_limit;
mod redis_outage;
mod revocation;
mod sign_in_limits;

use std::time::{Duration, Instant};

use crate::helpers::fixtures::sign_up;
use crate::helpers::fleet::Fleet;
use crate::helpers::{email, Person, Reply, RequestHelper, TokenUser};

const ME: &str = "/v4/user/me";

/// A company signed up on the first instance directly (from 127.0.0.1, an untrusted peer);
/// its owner's browser keeps talking to that instance.
async fn owner(fleet: &Fleet, company: &str) -> Person {
    sign_up(
        &fleet.instances()[0],
        company,
        "Olga Owner",
        &email("owner"),
    )
    .await
}

/// The rows of the sessions page, one per signed-in browser.
fn session_rows(html: &str) -> Vec<String> {
    html.split("data-testid=\"session-row\"")
        .skip(1)
        .map(|row| row.split("</tr>").next().unwrap().to_owned())
        .collect()
}

/// What `burst` saw: `calls` to `GET /v4/user/me` with one credential through nginx.
struct Burst {
    /// Calls answered 200.
    allowed: usize,
    /// The first call answered 429 (its index) and that answer.
    first_refusal: Option<(usize, Reply)>,
    took: Duration,
    /// For each instance, the API calls its limiter refused during the burst.
    refused: Vec<f64>,
}

impl Burst {
    /// Requests earned back during the burst at `per_minute`, plus one for the token that
    /// was nearly complete when it started.
    fn earned(&self, per_minute: u32) -> usize {
        let interval_ms = 60_000 / u128::from(per_minute);
        (self.took.as_millis() / interval_ms) as usize + 1
    }

    /// One limit for the fleet: `burst` (and what was earned back meanwhile) let through, no
    /// more, and the rest refused by both instances.
    fn was_one_limit(&self, burst: usize, per_minute: u32) -> bool {
        let refused_by_both = self.refused.iter().all(|n| *n >= 1.0);
        (burst..=burst + self.earned(per_minute)).contains(&self.allowed) && refused_by_both
    }
}

/// `calls` back-to-back `GET /v4/user/me` with `caller` through nginx (which takes turns, so
/// both instances answer). Anything but 200 or 429 fails the test.
async fn burst(fleet: &Fleet, caller: &TokenUser, calls: usize) -> Burst {
    let refused_before = fleet.refused_by("api").await;
    let started = Instant::now();
    let (mut allowed, mut first_refusal) = (0, None);
    for n in 0..calls {
        let r = caller.get(ME).await;
        match r.status {
            200 => allowed += 1,
            429 if first_refusal.is_none() => first_refusal = Some((n, r)),
            429 => {}
            other => panic!("call {n} through nginx answered {other}: {}", r.body),
        }
    }
    let took = started.elapsed();
    let refused = fleet
        .refused_by("api")
        .await
        .iter()
        .zip(&refused_before)
        .map(|(now, before)| now - before)
        .collect();
    Burst {
        allowed,
        first_refusal,
        took,
        refused,
    }
}
