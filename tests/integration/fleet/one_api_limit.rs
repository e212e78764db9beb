//! The per-credential API limit through nginx, with `REDIS_URL`: one limit for the fleet, at
//! the documented quota (100 a minute, burst 200), so about 200 calls pass and then 429, not
//! one burst per instance.

use crate::helpers::fleet::Fleet;
use crate::helpers::redis::RedisServer;

use super::{burst, owner, ME};

/// The documented defaults (`API_RATE_LIMIT_PER_MINUTE`, `API_RATE_LIMIT_BURST`); the test
/// settings raise both to 6000, so they are set here as production has them.
const PER_MINUTE: u32 = 100;
const BURST: usize = 200;

#[actix_web::test]
async fn one_pat_through_nginx_gets_one_burst_of_200_then_429_not_one_per_instance() {
    let redis = RedisServer::start();
    let fleet = Fleet::start_with(Some(redis.url()), |s| {
        s.api_rate_limit_per_minute = PER_MINUTE;
        s.api_rate_limit_burst = BURST as u32;
    })
    .await;
    let me = owner(&fleet, "Fleet Quota Co").await;
    let pat = me.browser.create_pat("busy", "30").await;
    let caller = fleet.token_from(5, &pat);

    // Two bursts' worth of calls: what two instances counting apart would let through.
    let served_before = fleet.answered(ME, 200).await;
    let b = burst(&fleet, &caller, 2 * BURST).await;
    let served: Vec<f64> = fleet
        .answered(ME, 200)
        .await
        .iter()
        .zip(&served_before)
        .map(|(now, before)| now - before)
        .collect();
    eprintln!(
        "{} of {} calls let through in {:?}; served {served:?}, refused {:?} per instance",
        b.allowed,
        2 * BURST,
        b.took,
        b.refused
    );

    let (first, refusal) = b.first_refusal.as_ref().expect("a refusal after the burst");
    assert!(
        *first >= BURST,
        "call {first} refused: the burst of {BURST} passes first"
    );
    assert!(
        b.was_one_limit(BURST, PER_MINUTE),
        "{} let through in {:?} (refused per instance: {:?}): one burst of {BURST} and the \
         {} earned back meanwhile, not one burst per instance",
        b.allowed,
        b.took,
        b.refused,
        b.earned(PER_MINUTE)
    );
    assert!(
        served.iter().all(|n| *n >= 50.0),
        "nginx spread the calls over both instances: {served:?}"
    );
    assert_eq!(refusal.code(), "rate_limited");
    // At 100 a minute the next call is due within 0.6 s: Retry-After rounds it up to 1 s.
    assert_eq!(
        refusal.header("retry-after"),
        Some("1"),
        "Retry-After on the refusal"
    );
}
