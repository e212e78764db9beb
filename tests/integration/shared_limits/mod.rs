//! Limits shared by every instance (issue 13 §2): with `REDIS_URL`, two instances on one
//! database enforce one limit; Redis stopped, the API limit fails open and the sign-in limits
//! are counted in each instance's memory; Redis back, sharing resumes by itself.

mod api;
mod outage;
mod sign_in;

use std::time::{Duration, Instant};

use meetergo_console::config::Settings;
use secrecy::SecretString;

use crate::helpers::{Reply, RequestHelper, TempDir, TestApp};

/// Two instances on one fresh database, counting in the Redis at `redis` (None: in memory).
async fn two_instances(
    redis: Option<&str>,
    configure: impl Fn(&mut Settings),
) -> (TestApp, TestApp) {
    let with = |s: &mut Settings| {
        s.redis_url = redis.map(|url| SecretString::from(url.to_owned()));
        configure(s);
    };
    let a = TestApp::spawn_with(with).await;
    let b = TestApp::spawn_on(TempDir::new(), a.settings.database_url.clone(), with).await;
    (a, b)
}

/// `GET /v4/user/me` with `secret`, alternately on each instance, until the first refusal or
/// `at_most` calls: the calls let through before it, and the refusal. Anything but 200 or 429
/// fails the test.
async fn calls_until_refused(
    instances: &[&TestApp],
    secret: &str,
    at_most: usize,
) -> (usize, Option<Reply>) {
    for n in 0..at_most {
        let app = instances[n % instances.len()];
        let r = app.token(secret).get("/v4/user/me").await;
        match r.status {
            200 => {}
            429 => return (n, Some(r)),
            other => panic!("call {n} answered {other}: {}", r.body),
        }
    }
    (at_most, None)
}

/// How long until every instance refuses `secret`, calling each until it does, for at most
/// `within`. Only Redis can refuse an API call there: without it the limit fails open.
async fn until_each_refuses(instances: &[&TestApp], secret: &str, within: Duration) -> Duration {
    let started = Instant::now();
    for app in instances {
        while calls_until_refused(&[*app], secret, 20).await.1.is_none() {
            assert!(
                started.elapsed() < within,
                "{} refused nothing within {within:?}: not counting in Redis",
                app.address
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    started.elapsed()
}

fn retry_after(r: &Reply) -> u64 {
    r.header("retry-after")
        .expect("Retry-After header")
        .parse()
        .expect("seconds")
}
