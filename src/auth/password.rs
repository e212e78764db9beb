//! Passwords are hashed with argon2id and OWASP's parameters (m=19456 KiB, t=2, p=1) on a few
//! dedicated low-priority threads, each computing in memory it allocated once: a burst of
//! sign-ins can neither grow the process's memory nor take the CPU from other requests.

mod threads;
mod workspace;

use secrecy::{ExposeSecret, SecretString};

use crate::error::AppError;

use self::threads::HashingThreads;
use self::workspace::{owasp_params, Workspace};

/// A valid hash of a random password, verified against when the email is unknown, so the
/// answer takes as long as for a real account.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0q3pDLYHxn4zv2mFIRf2oQYBGAhaE2/5OHWOxYQeKkE";

#[derive(Clone)]
pub struct PasswordHasherPool {
    threads: HashingThreads,
}

impl PasswordHasherPool {
    /// `threads` hashing threads: at most that many hashes run at once, and each holds one
    /// argon2 memory (19 MiB) while it is busy.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        Ok(Self {
            threads: HashingThreads::start(threads, owasp_params())?,
        })
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, AppError> {
        self.threads
            .run(move |ws| ws.hash(password.expose_secret().as_bytes()))
            .await
            .ok_or_else(job_failed)?
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing password: {e}")))
    }

    /// True only when `stored` is a hash of `password`. With no stored hash (unknown email,
    /// or an account without a password) it still does the full work and answers false.
    pub async fn verify(
        &self,
        stored: Option<String>,
        password: SecretString,
    ) -> Result<bool, AppError> {
        self.threads
            .run(move |ws| verify_or_pretend(ws, stored.as_deref(), &password))
            .await
            .ok_or_else(job_failed)
    }
}

fn job_failed() -> AppError {
    AppError::Internal(anyhow::anyhow!("the password hashing job failed"))
}

fn verify_or_pretend(ws: &mut Workspace, stored: Option<&str>, password: &SecretString) -> bool {
    let matches = ws.verify(
        stored.unwrap_or(DUMMY_HASH),
        password.expose_secret().as_bytes(),
    );
    matches && stored.is_some()
}

/// Hashes on the calling thread, in memory of its own: for tools, seeding and tests.
pub fn hash_now(password: &str) -> Result<String, AppError> {
    Workspace::new(owasp_params())
        .hash(password.as_bytes())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing password: {e}")))
}

