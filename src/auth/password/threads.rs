//! The password-hashing threads: a fixed number of OS threads, each with its own argon2
//! [`Workspace`], taking jobs from one queue. They run at a lower scheduling priority than the
//! request workers, so a burst of sign-ins uses the CPU the requests leave over instead of
//! slowing every other page. A job that panics is contained; its caller gets an error and the
//! thread takes the next job.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use argon2::Params;

use super::workspace::Workspace;

/// Nice value of the hashing threads (0 is the request workers', 19 the lowest).
pub const NICENESS: i32 = 10;

/// After this long without a job a thread hands its argon2 memory back to the kernel.
const IDLE_RELEASE: Duration = Duration::from_secs(1);

type Job = Box<dyn FnOnce(&mut Workspace) + Send>;

#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Default)]
struct QueueState {
    jobs: VecDeque<Job>,
    closed: bool,
}

enum Next {
    Job(Job),
    Idle,
    Closed,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // Jobs never run under the lock, so poisoning cannot leave the queue half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, job: Job) {
        self.lock().jobs.push_back(job);
        self.ready.notify_one();
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// The next job; `Idle` once `idle_after` passed without one (never, if `None`); `Closed`
    /// when the queue is closed and empty.
    fn next(&self, idle_after: Option<Duration>) -> Next {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                return Next::Job(job);
            }
            if state.closed {
                return Next::Closed;
            }
            state = match idle_after {
                None => self
                    .ready
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(timeout) => {
                    let (state, wait) = self
                        .ready
                        .wait_timeout(state, timeout)
                        .unwrap_or_else(PoisonError::into_inner);
                    if wait.timed_out() && state.jobs.is_empty() && !state.closed {
                        return Next::Idle;
                    }
                    state
                }
            };
        }
    }
}

/// Closes the queue when the last handle goes, which ends the threads once it is drained.
struct Closer(Arc<Queue>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.close();
    }
}

#[derive(Clone)]
pub struct HashingThreads {
    queue: Arc<Queue>,
    _closer: Arc<Closer>,
}

impl HashingThreads {
    /// Starts `count` threads (at least one), each owning a workspace sized for `params`.
    pub fn start(count: usize, params: Params) -> std::io::Result<Self> {
        let queue = Arc::new(Queue::default());
        for index in 0..count.max(1) {
            let queue = queue.clone();
            let workspace = Workspace::new(params.clone());
            std::thread::Builder::new()
                .name(format!("password-hash-{index}"))
                .spawn(move || work(&queue, workspace))?;
        }
        Ok(Self {
            _closer: Arc::new(Closer(queue.clone())),
            queue,
        })
    }

    /// Runs `job` on one of the threads and returns what it returned, or `None` if it
    /// panicked.
    pub async fn run<T, F>(&self, job: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Workspace) -> T + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.queue.push(Box::new(move |workspace: &mut Workspace| {
            let _ = tx.send(job(workspace));
        }));
        rx.await.ok()
    }
}

fn work(queue: &Queue, mut workspace: Workspace) {
    lower_priority();
    loop {
        let idle_after = workspace.is_resident().then_some(IDLE_RELEASE);
        match queue.next(idle_after) {
            Next::Job(job) => {
                // A panicking job drops its reply channel, which tells its caller.
                if catch_unwind(AssertUnwindSafe(|| job(&mut workspace))).is_err() {
                    tracing::error!("a password hashing job panicked");
                }
            }
            Next::Idle => workspace.release(),
            Next::Closed => return,
        }
    }
}

/// Lowers the calling thread's priority (Linux: a thread is a schedulable task of its own).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread, no memory passed.
        let rc = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICENESS)
        };
        if rc != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "could not lower the priority of a password hashing thread"
            );
        }
    }
}

/// The calling thread's nice value.
#[cfg(all(test, target_os = "linux"))]
pub fn current_niceness() -> i32 {
    // SAFETY: plain system calls on the calling thread.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
}
