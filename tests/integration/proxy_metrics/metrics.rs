//! `METRICS_ADDR`: Prometheus text on a listener of its own, counted by route *pattern* and
//! status, never served on the public listener.

use std::collections::BTreeMap;

use crate::helpers::client::{cookie_less_http, Anonymous};
use crate::helpers::fixtures::sign_up;
use crate::helpers::{email, RequestHelper, TestApp};

/// One line of the exposition: name, labels, value.
pub(crate) struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

pub(crate) fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.strip_suffix('}').unwrap()),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once("=\"").unwrap();
                    (k.to_owned(), v.trim_end_matches('"').to_owned())
                })
                .collect();
            Sample {
                name: name.to_owned(),
                labels,
                value: value.parse().unwrap(),
            }
        })
        .collect()
}

/// The sum of the series named `name` whose labels include `labels`.
pub(crate) fn total(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

pub(crate) async fn scrape(base: &str) -> Vec<Sample> {
    let metrics = Anonymous::new(base, cookie_less_http());
    let r = metrics.get("/metrics").await;
    r.assert_status(200);
    assert!(
        r.content_type().starts_with("text/plain"),
        "{}",
        r.content_type()
    );
    parse(&r.body)
}

#[actix_web::test]
async fn requests_limits_credentials_pool_and_jobs_are_counted_apart_from_the_public_listener() {
    let app = TestApp::spawn_with(|s| {
        s.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
        s.login_rate_limit_per_minute = 2;
    })
    .await;
    let metrics_base = app.metrics_address.clone().expect("a metrics listener");
    assert_ne!(metrics_base, app.address);
    let owner = sign_up(&app, "Metrics Co", "Mia", &email("mia")).await;
    let anonymous = app.anonymous();

    for _ in 0..3 {
        anonymous.get("/healthz").await.assert_status(200);
    }
    // Two invitation links: one series for the pattern, the tokens nowhere.
    let mut invite_statuses = Vec::new();
    for token in ["SecretTokenNumberOne", "SecretTokenNumberTwo"] {
        invite_statuses.push(anonymous.get(&format!("/invite/{token}")).await.status);
    }
    // Wrong passwords until the sign-in limit refuses.
    let stranger = app.browser();
    let mut refused = 0;
    for _ in 0..3 {
        let r = stranger.login(&owner.email, "a wrong guess here").await;
        if r.status == 429 {
            refused += 1;
        }
    }
    assert!(refused >= 1);
    // A PAT twice, and something that is no credential once.
    let pat = owner.browser.create_pat("Metered", "30").await;
    for _ in 0..2 {
        app.token(&pat).get("/v4/user/me").await.assert_status(200);
    }
    app.token("rgo-not-a-real-token")
        .get("/v4/user/me")
        .await
        .assert_status(401);
    let report = app.run_jobs().await;

    let body = Anonymous::new(&metrics_base, cookie_less_http())
        .get("/metrics")
        .await
        .body;
    for secret in ["SecretTokenNumberOne", "SecretTokenNumberTwo", pat.as_str()] {
        assert!(!body.contains(secret), "{secret} in the metrics");
    }
    // Paths that match nothing: one series, whatever the path.
    for path in ["/no/such/page/123", "/v4/nothing/here/456"] {
        anonymous.get(path).await;
    }
    let m = scrape(&metrics_base).await;
    let requests = "console_http_requests_total";
    assert_eq!(
        total(
            &m,
            requests,
            &[("route", "/healthz"), ("method", "GET"), ("status", "200")]
        ),
        3.0
    );
    assert_eq!(total(&m, requests, &[("route", "/invite/{token}")]), 2.0);
    for status in invite_statuses {
        let status = status.to_string();
        assert!(
            total(
                &m,
                requests,
                &[("route", "/invite/{token}"), ("status", &status)]
            ) >= 1.0
        );
    }
    assert_eq!(
        total(&m, requests, &[("route", "/v4/user/me"), ("status", "200")]),
        2.0
    );
    assert_eq!(
        total(&m, requests, &[("route", "/v4/user/me"), ("status", "401")]),
        1.0
    );
    assert_eq!(
        total(
            &m,
            requests,
            &[("route", "/login"), ("method", "POST"), ("status", "429")]
        ),
        f64::from(refused)
    );
    assert_eq!(
        total(
            &m,
            "console_http_request_duration_seconds_count",
            &[("route", "/healthz"), ("status", "200")]
        ),
        3.0
    );
    assert_eq!(
        total(
            &m,
            "console_http_request_duration_seconds_bucket",
            &[("route", "/healthz"), ("status", "200"), ("le", "+Inf")]
        ),
        3.0
    );
    assert_eq!(
        total(
            &m,
            "console_rate_limit_rejections_total",
            &[("limiter", "login")]
        ),
        f64::from(refused)
    );
    assert_eq!(
        total(
            &m,
            "console_api_auth_total",
            &[("credential", "pat"), ("outcome", "ok")]
        ),
        2.0
    );
    assert_eq!(
        total(&m, "console_api_auth_total", &[("outcome", "invalid")]),
        1.0
    );
    // The PAT's first use looked it up, the second was answered from the credential cache;
    // confirming the email (an audited change of a user) invalidated it.
    let cache = "console_auth_cache_total";
    assert_eq!(total(&m, cache, &[("outcome", "miss")]), 1.0);
    assert_eq!(total(&m, cache, &[("outcome", "hit")]), 1.0);
    assert_eq!(total(&m, cache, &[("outcome", "bypass")]), 0.0);
    let invalidations = "console_auth_cache_invalidations_total";
    assert!(total(&m, invalidations, &[("source", "local")]) >= 1.0);
    if crate::helpers::backend() == "postgres" {
        // The listener connected once, and heard this instance's own NOTIFYs.
        assert_eq!(total(&m, invalidations, &[("source", "reconnect")]), 1.0);
        assert!(total(&m, invalidations, &[("source", "notify")]) >= 1.0);
    }
    assert_eq!(total(&m, "console_job_rounds_total", &[]), 1.0);
    assert_eq!(
        total(&m, "console_job_failures_total", &[]),
        report.failures as f64
    );
    let pool = |state| {
        total(
            &m,
            "console_db_pool_connections",
            &[("pool", "main"), ("state", state)],
        )
    };
    assert!(
        pool("in_use") + pool("idle") >= 1.0,
        "the pool's connections are reported"
    );
    assert!(m.iter().any(|s| s.name == "console_db_jobs_waiting"));
    assert!(total(&m, requests, &[("route", "(unmatched)")]) >= 2.0);
    // Every route label is a pattern: no series per path.
    for s in m.iter().filter(|s| s.name == requests) {
        let route = &s.labels["route"];
        for raw in ["SecretToken", "123", "456"] {
            assert!(!route.contains(raw), "{route}");
        }
    }

    // The public listener does not serve them, signed in or not.
    for r in [
        app.anonymous().get("/metrics").await,
        owner.browser.get("/metrics").await,
    ] {
        assert_ne!(r.status, 200, "{}", r.body);
        assert!(!r.body.contains("console_http_requests_total"));
    }
    // And the metrics listener serves nothing else.
    let other = Anonymous::new(&metrics_base, cookie_less_http());
    other.get("/healthz").await.assert_status(404);
}

#[actix_web::test]
async fn without_metrics_addr_there_is_no_metrics_listener() {
    let app = TestApp::spawn().await;
    assert!(app.metrics_address.is_none());
    let r = app.anonymous().get("/metrics").await;
    assert_ne!(r.status, 200);
    assert!(!r.body.contains("console_http_requests_total"));
}