/// Verifies on the calling thread, in memory of its own: for tools and measurements.
pub fn verify_now(stored: &str, password: &str) -> bool {
    Workspace::new(owasp_params()).verify(stored, password.as_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let hash = hash_now("correct horse battery").unwrap_or_default();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_now(&hash, "correct horse battery"));
        assert!(!verify_now(&hash, "wrong horse battery"));
    }

    #[test]
    fn dummy_hash_is_a_real_hash_that_matches_nothing_typed() {
        assert!(argon2::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_now(DUMMY_HASH, ""));
        assert!(!verify_now(DUMMY_HASH, "password"));
    }

    #[actix_web::test]
    async fn pool_hashes_and_verifies() {
        let pool = PasswordHasherPool::new(2).unwrap();
        let hash = pool.hash(secret("pool passphrase")).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(pool
            .verify(Some(hash.clone()), secret("pool passphrase"))
            .await
            .unwrap());
        assert!(!pool
            .verify(Some(hash), secret("pool passphrasE"))
            .await
            .unwrap());
    }

    #[actix_web::test]
    async fn hashes_stored_before_the_pool_still_verify() {
        // Made by the argon2 crate's own hasher, as the console stored them until now.
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let old = argon2::Argon2::default()
            .hash_password(b"kept from before", &salt)
            .unwrap()
            .to_string();
        let pool = PasswordHasherPool::new(1).unwrap();
        assert!(pool
            .verify(Some(old.clone()), secret("kept from before"))
            .await
            .unwrap());
        assert!(!pool
            .verify(Some(old), secret("not from before"))
            .await
            .unwrap());
    }

    #[actix_web::test]
    async fn no_stored_hash_does_the_work_and_answers_false() {
        let pool = PasswordHasherPool::new(1).unwrap();
        let started = std::time::Instant::now();
        assert!(!pool.verify(None, secret("")).await.unwrap());
        assert!(!pool.verify(None, secret("anything")).await.unwrap());
        // Two full argon2 computations at OWASP's cost, not a shortcut (each takes
        // milliseconds even on a fast machine).
        assert!(started.elapsed() >= std::time::Duration::from_millis(4));
        let used = pool.threads.run(|ws| ws.allocations()).await;
        assert_eq!(
            used,
            Some(1),
            "the dummy hash is computed in the pool's memory"
        );
    }

    #[actix_web::test]
    async fn a_panicking_job_does_not_break_the_pool() {
        let pool = PasswordHasherPool::new(1).unwrap();
        for _ in 0..3 {
            let outcome = pool.threads.run(|_| -> u8 { panic!("boom") }).await;
            assert_eq!(outcome, None);
        }
        let hash = pool.hash(secret("still here")).await.unwrap();
        assert!(pool.verify(Some(hash), secret("still here")).await.unwrap());
    }

    #[actix_web::test]
    async fn every_hash_of_a_thread_goes_through_its_one_memory() {
        let pool = PasswordHasherPool::new(1).unwrap();
        let hash = pool.hash(secret("first")).await.unwrap();
        let address = pool.threads.run(|ws| ws.memory_address()).await.unwrap();
        assert_ne!(address, 0, "the hash used the thread's memory");
        for _ in 0..3 {
            pool.hash(secret("again")).await.unwrap();
            assert!(pool
                .verify(Some(hash.clone()), secret("first"))
                .await
                .unwrap());
            assert!(!pool.verify(None, secret("first")).await.unwrap());
        }
        let (after, allocations) = pool
            .threads
            .run(|ws| (ws.memory_address(), ws.allocations()))
            .await
            .unwrap();
        assert_eq!(after, address);
        assert_eq!(allocations, 1);
    }

    #[actix_web::test]
    async fn an_idle_thread_hands_its_memory_back() {
        let pool = PasswordHasherPool::new(1).unwrap();
        pool.hash(secret("busy")).await.unwrap();
        assert_eq!(pool.threads.run(|ws| ws.is_resident()).await, Some(true));
        // Released after 1 s without a job. Each look is a job and restarts that second, so
        // look every 1.2 s, a few times: on a loaded machine the low-priority thread may wait
        // for a CPU.
        let mut resident = Some(true);
        for _ in 0..8 {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(1200)).await;
            resident = pool.threads.run(|ws| ws.is_resident()).await;
            if resident == Some(false) {
                break;
            }
        }
        assert_eq!(resident, Some(false));
        // And the memory is the same one, still in use for the next hash.
        let address = pool.threads.run(|ws| ws.memory_address()).await;
        pool.hash(secret("busy again")).await.unwrap();
        assert_eq!(pool.threads.run(|ws| ws.memory_address()).await, address);
    }

    #[cfg(target_os = "linux")]
    #[actix_web::test]
    async fn hashing_threads_run_at_a_lower_priority() {
        let pool = PasswordHasherPool::new(1).unwrap();
        let nice = pool.threads.run(|_| threads::current_niceness()).await;
        assert_eq!(nice, Some(threads::NICENESS));
    }

    #[actix_web::test]
    async fn jobs_run_concurrently_on_every_thread() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let pool = PasswordHasherPool::new(3).unwrap();
        let started = std::sync::Arc::new(AtomicUsize::new(0));
        // Three jobs that each wait (up to 5 s) until all three have started.
        let jobs = (0..3).map(|_| {
            let started = started.clone();
            pool.threads.run(move |_| {
                started.fetch_add(1, Ordering::SeqCst);
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                while started.load(Ordering::SeqCst) < 3 && std::time::Instant::now() < deadline {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                started.load(Ordering::SeqCst)
            })
        });
        let seen = futures_util::future::join_all(jobs).await;
        assert_eq!(seen, vec![Some(3); 3]);
    }
}
