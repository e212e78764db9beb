//! Sign-in limits behind nginx: counted per client address (the one nginx saw), so one
//! guesser never locks out another client, whichever instance either reaches. Without Redis
//! each instance counts for itself; with `REDIS_URL` the fleet counts once.

use crate::helpers::db::events_of_kind;
use crate::helpers::fleet::Fleet;
use crate::helpers::redis::RedisServer;
use crate::helpers::PASSWORD;

use super::owner;

const WRONG: &str = "a wrong guess here";

#[actix_web::test]
async fn ten_failures_from_one_client_do_not_lock_out_another_on_either_instance() {
    let fleet = Fleet::start_with(None, |s| s.login_rate_limit_per_minute = 10).await;
    // With Redis: `with_redis_the_eleventh_failure_is_refused_on_either_instance` below.
    assert!(
        fleet.redis_url.is_none(),
        "the in-memory limiter, per instance"
    );
    let me = owner(&fleet, "Fleet Limits Co").await;
    let who = me.email.as_str();

    let guesser = &fleet.browser_from(3);
    for attempt in 1..=10 {
        let r = guesser.login(who, WRONG).await;
        assert_eq!(r.status, 401, "attempt {attempt}: {}", r.body);
    }
    // Each instance counts in its own memory: the guesser is refused once it has used
    // up the budget of ten on both, so at most twice ten (and a token or two refilled).
    let mut attempts = 10;
    while fleet.refused_by("login").await.iter().any(|n| *n < 1.0) {
        attempts += 1;
        assert!(attempts <= 24, "still not refused by both instances");
        let r = guesser.login(who, WRONG).await;
        assert!(matches!(r.status, 401 | 429), "{}: {}", r.status, r.body);
    }
    // From now on it is refused on whichever instance it reaches.
    fleet
        .until_each_instance_answered("/login", 429, move || guesser.login(who, WRONG))
        .await;
    let hits = events_of_kind(&fleet.instances()[0], "rate_limit.hit");
    assert!(hits.len() >= 2, "{hits:?}");
    assert!(
        hits.iter().all(|e| e.ip.as_deref() == Some("127.0.0.3")),
        "refusals are recorded for the client nginx saw: {hits:?}"
    );

    // Another client signs in, on each instance.
    let fleet = &fleet;
    fleet
        .until_each_instance_answered("/login", 303, move || async move {
            fleet.browser_from(4).login(who, PASSWORD).await
        })
        .await;
    let signed_in = events_of_kind(&fleet.instances()[1], "sign_in.succeeded");
    assert!(
        signed_in
            .iter()
            .filter(|e| e.ip.as_deref() == Some("127.0.0.4"))
            .count()
            >= 2,
        "{signed_in:?}"
    );
}

#[actix_web::test]
async fn with_redis_the_eleventh_failure_is_refused_on_either_instance_not_another_client() {
    let redis = RedisServer::start();
    // The documented ten attempts a minute per client address.
    let fleet = Fleet::start_with(Some(redis.url()), |s| s.login_rate_limit_per_minute = 10).await;
    let me = owner(&fleet, "Fleet Shared Limits Co").await;
    let who = me.email.as_str();

    let guesser = &fleet.browser_from(3);
    let failed_before = fleet.answered("/login", 401).await;
    for attempt in 1..=10 {
        let r = guesser.login(who, WRONG).await;
        assert_eq!(r.status, 401, "attempt {attempt}: {}", r.body);
    }
    let failed: Vec<f64> = fleet
        .answered("/login", 401)
        .await
        .iter()
        .zip(&failed_before)
        .map(|(now, before)| now - before)
        .collect();
    assert!(
        failed.iter().all(|n| (1.0..10.0).contains(n)),
        "the ten failures were spread over both instances, so neither saw ten: {failed:?}"
    );
    // One limit for the fleet: the eleventh is refused wherever it lands, and from then on
    // on each instance.
    let r = guesser.login(who, WRONG).await;
    assert_eq!(r.status, 429, "the eleventh attempt: {}", r.body);
    fleet
        .until_each_instance_answered("/login", 429, move || guesser.login(who, WRONG))
        .await;
    assert!(
        fleet.refused_by("login").await.iter().all(|n| *n >= 1.0),
        "refused by both instances' login limiter"
    );
    // The right password from the guesser's address is refused too: the address is limited.
    guesser.login(who, PASSWORD).await.assert_status(429);

    // Another client signs in, on each instance.
    let fleet = &fleet;
    fleet
        .until_each_instance_answered("/login", 303, move || async move {
            fleet.browser_from(4).login(who, PASSWORD).await
        })
        .await;
    let hits = events_of_kind(&fleet.instances()[0], "rate_limit.hit");
    assert!(hits.len() >= 3, "each refusal is recorded: {hits:?}");
    assert!(
        hits.iter().all(|e| e.ip.as_deref() == Some("127.0.0.3")),
        "only the guesser was refused: {hits:?}"
    );
}
