//! The database's own small thread pool: every Diesel call runs here, never on an async worker.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::DatabaseUrl;
use crate::error::AppError;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A small pool of threads for database work only, shared by all async workers.
///
/// Why not `web::block`: tokio's blocking pool starts a thread for every task that finds none
/// idle, so under load it grew to dozens of threads (96 in the benchmark), each put to sleep
/// and woken again for every query; on a small machine those futex wake-ups and context
/// switches cost more than the query. Here jobs go into one queue and a thread that finishes
/// a job takes the next without sleeping, so under load one or two threads run job after job
/// and are hardly ever woken. It is also kept apart from the password-hashing threads
/// (`auth::password`) and the blocking pool that mail uses, so an argon2 computation never
/// delays a query (or the reverse).
///
/// Threads start on demand up to a limit and end once the last `Db` handle is dropped.
pub(super) struct Executor {
    shared: Arc<Shared>,
    pub(super) tuning: Tuning,
}

/// How eagerly the executor puts more threads to work, per backend.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tuning {
    max_threads: usize,
    /// Another thread is woken (or started) once more than `backlog` jobs per running
    /// thread are waiting. 0: whenever a job is queued and a thread is free.
    backlog: usize,
    /// A caller whose job has not finished after this long wakes another thread if jobs are
    /// still queued (the running ones are busy with something long). `None` when every job
    /// already gets a free thread at once (`backlog` 0).
    pub(super) stall: Option<Duration>,
}

impl Tuning {
    /// SQLite work is short and CPU-bound in this process: waking a second thread for a
    /// job that the running one would take a few microseconds later costs a system call and
    /// two context switches, more than the job. So one thread runs until a real backlog
    /// builds up, and a job stuck behind a long one (a big transaction, a writer waiting
    /// for the lock) gets a helper after a millisecond.
    ///
    /// PostgreSQL queries mostly wait for the server, during which the thread sleeps anyway,
    /// so every job gets a free thread at once, up to one per pooled connection.
    pub(super) fn for_backend(url: &DatabaseUrl, pool_size: u32) -> Self {
        let pool_size = pool_size.max(1) as usize;
        match url {
            DatabaseUrl::Sqlite(_) => Self {
                max_threads: std::thread::available_parallelism()
                    .map_or(4, std::num::NonZeroUsize::get)
                    .max(4)
                    .min(pool_size),
                backlog: 32,
                stall: Some(Duration::from_millis(1)),
            },
            DatabaseUrl::Postgres(_) => Self {
                max_threads: pool_size,
                backlog: 0,
                stall: None,
            },
        }
    }
}

struct Shared {
    state: Mutex<ExecutorState>,
    job_ready: Condvar,
}

#[derive(Default)]
struct ExecutorState {
    jobs: VecDeque<Job>,
    /// Threads started and not ended.
    threads: usize,
    /// Threads asleep that nobody has signalled yet. A signalled thread counts as running
    /// from the moment it is signalled, so that submits arriving before it is scheduled do
    /// not wake more threads for the same work.
    idle: usize,
    /// Signalled threads that have not woken yet.
    signalled: usize,
    shutting_down: bool,
}

fn lock(state: &Mutex<ExecutorState>) -> MutexGuard<'_, ExecutorState> {
    // Jobs run outside the lock and catch their own panics, so a poisoned lock still holds
    // a consistent queue.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Executor {
    pub(super) fn new(tuning: Tuning) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(ExecutorState::default()),
                job_ready: Condvar::new(),
            }),
            tuning,
        }
    }

    pub(super) fn submit(&self, job: Job) -> Result<(), AppError> {
        let mut state = lock(&self.shared.state);
        state.jobs.push_back(job);
        // Signalled threads count as running (see `ExecutorState::idle`).
        let running = state.threads - state.idle;
        // A running thread takes the job as soon as it is done with its current one.
        if running == 0 || state.jobs.len() > self.tuning.backlog * running {
            self.add_thread(state)?;
        }
        Ok(())
    }

    /// Jobs queued that no thread has taken yet (for the metrics).
    pub(super) fn queued(&self) -> usize {
        lock(&self.shared.state).jobs.len()
    }

    /// For a caller whose job has not finished after `stall`: if jobs are still queued, the
    /// running threads are busy with something long, so put another thread to work.
    pub(super) fn nudge(&self) -> Result<(), AppError> {
        let state = lock(&self.shared.state);
        if state.jobs.is_empty() {
            return Ok(());
        }
        self.add_thread(state)
    }

    /// Wakes an idle thread, or starts one if none is idle and the limit allows.
    fn add_thread(&self, mut state: MutexGuard<'_, ExecutorState>) -> Result<(), AppError> {
        if state.idle > 0 {
            state.idle -= 1;
            state.signalled += 1;
            drop(state);
            self.shared.job_ready.notify_one();
            return Ok(());
        }
        if state.threads >= self.tuning.max_threads {
            return Ok(());
        }
        state.threads += 1;
        drop(state);
        let shared = Arc::clone(&self.shared);
        let spawned = std::thread::Builder::new()
            .name("db".into())
            .spawn(move || run_jobs(&shared));
        if let Err(e) = spawned {
            let mut state = lock(&self.shared.state);
            state.threads -= 1;
            // With no thread at all the queued jobs would wait forever: report it.
            if state.threads == 0 {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "starting a database thread: {e}"
                )));
            }
        }
        Ok(())
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.shutting_down = true;
        // Everyone is woken: count them all as signalled so the accounting stays whole.
        state.signalled += state.idle;
        state.idle = 0;
        drop(state);
        self.shared.job_ready.notify_all();
    }
}

/// A database thread: runs queued jobs, sleeps while there are none, ends at shutdown once
/// the queue is empty.
fn run_jobs(shared: &Shared) {
    let mut state = lock(&shared.state);
    loop {
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            // A panicking job drops its result sender, which its caller sees as an error;
            // the thread carries on.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            state = lock(&shared.state);
        } else if state.shutting_down {
            state.threads -= 1;
            return;
        } else {
            state.idle += 1;
            state = shared
                .job_ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            if state.signalled > 0 {
                // `add_thread` (or `drop`) already moved a thread from idle to signalled.
                state.signalled -= 1;
            } else {
                // A spurious wake-up.
                state.idle -= 1;
            }
        }
    }
}
