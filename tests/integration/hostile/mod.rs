//! Hostile input on every route: each input of each route in `ROUTES` gets each value of
//! `hostile_values()`, anonymously and as a signed-in admin (session cookie, valid CSRF token,
//! a personal access token for `/v4`), against the real binary as a child process. No answer
//! may be 5xx, the process must stay up, and its log must hold no ERROR line.
//!
//! `ROUTES` is the one list of routes; `every_route_of_the_app_is_swept` fails when a route is
//! added to the source without being added here.

mod console;
mod probes;
mod routes;
mod values;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use reqwest::{Client, StatusCode};

use crate::helpers::backend;

use console::{callers, Console};
use probes::{probes_for, Probe};
use routes::ROUTES;
use values::hostile_values;

/// Lines of the log at ERROR level (ANSI colours removed, in case they were written).
fn error_lines(log: &str) -> Vec<String> {
    log.lines()
        .map(strip_ansi)
        .filter(|line| line.split_whitespace().nth(1) == Some("ERROR") || line.contains(" ERROR "))
        .collect()
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_answers_5xx_to_hostile_input() {
    let started = Instant::now();
    let mut console = Console::start().await;
    let (callers, known) = callers(&console).await;
    let values = hostile_values();

    let mut failures = Vec::new();
    let mut sent = 0usize;
    for caller in &callers {
        let probes: Vec<Probe> = ROUTES
            .iter()
            .filter(|r| !(caller.signed_in && r.anonymous_only))
            .filter(|r| !caller.api_only || probes::is_api(r.path))
            .flat_map(|r| probes_for(r, caller, &known, &values))
            .collect();
        sent += probes.len();
        let results: Vec<(String, Result<StatusCode, String>)> = stream::iter(probes)
            .map(|probe| {
                let client = caller.client.clone();
                let url = console.url(&probe.path);
                async move {
                    let mut req = client.request(probe.method.clone(), url);
                    for (name, value) in probe.headers {
                        req = req.header(name, value);
                    }
                    if let Some((content_type, body)) = probe.body {
                        req = req
                            .header(reqwest::header::CONTENT_TYPE, content_type)
                            .body(body);
                    }
                    let outcome = match req.send().await {
                        Ok(r) => {
                            let status = r.status();
                            // Read the body so the connection is reused.
                            let _ = r.bytes().await;
                            Ok(status)
                        }
                        Err(e) => Err(e.without_url().to_string()),
                    };
                    (probe.label, outcome)
                }
            })
            .buffer_unordered(6)
            .collect()
            .await;
        for (label, outcome) in results {
            match outcome {
                Ok(status) if status.is_server_error() => {
                    failures.push(format!("{label}: {status}"))
                }
                Ok(_) => {}
                Err(e) => failures.push(format!("{label}: no answer ({e})")),
            }
        }
        // The signed-in caller must still be signed in, or the rest of its sweep was shallow.
        if caller.signed_in {
            let r = caller
                .client
                .get(console.url("/dashboard"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "the admin was signed out during the sweep");
        }
    }
    failures.sort();
    failures.dedup();
    let still_up = console
        .child
        .try_wait()
        .is_ok_and(|exited| exited.is_none());
    let health = Client::new().get(console.url("/healthz")).send().await;
    let log = console.log_text();
    let errors = error_lines(&log);
    eprintln!(
        "hostile sweep ({}): {sent} requests in {:.1} s",
        backend(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {sent} requests failed:\n{}\nERROR lines of the log:\n{}",
        failures.len(),
        failures.join("\n"),
        errors.join("\n")
    );
    assert!(still_up, "the console process exited; its log:\n{log}");
    assert!(
        health.is_ok_and(|r| r.status() == StatusCode::OK),
        "the console no longer answers /healthz"
    );
    assert!(
        log.contains(" INFO "),
        "the log is not in the expected format:\n{log}"
    );
    assert!(
        errors.is_empty(),
        "the log has ERROR lines:\n{}",
        errors.join("\n")
    );
}

/// The routes registered in the source (`.route(paths::X, web::get()...)`), with each constant
/// read from its `paths.rs` and `/v4` for the API's scope.
fn routes_in_source() -> BTreeSet<(String, String)> {
    fn constants(file: &Path) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(file).unwrap();
        text.lines()
            .filter_map(|line| line.strip_prefix("pub const "))
            .filter_map(|rest| {
                let (name, value) = rest.split_once(": &str = \"")?;
                Some((name.to_owned(), value.split('"').next()?.to_owned()))
            })
            .collect()
    }
    fn walk(
        dir: &Path,
        prefix: &str,
        paths: &BTreeMap<String, String>,
        found: &mut BTreeSet<(String, String)>,
    ) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, prefix, paths, found);
                continue;
            }
            // Without whitespace, so a registration rustfmt split over lines reads the same.
            let text: String = std::fs::read_to_string(&path)
                .unwrap()
                .split_whitespace()
                .collect();
            for registration in text.split(".route(paths::").skip(1) {
                let (name, rest) = registration.split_once(",web::").unwrap();
                let method = rest.split("()").next().unwrap();
                let route = paths
                    .get(name)
                    .unwrap_or_else(|| panic!("no paths::{name}"));
                found.insert((method.to_uppercase(), format!("{prefix}{route}")));
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeSet::new();
    let web_paths = constants(&src.join("paths/mod.rs"));
    walk(&src.join("web"), "", &web_paths, &mut found);
    let api_paths = constants(&src.join("paths/api.rs"));
    let scope = api_paths.get("SCOPE").unwrap().clone();
    walk(&src.join("api"), &scope, &api_paths, &mut found);
    // SCIM: the same resources under both of its scopes.
    let scim_paths = constants(&src.join("paths/scim.rs"));
    for scope in ["SCOPE_V2", "SCOPE"] {
        let scope = scim_paths.get(scope).unwrap().clone();
        walk(&src.join("scim"), &scope, &scim_paths, &mut found);
    }
    found
}

#[test]
fn every_route_of_the_app_is_swept() {
    let swept: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    let in_source = routes_in_source();
    assert!(
        in_source.len() > 40,
        "route registrations not found: {in_source:?}"
    );
    let missing: Vec<_> = in_source.difference(&swept).collect();
    assert!(
        missing.is_empty(),
        "routes missing from hostile::ROUTES: {missing:?}"
    );
}

#[test]
fn the_log_check_finds_error_lines() {
    let log = "2026-12-01T10:00:00.000001Z  INFO meetergo-console listening\n\
               2026-12-01T10:00:01.000001Z ERROR HTTP request{http.method=GET}: internal error\n\
               \u{1b}[2m2026-12-01T10:00:02Z\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m boom\n";
    assert_eq!(error_lines(log).len(), 2);
    assert!(error_lines("2026-12-01T10:00:00Z  WARN an ERRORS word\n").is_empty());
}
