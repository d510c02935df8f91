//! Which threads run Strata's parallel loops.
//!
//! Strata's ops run on rayon's global pool. Called from a thread outside
//! that pool (a program's main thread), every parallel op hands its work to
//! the pool's workers and the caller sleeps until they finish: on a
//! 2-core machine that is three threads for two cores, and each op pays for
//! waking the caller again — about 25 µs a product on the MNIST layers,
//! 20% of a 2-thread training step.
//!
//! So, as PyTorch's intra-op pool does, the program's main thread takes
//! part: on the first parallel op it runs, if rayon's global pool has not
//! been built yet, Strata builds it with the main thread as worker 0
//! (`ThreadPoolBuilder::use_current_thread`) and as many threads in all as
//! rayon would start (`RAYON_NUM_THREADS`, else one per CPU). The main
//! thread then forks work onto its own queue, runs its share, and the other
//! workers steal the rest.
//!
//! What that changes for a program: on the main thread, rayon's global pool
//! has one worker fewer of its own threads (the main thread is one), and
//! while the main thread waits inside a parallel call it may run other
//! work queued on the pool, as any rayon worker does; and after the main
//! thread's parallel work the other workers keep looking for more for 1 ms
//! before they sleep (see `keep_warm`), using the other cores meanwhile.
//! Nothing changes when the program built the global pool itself, or used
//! it, before Strata's first parallel op, when the pool would have one
//! thread, or when `STRATA_JOIN_POOL=0` is set; other threads are never
//! joined.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Set once the main thread has tried to join (whatever the outcome).
static TRIED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// True on the thread that joined rayon's pool as worker 0.
    static JOINED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The number of threads a parallel op on this thread would use, after
/// letting the main thread join rayon's global pool (see the module docs).
/// Every parallel op in Strata asks this before it forks.
pub fn current_num_threads() -> usize {
    if rayon::current_thread_index().is_none() && !TRIED.load(Ordering::Relaxed) {
        join_as_main();
    }
    let n = rayon::current_num_threads();
    if n > 1 {
        keep_warm(n);
    }
    n
}

/// How long a worker keeps looking for work after the last parallel job it
/// ran before rayon may put it to sleep.
const LINGER: Duration = Duration::from_millis(1);

/// Between two looks for work a lingering worker spins this many times
/// (`pause`, a few hundred nanoseconds in all) and calls `sched_yield` only
/// every [`YIELD_EVERY`]th time: on these virtual machines one
/// `sched_yield` took microseconds, and work pushed meanwhile waited for
/// it — a 128³ product on 2 threads ran no faster than on 1, with the
/// helper taking one of its four tasks.
const SPINS: usize = 16;

/// See [`SPINS`].
const YIELD_EVERY: u32 = 32;

/// Workers currently running [`linger`].
static LINGERING: AtomicUsize = AtomicUsize::new(0);

/// How many workers are keeping themselves awake after recent parallel
/// work (see [`keep_warm`]); for tests.
#[doc(hidden)]
#[must_use]
pub fn lingering_workers() -> usize {
    LINGERING.load(Ordering::Relaxed)
}

