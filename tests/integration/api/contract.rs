//! An independent client checks that `/v4/openapi.json` tells the truth: schemathesis (PyPI,
//! pinned in tests/schemathesis/requirements.txt, installed by tests/schemathesis/setup.sh)
//! generates valid and invalid requests from the document and runs all its checks against the
//! console: undocumented statuses, responses that do not match their schema, valid data that
//! is refused, invalid data that is accepted, 5xx. Zero failures allowed.
//!
//! `SCHEMATHESIS_ST` names the `st` executable (scripts/test sets it). Without it the test uses
//! `target/schemathesis-venv/bin/st` when present; under `CI=true` a missing one is a failure.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::helpers::fixtures::sign_up;
use crate::helpers::{email, RequestHelper, TestApp};

fn st_executable() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SCHEMATHESIS_ST").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "SCHEMATHESIS_ST={} does not exist",
            path.display()
        );
        return Some(path);
    }
    let default = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/schemathesis-venv/bin/st");
    if default.exists() {
        return Some(default);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("SCHEMATHESIS_ST is not set: run `bash tests/schemathesis/setup.sh` (scripts/test does)");
    }
    None
}

#[actix_web::test]
async fn openapi_document_satisfies_schemathesis() {
    let Some(st) = st_executable() else {
        eprintln!(
            "schemathesis not installed (bash tests/schemathesis/setup.sh): contract not checked"
        );
        return;
    };
    // Generous limits: the run is about the document, not about rate limiting.
    let app = TestApp::spawn_with(|s| {
        s.api_rate_limit_per_minute = 100_000;
        s.api_rate_limit_burst = 100_000;
        s.leak_report_rate_limit_per_hour = 100_000;
    })
    .await;
    let owner = sign_up(
        &app,
        "Contract GmbH",
        "Olga Owner",
        &email("contract-owner"),
    )
    .await;
    let key = owner.browser.create_api_key("Contract", "30").await;
    let me = app.token(&key).get("/v4/user/me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["id"], json!(owner.id));
    let browser = owner.browser;
    let owner = owner.id;
    // Something for the reads to find.
    let r = app
        .token(&key)
        .acting_as(&owner)
        .post_json(
            "/v4/meeting-type",
            &json!({"title": "Intro", "slug": "intro"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // As the company (API key acting as the owner), then as a person (the owner's PAT).
    run_schemathesis(
        &app,
        &st,
        "api-key",
        &[
            format!("Authorization: Bearer {key}"),
            format!("x-meetergo-api-user-id: {owner}"),
        ],
    )
    .await;
    let pat = browser.create_pat("contract", "30").await;
    run_schemathesis(&app, &st, "pat", &[format!("Authorization: Bearer {pat}")]).await;
}

/// One schemathesis run with all checks; fails the test on any finding.
async fn run_schemathesis(app: &TestApp, st: &std::path::Path, name: &str, headers: &[String]) {
    let mut command = tokio::process::Command::new(st);
    command
        .arg("run")
        .arg(app.url("/v4/openapi.json"))
        // Bounded by examples per operation (not by time: with --max-time fuzzing repeats
        // until the budget is spent); deterministic, so a run repeats exactly.
        .args(["--checks", "all", "--max-examples", "50"])
        .args(["--workers", "1", "--request-timeout", "10"])
        .args(["--generation-deterministic", "--no-color"])
        .arg("--report-dir")
        .arg(app.data_dir.join(format!("schemathesis-{name}")))
        // Its caches (.schemathesis/, .hypothesis/) go to the test's temporary directory.
        .current_dir(&app.data_dir)
        .kill_on_drop(true);
    for h in headers {
        command.args(["-H", h]);
    }
    let out = tokio::time::timeout(Duration::from_secs(240), command.output())
        .await
        .expect("schemathesis finished within 240 s")
        .expect("schemathesis runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "schemathesis ({name}) found problems:\n{text}"
    );
    eprintln!("{text}");
    // It tested every operation (a document it cannot read would "pass" with none).
    assert!(
        text.contains("Selected: 17/17") && text.contains("Tested: 17"),
        "{name}: {text}"
    );
}
