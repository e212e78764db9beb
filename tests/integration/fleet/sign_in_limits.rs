//! Sign-in limits behind nginx: counted per client address (the one nginx saw), so one
//! guesser never locks out another client, whichever instance either reaches.

use crate::helpers::db::events_of_kind;
use crate::helpers::fleet::Fleet;
use crate::helpers::PASSWORD;

use super::owner;

const WRONG: &str = "a wrong guess here";

#[actix_web::test]
async fn ten_failures_from_one_client_do_not_lock_out_another_on_either_instance() {
    let fleet = Fleet::start_with(None, |s| s.login_rate_limit_per_minute = 10).await;
    // with Redis: Fleet::start_with(Some(redis.url()), …), and the shared-limit assertion below.
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
    // with Redis: one limit for the fleet, so the eleventh is refused wherever it lands:
    // guesser.login(who, WRONG).await.assert_status(429);
    // Today each instance counts in its own memory: the guesser is refused once it has used
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