/// Keeps the pool's other workers awake between parallel ops.
///
/// Rayon puts an idle worker to sleep after a few microseconds of finding
/// no work, and waking it takes 10–30 µs on the virtual machines we
/// measure on: a `join` of two 20 µs halves after a 20 µs serial gap took
/// 37–51 µs, longer than running both halves on one thread. A training
/// step alternates short serial ops with parallel products, so every
/// product paid that. Each parallel op therefore makes sure the other
/// workers run a job that keeps asking rayon for work (and runs what it
/// finds) until [`LINGER`] passes with none, the way OpenMP runtimes spin
/// before they sleep.
///
/// Only the thread that joined the pool (the main thread) asks, and the job
/// never lingers on it: a worker runs the jobs it steals while it waits
/// inside a `join`, and one that stole a lingering job would wait up to
/// [`LINGER`] past its own join. Left to any worker (a helper forking a
/// nested product inside a conv task, say), the main thread could steal
/// such a job from the helper while it waits. The main thread's jobs are
/// stolen oldest first, so an idle helper takes the lingering job before
/// the work forked after it.
fn keep_warm(threads: usize) {
    if !JOINED.get() {
        return;
    }
    if LINGERING.fetch_add(1, Ordering::Relaxed) < threads - 1 {
        rayon::spawn(linger);
    } else {
        LINGERING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The body of [`keep_warm`]'s job. On the main thread (which may pop it
/// back itself) it returns at once.
fn linger() {
    if !JOINED.get() {
        let mut deadline = Instant::now() + LINGER;
        let mut polls = 0u32;
        while Instant::now() < deadline {
            match rayon::yield_now() {
                Some(rayon::Yield::Executed) => deadline = Instant::now() + LINGER,
                _ => {
                    polls = polls.wrapping_add(1);
                    if polls.is_multiple_of(YIELD_EVERY) {
                        // Now and then give the core to any other runnable
                        // thread (a shared or oversubscribed machine).
                        std::thread::yield_now();
                    } else {
                        (0..SPINS).for_each(|_| std::hint::spin_loop());
                    }
                }
            }
        }
    }
    LINGERING.fetch_sub(1, Ordering::Relaxed);
}

/// Runs `a` on this thread and `b` on another worker of rayon's pool if
/// one takes it, as `rayon::join` does, for two halves of one op's work.
///
/// The difference is how this thread waits for a `b` that another worker
/// is running when `a` is done: `rayon::join` waits in rayon's idle loop,
/// which looks for other work and calls `sched_yield` between looks, and
/// on the virtual machines we measure one `sched_yield` takes 0.55–0.63
/// µs, so the caller learns that `b` finished up to that late. Here it
/// spins on a flag that `b` sets as it ends (for at most [`SPIN_FOR`],
/// then as `rayon::join`). A `b` that no worker has started when `a` is
/// done is run by this thread, as in `rayon::join`.
pub(crate) fn join_spinning<A, B>(a: A, b: B)
where
    A: FnOnce() + Send,
    B: FnOnce() + Send,
{
    let (started, done) = (AtomicBool::new(false), AtomicBool::new(false));
    rayon::join(
        || {
            a();
            if started.load(Ordering::Acquire) {
                let deadline = Instant::now() + SPIN_FOR;
                'wait: while !done.load(Ordering::Acquire) {
                    for _ in 0..SPINS {
                        std::hint::spin_loop();
                        if done.load(Ordering::Acquire) {
                            break 'wait;
                        }
                    }
                    if Instant::now() > deadline {
                        break;
                    }
                }
            }
        },
        || {
            started.store(true, Ordering::Release);
            b();
            done.store(true, Ordering::Release);
        },
    );
}

/// How long [`join_spinning`] spins for the other half before it waits as
/// `rayon::join` does (a helper that lost its core, or a `b` that panicked).
const SPIN_FOR: Duration = Duration::from_micros(200);

/// Whether the calling thread runs as one of rayon's workers (after
/// [`current_num_threads`] let the main thread join, it does).
#[must_use]
pub fn in_pool() -> bool {
    rayon::current_thread_index().is_some()
}

fn join_as_main() {
    if std::thread::current().name() != Some("main") || TRIED.swap(true, Ordering::Relaxed) {
        return;
    }
    if std::env::var("STRATA_JOIN_POOL").is_ok_and(|v| v == "0") || default_threads() < 2 {
        return;
    }
    // Fails when the program built or used the global pool already: then
    // it stays as the program made it.
    if rayon::ThreadPoolBuilder::new().use_current_thread().build_global().is_ok() {
        JOINED.set(true);
    }
}

/// The thread count rayon's global pool would start with by default.
fn default_threads() -> usize {
    match std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse::<usize>().ok()) {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn join_spinning_runs_each_half_once_and_passes_on_a_panic() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        for _ in 0..200 {
            let (mut x, mut y) = (0, 0);
            pool.install(|| super::join_spinning(|| x += 1, || y += 1));
            assert_eq!((x, y), (1, 1));
        }
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| super::join_spinning(|| {}, || panic!("half b")))
        }));
        assert!(panicked.is_err());
    }
}
