//! Redis stopped and started again while the fleet is under load, through nginx: nothing
//! answers 5xx, the API limit fails open while Redis is away (sign-in limits are counted in
//! each instance's memory meanwhile), and once Redis is back both instances share one limit
//! again by themselves.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use futures_util::future::{join_all, LocalBoxFuture};
use futures_util::FutureExt;

use crate::helpers::fleet::Fleet;
use crate::helpers::redis::RedisServer;
use crate::helpers::{email, RequestHelper, PASSWORD};
use crate::proxy_metrics::metrics::{scrape, total};

use super::{burst, owner, ME};

/// Small quotas, so a burst is quick to use up: 10 a second, burst 30. The load below calls
/// with each PAT 4 times a second, well under it.
const PER_MINUTE: u32 = 600;
const BURST: usize = 30;
/// How long Redis is away.
const OUTAGE: Duration = Duration::from_secs(2);
/// Between two calls of one load loop.
const PACE: Duration = Duration::from_millis(250);

/// One response seen by a load loop.
struct Call {
    what: &'static str,
    started: Instant,
    ended: Instant,
    status: u16,
    body: String,
}

/// What each kind of call may answer, as documented; never a 5xx.
fn documented(what: &str, status: u16) -> bool {
    match what {
        // PATs well under their limit: always let through, Redis or not.
        "api" => status == 200,
        "sign-in page" => status == 200,
        // Wrong passwords: refused, until the address's attempts are used up.
        "wrong password" => matches!(status, 401 | 429),
        // Each from an address of its own: signed in.
        "sign-in" => status == 303,
        _ => false,
    }
}

/// Per instance: the API requests let through unchecked because Redis was unavailable.
async fn failed_open(fleet: &Fleet) -> Vec<f64> {
    let mut counts = Vec::new();
    for app in fleet.instances() {
        let metrics = scrape(app.metrics_address.as_deref().expect("metrics")).await;
        counts.push(total(&metrics, "console_rate_limit_fail_open_total", &[]));
    }
    counts
}

