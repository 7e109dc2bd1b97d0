//! Pins each worker thread of a multi-thread tokio runtime to its own CPU.
//!
//! On a machine with few CPUs that a client shares with the server (a load generator, a test
//! runner), the kernel now and then runs two workers on one CPU and the client alone on the
//! other: for a time slice of a few milliseconds one worker waits, and so do the connections
//! whose tasks it holds. A worker bound to a CPU of its own waits only behind the client, whose
//! work between two requests is short. The threads of the blocking pool are left free: one that
//! a worker starts would inherit the worker's CPU, so on Linux each is given back every CPU the
//! runtime's builder could use.
//!
//! A worker is known by what it does, not by when it started: tokio runs its workers as tasks of
//! the blocking pool, and when two of that pool's threads start together either may take the
//! worker's task. So every thread is freed when it starts, and a thread is pinned the first time
//! it parks, which only workers do.
//!
//! [`multi_thread_runtime`] builds the runtime, with its workers pinned or not, and says where
//! they went.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use core_affinity::CoreId;

/// A multi-thread runtime of `workers` worker threads with every driver on; with `pin`, each
/// worker bound to its own CPU among those the calling thread may use (in turn, when there are
/// more workers than CPUs), and where they went.
pub fn multi_thread_runtime(
    workers: usize,
    pin: bool,
) -> std::io::Result<(tokio::runtime::Runtime, Option<Pinning>)> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(workers).enable_all();
    if !pin {
        return Ok((builder.build()?, None));
    }
    let pins = WorkerPins::new(workers);
    builder
        .on_thread_start(pins.start_hook())
        .on_thread_park(pins.park_hook());
    let runtime = builder.build()?;
    // A worker with nothing to do parks at once, so each has taken its CPU when this returns.
    let pinning = pins.wait(Duration::from_secs(5));
    Ok((runtime, Some(pinning)))
}

/// Where the workers of a runtime went. Displayed as the workers' CPUs in the order they
/// started, `none` for one that could not be bound: `0,1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinning {
    /// The CPUs this process may use, as they were read before the runtime was built.
    pub allowed: Vec<usize>,
    /// For each worker in the order they started, its CPU, or `None` where pinning failed.
    pub workers: Vec<Option<usize>>,
    /// How many workers had not parked for the first time after 5 s (one that parks later is
    /// still bound).
    pub not_started: usize,
}

impl Pinning {
    /// Whether every worker started and is bound to a CPU.
    pub fn is_complete(&self) -> bool {
        self.not_started == 0 && self.workers.iter().all(Option::is_some)
    }
}

impl std::fmt::Display for Pinning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (index, cpu) in self.workers.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            match cpu {
                Some(cpu) => write!(f, "{cpu}")?,
                None => f.write_str("none")?,
            }
        }
        Ok(())
    }
}

