//! Revocation propagation between two instances on one PostgreSQL database (`scripts/bench`).
//!
//! For each PAT in turn: instance B serves it under load (a few concurrent loops of
//! `GET /v4/user/me`), then it is revoked through instance A (`POST /v4/credentials/revoke`, the
//! leak report: one request, no session). Measured: the time from A's response to the end of
//! B's first 401, and whether any request that B started after that first 401 still
//! succeeded. Prints p50/p99/max over the PATs, and exits 1 if one did.
//!
//! `cargo run --release --example revocation_propagation -- A_URL B_URL PATS_FILE [COUNT]`

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LOOPS: usize = 4;

struct Sample {
    started: Instant,
    ended: Instant,
    status: u16,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [a, b, file, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: revocation_propagation A_URL B_URL PATS_FILE [COUNT]");
    };
    let count: usize = match rest.first() {
        Some(n) => n.parse()?,
        None => 30,
    };
    let pats: Vec<String> = std::fs::read_to_string(file)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .take(count)
        .collect();
    anyhow::ensure!(!pats.is_empty(), "no PATs in {file}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;

    let mut propagation = Vec::new();
    let mut late_successes = 0;
    for pat in &pats {
        let stop = Arc::new(AtomicBool::new(false));
        let loops: Vec<_> = (0..LOOPS)
            .map(|_| {
                let (http, stop, url, pat) = (
                    http.clone(),
                    Arc::clone(&stop),
                    format!("{b}/v4/user/me"),
                    pat.clone(),
                );
                tokio::spawn(async move {
                    let mut samples = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let started = Instant::now();
                        let status = match http.get(&url).bearer_auth(&pat).send().await {
                            Ok(r) => r.status().as_u16(),
                            Err(_) => 0,
                        };
                        samples.push(Sample {
                            started,
                            ended: Instant::now(),
                            status,
                        });
                    }
                    samples
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let r = http
            .post(format!("{a}/v4/credentials/revoke"))
            .json(&serde_json::json!({ "credentials": [pat] }))
            .send()
            .await?;
        let revoked = Instant::now();
        anyhow::ensure!(r.status().as_u16() == 202, "revoke answered {}", r.status());
        // Long enough for a slow propagation to show, short enough to keep the run brief.
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::Relaxed);
        let mut samples = Vec::new();
        for l in loops {
            samples.extend(l.await?);
        }
        anyhow::ensure!(
            samples.iter().all(|s| s.status == 200 || s.status == 401),
            "B answered something else than 200 or 401"
        );
        let Some(first_refusal) = samples
            .iter()
            .filter(|s| s.status == 401)
            .map(|s| s.ended)
            .min()
        else {
            anyhow::bail!("B never refused a revoked PAT within 500 ms");
        };
        // B may refuse before A's answer reaches the client: that counts as 0.
        propagation.push(first_refusal.saturating_duration_since(revoked));
        late_successes += samples
            .iter()
            .filter(|s| s.started > first_refusal && s.status == 200)
            .count();
    }
    propagation.sort();
    let at = |q: f64| {
        let i = ((propagation.len() as f64 * q).ceil() as usize).clamp(1, propagation.len()) - 1;
        propagation.get(i).copied().unwrap_or_default()
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "BENCH_REVOCATION n={} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} late_successes={}",
        propagation.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(at(1.0)),
        late_successes
    );
    if late_successes > 0 {
        std::process::exit(1);
    }
    Ok(())
}