#[actix_web::test]
async fn redis_stopped_and_started_again_under_load_no_5xx_api_fails_open_and_sharing_resumes() {
    let mut redis = RedisServer::start();
    let fleet = Fleet::start_with(Some(redis.url()), |s| {
        s.api_rate_limit_per_minute = PER_MINUTE;
        s.api_rate_limit_burst = BURST as u32;
        // Three attempts a minute per address: the guesser below is refused within a second.
        s.login_rate_limit_per_minute = 3;
    })
    .await;
    let fleet = &fleet;
    let me = owner(fleet, "Fleet Outage Co").await;
    let mut pats = Vec::new();
    for name in ["load 1", "load 2", "load 3"] {
        pats.push(me.browser.create_pat(name, "30").await);
    }
    let hot = fleet.token_from(10, &me.browser.create_pat("hot", "30").await);
    // Shared while Redis runs: one burst for the fleet.
    let before = burst(fleet, &hot, 2 * BURST).await;
    assert!(
        before.was_one_limit(BURST, PER_MINUTE),
        "one limit with Redis up: {} let through, refused {:?}",
        before.allowed,
        before.refused
    );

    let stop = Cell::new(false);
    let calls = RefCell::new(Vec::<Call>::new());
    let record = |what, started: Instant, r: crate::helpers::Reply| {
        calls.borrow_mut().push(Call {
            what,
            started,
            ended: Instant::now(),
            status: r.status,
            body: r.body.chars().take(300).collect(),
        });
    };
    let (stop, record) = (&stop, &record);
    let nobody = email("nobody");
    let (nobody, who) = (nobody.as_str(), me.email.as_str());
    let mut load: Vec<LocalBoxFuture<'_, ()>> = Vec::new();
    for (i, pat) in pats.iter().enumerate() {
        let caller = fleet.token_from(11 + i as u8, pat);
        load.push(
            async move {
                while !stop.get() {
                    let started = Instant::now();
                    record("api", started, caller.get(ME).await);
                    tokio::time::sleep(PACE).await;
                }
            }
            .boxed_local(),
        );
    }
    // A guesser loading the sign-in page and trying a wrong password, again and again.
    // Its three attempts of the minute are used up before the load starts.
    let guesser = fleet.browser_from(20);
    for attempt in 1..=3 {
        let r = guesser.login(nobody, "wrong!").await;
        assert_eq!(r.status, 401, "attempt {attempt}: {}", r.body);
    }
    load.push(
        async move {
            while !stop.get() {
                let started = Instant::now();
                record("sign-in page", started, guesser.get("/login").await);
                let started = Instant::now();
                record(
                    "wrong password",
                    started,
                    guesser.login(nobody, "wrong!").await,
                );
                tokio::time::sleep(PACE).await;
            }
        }
        .boxed_local(),
    );
    // People signing in, each from an address of their own.
    load.push(
        async move {
            let mut n = 0u8;
            while !stop.get() {
                let person = fleet.browser_from(40 + n % 150);
                n = n.wrapping_add(1);
                let started = Instant::now();
                record("sign-in", started, person.login(who, PASSWORD).await);
                tokio::time::sleep(2 * PACE).await;
            }
        }
        .boxed_local(),
    );

    let controller = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let failed_open_before = failed_open(fleet).await;
        let stopped_at = Instant::now();
        redis.stop();
        // Over its limit a moment ago, the hot PAT is let through by both instances now.
        let during = burst(fleet, &hot, 2 * BURST).await;
        let failed_open_during: Vec<f64> = failed_open(fleet)
            .await
            .iter()
            .zip(&failed_open_before)
            .map(|(now, before)| now - before)
            .collect();
        tokio::time::sleep(OUTAGE.saturating_sub(stopped_at.elapsed())).await;
        let restarted_at = Instant::now();
        redis.start_again();
        // Back by itself: a fresh PAT's burst is one burst for the fleet again.
        let mut attempt = 0;
        let recovered = loop {
            attempt += 1;
            let fresh = me
                .browser
                .create_pat(&format!("fresh {attempt}"), "30")
                .await;
            let b = burst(fleet, &fleet.token_from(9, &fresh), 2 * BURST).await;
            if b.was_one_limit(BURST, PER_MINUTE) {
                break (restarted_at.elapsed(), b);
            }
            assert!(
                restarted_at.elapsed() < Duration::from_secs(5),
                "no shared limit 5 s after Redis came back: {} let through, refused {:?}",
                b.allowed,
                b.refused
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        // Some load with Redis back, then the loops stop.
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.set(true);
        (
            stopped_at,
            restarted_at,
            during,
            failed_open_during,
            recovered,
        )
    };
    let ((stopped_at, restarted_at, during, failed_open_during, (recovered_after, recovered)), _) =
        tokio::join!(controller, join_all(load));

    let calls = calls.into_inner();
    let at = |t: Instant| {
        t.checked_duration_since(stopped_at)
            .map_or_else(|| format!("-{:?}", stopped_at - t), |d| format!("+{d:?}"))
    };
    let undocumented: Vec<String> = calls
        .iter()
        .filter(|c| !documented(c.what, c.status))
        .map(|c| format!("{} {} at {}: {}", c.what, c.status, at(c.started), c.body))
        .collect();
    assert!(
        undocumented.is_empty(),
        "{} of {} calls answered other than documented (times from Redis's stop): {undocumented:#?}",
        undocumented.len(),
        calls.len()
    );
    let while_down = |what: &str| {
        calls
            .iter()
            .filter(|c| c.what == what && c.started >= stopped_at && c.ended <= restarted_at)
            .count()
    };
    eprintln!(
        "{} calls under load; while Redis was down: {} API, {} wrong passwords, {} sign-ins; \
         hot PAT {} of {} let through; failed open {failed_open_during:?}; shared again \
         {recovered_after:?} after the restart ({} of {} let through, refused {:?})",
        calls.len(),
        while_down("api"),
        while_down("wrong password"),
        while_down("sign-in"),
        during.allowed,
        2 * BURST,
        recovered.allowed,
        2 * BURST,
        recovered.refused
    );
    assert!(
        while_down("api") >= 6,
        "the API answered (200) while Redis was down"
    );
    assert!(while_down("wrong password") >= 1 && while_down("sign-in") >= 1);
    assert_eq!(
        (during.allowed, during.first_refusal.is_none()),
        (2 * BURST, true),
        "with Redis down the API limit fails open, even for a credential over it"
    );
    assert!(
        failed_open_during.iter().all(|n| *n >= 1.0),
        "both instances failed open (counted): {failed_open_during:?}"
    );
    assert!(
        calls
            .iter()
            .any(|c| c.what == "wrong password" && c.status == 429 && c.ended < stopped_at),
        "the shared sign-in limit refused the guesser under load before the outage"
    );
    assert!(
        recovered_after < Duration::from_secs(5),
        "{recovered_after:?}"
    );
}