thread_local! {
    /// Whether this thread has been bound as a worker.
    static PINNED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The pinning of one runtime's workers: shared between its hooks and the thread that waits.
#[derive(Debug)]
struct WorkerPins {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// The CPUs to hand out, in turn; empty when they could not be read.
    allowed: Vec<CoreId>,
    /// The builder's whole CPU set, given back to threads that are not workers.
    #[cfg(target_os = "linux")]
    free: Option<rustix::thread::CpuSet>,
    workers: usize,
    started: Mutex<Vec<Option<usize>>>,
    all_started: Condvar,
}

impl WorkerPins {
    /// Pins for a runtime of `workers` worker threads, over the CPUs the calling thread may use.
    /// With more workers than CPUs, the CPUs are handed out again from the first.
    fn new(workers: usize) -> WorkerPins {
        let allowed = core_affinity::get_core_ids().unwrap_or_default();
        WorkerPins {
            shared: Arc::new(Shared {
                allowed,
                #[cfg(target_os = "linux")]
                free: rustix::thread::sched_getaffinity(None).ok(),
                workers,
                started: Mutex::new(Vec::with_capacity(workers)),
                all_started: Condvar::new(),
            }),
        }
    }

    /// The runtime's `on_thread_start` hook: every thread starts with every CPU the builder
    /// could use (it inherits the CPU of a worker that started it), and unpinned.
    fn start_hook(&self) -> impl Fn() + Send + Sync + 'static {
        let shared = Arc::clone(&self.shared);
        move || {
            PINNED.set(false);
            shared.free_this_thread();
        }
    }

    /// The runtime's `on_thread_park` hook, which only workers call: the first time a thread
    /// parks, it is bound to the next CPU.
    fn park_hook(&self) -> impl Fn() + Send + Sync + 'static {
        let shared = Arc::clone(&self.shared);
        move || {
            if !PINNED.replace(true) {
                shared.pin_this_worker();
            }
        }
    }

    /// Waits, at most `limit`, for every worker to have parked once, and says where each went.
    /// Call it after `build()` and before the runtime runs anything.
    fn wait(&self, limit: Duration) -> Pinning {
        let shared = &self.shared;
        let deadline = Instant::now() + limit;
        let mut started = shared.lock();
        while started.len() < shared.workers {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            started = shared
                .all_started
                .wait_timeout(started, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        Pinning {
            allowed: shared.allowed.iter().map(|core| core.id).collect(),
            workers: started.clone(),
            not_started: shared.workers.saturating_sub(started.len()),
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Option<usize>>> {
        // The lock guards a list that every holder leaves whole, so a panic elsewhere while it
        // was held leaves nothing half-written.
        self.started.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Binds the calling worker to the next CPU in turn. A thread that becomes a worker later
    /// (tokio hands a worker's core to a new thread around `block_in_place`) takes the turn
    /// after the last, sharing a CPU when there are no more.
    fn pin_this_worker(&self) {
        let mut started = self.lock();
        let turn = started.len();
        let pinned = match self.allowed.get(turn % self.allowed.len().max(1)) {
            Some(&core) if core_affinity::set_for_current(core) => Some(core.id),
            _ => None,
        };
        started.push(pinned);
        if started.len() >= self.workers {
            self.all_started.notify_all();
        }
    }
}

impl Shared {
    /// Gives the calling thread every CPU the builder could use; where that cannot be done, the
    /// thread keeps what it inherited.
    fn free_this_thread(&self) {
        #[cfg(target_os = "linux")]
        if let Some(free) = &self.free {
            let _ = rustix::thread::sched_setaffinity(None, free);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinned_runtime(workers: usize) -> (tokio::runtime::Runtime, Pinning) {
        let (runtime, pinning) = multi_thread_runtime(workers, true).expect("the runtime starts");
        (runtime, pinning.expect("pinned"))
    }

    fn allowed_here() -> Vec<usize> {
        core_affinity::get_core_ids()
            .expect("this thread's CPUs can be read")
            .into_iter()
            .map(|core| core.id)
            .collect()
    }

    #[test]
    fn each_worker_gets_its_own_cpu_while_there_are_enough() {
        let allowed = allowed_here();
        let (runtime, pinning) = pinned_runtime(allowed.len());
        assert!(pinning.is_complete(), "{pinning:?}");
        assert_eq!(pinning.allowed, allowed);
        let mut cpus: Vec<usize> = pinning.workers.iter().flatten().copied().collect();
        cpus.sort_unstable();
        assert_eq!(cpus, allowed, "one worker per CPU");

        // A task runs on a worker, which may run on its one CPU only.
        let seen = runtime.block_on(async {
            tokio::spawn(async { allowed_here() })
                .await
                .expect("the task ends")
        });
        assert_eq!(seen.len(), 1, "a worker is bound to one CPU: {seen:?}");
        assert!(allowed.contains(&seen[0]));
    }

    #[test]
    fn threads_of_the_blocking_pool_stay_free() {
        let allowed = allowed_here();
        let (runtime, pinning) = pinned_runtime(1);
        assert!(pinning.is_complete(), "{pinning:?}");
        let seen = runtime.block_on(async {
            tokio::task::spawn_blocking(allowed_here)
                .await
                .expect("the blocking task ends")
        });
        assert_eq!(seen, allowed, "a blocking thread may run on every CPU");
    }

    #[test]
    fn a_blocking_thread_a_worker_starts_is_given_every_cpu_back() {
        let allowed = allowed_here();
        let (runtime, pinning) = pinned_runtime(1);
        assert!(pinning.is_complete(), "{pinning:?}");
        // Asked for on the worker, the blocking thread is started by it and inherits its CPU.
        let seen = runtime.block_on(async {
            tokio::spawn(async {
                tokio::task::spawn_blocking(allowed_here)
                    .await
                    .expect("the blocking task ends")
            })
            .await
            .expect("the task ends")
        });
        assert_eq!(seen, allowed, "a blocking thread may run on every CPU");
    }

    #[test]
    fn without_pin_the_workers_stay_free() {
        let allowed = allowed_here();
        let (runtime, pinning) =
            multi_thread_runtime(allowed.len(), false).expect("the runtime starts");
        assert_eq!(pinning, None);
        let seen = runtime.block_on(async {
            tokio::spawn(async { allowed_here() })
                .await
                .expect("the task ends")
        });
        assert_eq!(seen, allowed);
    }

    #[test]
    fn pinning_is_shown_as_the_workers_cpus() {
        let pinning = Pinning {
            allowed: vec![0, 1, 2],
            workers: vec![Some(2), None, Some(0)],
            not_started: 0,
        };
        assert_eq!(pinning.to_string(), "2,none,0");
        assert!(!pinning.is_complete());
    }

    #[test]
    fn more_workers_than_cpus_share_them_in_turn() {
        let allowed = allowed_here();
        let workers = allowed.len() * 2 + 1;
        let (_runtime, pinning) = pinned_runtime(workers);
        assert!(pinning.is_complete(), "{pinning:?}");
        let mut expected: Vec<usize> = allowed.iter().cycle().take(workers).copied().collect();
        let mut cpus: Vec<usize> = pinning.workers.iter().flatten().copied().collect();
        expected.sort_unstable();
        cpus.sort_unstable();
        assert_eq!(cpus, expected);
    }
}
