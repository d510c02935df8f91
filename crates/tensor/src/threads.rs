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
//! work queued on the pool, as any rayon worker does. Nothing changes when
//! the program built the global pool itself, or used it, before Strata's
//! first parallel op, when the pool would have one thread, or when
//! `STRATA_JOIN_POOL=0` is set; other threads are never joined.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set once the main thread has tried to join (whatever the outcome).
static TRIED: AtomicBool = AtomicBool::new(false);

/// The number of threads a parallel op on this thread would use, after
/// letting the main thread join rayon's global pool (see the module docs).
/// Every parallel op in Strata asks this before it forks.
pub fn current_num_threads() -> usize {
    if rayon::current_thread_index().is_none() && !TRIED.load(Ordering::Relaxed) {
        join_as_main();
    }
    rayon::current_num_threads()
}

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
    let _ = rayon::ThreadPoolBuilder::new().use_current_thread().build_global();
}

/// The thread count rayon's global pool would start with by default.
fn default_threads() -> usize {
    match std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse::<usize>().ok()) {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}
