//! A pool of threads of its own with a bounded queue, for CPU work that must not run on
//! the HTTP workers or the actors' threads and must not pile up: room passwords (argon2,
//! `chat/passwords.rs`) and session tokens (biscuit signatures, `identity/verifier.rs`).
//!
//! tokio's blocking pool grows to 512 threads and queues without end, so a burst of
//! expensive work would take every core and all the memory; here at most `running` jobs
//! run at once, at most `waiting` more wait, and beyond that the caller is refused at
//! once ([`Refused::Busy`]) and answers its client with `rate_limited`.

use std::sync::Arc;
use std::time::Duration;

/// One job, run on a pool thread.
type Job = Box<dyn FnOnce() + Send>;

/// Why a job was not run (or not answered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Every thread is busy and the queue is full, or the answer took longer than the
    /// caller would wait: the client should try again shortly.
    #[error("the {0} pool is busy")]
    Busy(&'static str),
    /// The job panicked, or the pool's threads are gone (they never started): a bug or
    /// a broken machine, not load.
    #[error("the {0} pool stopped")]
    Stopped(&'static str),
}

/// The pool; cheap to clone (every clone shares the threads and the queue). The threads
/// end when the last clone is dropped.
#[derive(Clone)]
pub struct BoundedPool {
    /// What the pool is for, in thread names and errors.
    name: &'static str,
    /// The queue of jobs, `waiting` long.
    jobs: std::sync::mpsc::SyncSender<Job>,
    /// The longest a caller waits for its answer.
    max_wait: Duration,
}

impl std::fmt::Debug for BoundedPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundedPool")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl BoundedPool {
    /// Starts `running` threads named `<name>-<i>` that take jobs from a queue holding at
    /// most `waiting`; callers wait at most `max_wait` for an answer.
    pub fn start(name: &'static str, running: usize, waiting: usize, max_wait: Duration) -> Self {
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(waiting);
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for i in 0..running {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || loop {
                    // The lock is held only while taking a job, never while running it.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        // A job that panics loses its answer (its caller hears
                        // `Stopped`), never the thread.
                        Ok(job) => {
                            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err()
                            {
                                log::error!("a {name} job panicked");
                            }
                        }
                        Err(_) => return, // every sender is gone
                    }
                });
            if let Err(e) = spawned {
                log::error!("could not start a {name} thread: {e}");
            }
        }
        BoundedPool {
            name,
            jobs,
            max_wait,
        }
    }

    /// Queues `work` and waits for its answer; refuses at once when the queue is full,
    /// and after `max_wait` without an answer (the work may still run; its answer is
    /// dropped).
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Refused> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // A caller that stopped waiting (it timed out, its client left) gets nothing:
            // under overload the threads spend themselves on answers someone reads.
            if !answer.is_closed() {
                let _ = answer.send(work());
            }
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(_)) => return Err(Refused::Busy(self.name)),
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                return Err(Refused::Stopped(self.name))
            }
        }
        match tokio::time::timeout(self.max_wait, answered).await {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(_)) => Err(Refused::Stopped(self.name)),
            Err(_) => Err(Refused::Busy(self.name)),
        }
    }
}

/// Occupies one of `pool`'s threads (for tests of a busy pool) until the returned
/// sender is used or dropped; the handle answers once the job is done.
#[cfg(test)]
pub(crate) async fn occupy_a_thread(
    pool: &BoundedPool,
) -> (
    std::sync::mpsc::Sender<()>,
    tokio::task::JoinHandle<Result<(), Refused>>,
) {
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (started, running) = tokio::sync::oneshot::channel::<()>();
    let holding = tokio::spawn({
        let pool = pool.clone();
        async move {
            pool.run(move || {
                let _ = started.send(());
                let _ = held.recv();
            })
            .await
        }
    });
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the job starts within 5 s")
        .expect("the job runs");
    (release, holding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_the_pools_own_threads() {
        let pool = BoundedPool::start("test-own", 1, 1, Duration::from_secs(5));
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("test-own-0"));
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_frees_up_when_the_work_ends() {
        let pool = BoundedPool::start("test-full", 1, 1, Duration::from_secs(5));
        // One job holds the only thread until released; one more fills the queue.
        let (release, holding) = occupy_a_thread(&pool).await;
        let queued = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| 2).await }
        });
        // On this test's single thread the queued task sends its job at its first poll.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let asked = std::time::Instant::now();
        assert_eq!(pool.run(|| 3).await, Err(Refused::Busy("test-full")));
        assert!(asked.elapsed() < Duration::from_secs(1), "refused at once");
        release.send(()).unwrap();
        holding.await.unwrap().unwrap();
        assert_eq!(queued.await.unwrap(), Ok(2));
        assert_eq!(pool.run(|| 4).await, Ok(4));
    }

    #[tokio::test]
    async fn a_job_that_panics_loses_its_answer_and_not_the_thread() {
        let pool = BoundedPool::start("test-panic", 1, 1, Duration::from_secs(30));
        assert_eq!(
            pool.run(|| panic!("a job's bug")).await,
            Err::<(), _>(Refused::Stopped("test-panic"))
        );
        assert_eq!(pool.run(|| 5).await, Ok(5));
    }

    #[tokio::test]
    async fn an_answer_later_than_the_wait_is_refused_as_busy() {
        let pool = BoundedPool::start("test-slow", 1, 1, Duration::from_millis(50));
        let answer = pool
            .run(|| std::thread::sleep(Duration::from_millis(300)))
            .await;
        assert_eq!(answer, Err(Refused::Busy("test-slow")));
    }
}
