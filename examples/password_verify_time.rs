//! Times one password verification (argon2id, OWASP parameters) on this machine as the
//! console does it: on a hashing thread, in its reused memory, one at a time.
//! scripts/bench-signin divides the number of cores by this time to get the machine's ceiling
//! of sign-ins per second.
//!
//!     cargo run --release --example password_verify_time [ROUNDS]
//!
//! Prints `VERIFY_MS <median milliseconds>` on the last line.

use std::time::Instant;

use meetergo_console::auth::password::PasswordHasherPool;
use secrecy::SecretString;

const PASSWORD: &str = "a password to time verification with";

fn main() -> anyhow::Result<()> {
    let rounds: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 40,
    };
    actix_web::rt::System::new().block_on(async move {
        let pool = PasswordHasherPool::new(1)?;
        let hash = pool.hash(SecretString::from(PASSWORD)).await?;
        let verify = || pool.verify(Some(hash.clone()), SecretString::from(PASSWORD));
        // Warm-up: the first use faults the memory in.
        for _ in 0..3 {
            verify().await?;
        }
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds.max(1) {
            let started = Instant::now();
            let ok = verify().await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(ok, "the password did not verify");
        }
        times.sort_by(f64::total_cmp);
        let median = times.get(times.len() / 2).copied().unwrap_or_default();
        let min = times.first().copied().unwrap_or_default();
        println!(
            "rounds {} min {min:.2} ms median {median:.2} ms",
            times.len()
        );
        println!("VERIFY_MS {median:.3}");
        Ok(())
    })
}
