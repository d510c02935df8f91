//! The process's main thread joins rayon's global pool on its first
//! parallel op, and no other thread does (`strata_tensor::threads`). This
//! binary has no libtest harness so that its code runs on the main thread;
//! it panics (and so fails) on the first check that does not hold.

use strata_tensor::{threads, Tensor};

fn product(n: usize) -> Tensor<f32> {
    let a = Tensor::from_vec((0..n * n).map(|i| ((i * 7919 % 1013) as f32).sin()).collect(), [n, n]).unwrap();
    let b = Tensor::from_vec((0..n * n).map(|i| ((i * 104_729 % 2003) as f32).cos()).collect(), [n, n]).unwrap();
    a.matmul(&b.t())
}

fn main() {
    let threads_wanted = match std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse::<usize>().ok()) {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let opted_out = std::env::var("STRATA_JOIN_POOL").is_ok_and(|v| v == "0");
    assert!(!threads::in_pool(), "the main thread starts outside rayon's pool");

    // A small product runs on the caller and decides nothing.
    let _ = product(8);
    assert!(!threads::in_pool(), "a product too small to fork must not join the pool");

    // A product large enough to fork: the main thread joins (when it can).
    let big = product(300);
    let joins = threads_wanted >= 2 && !opted_out;
    assert_eq!(
        threads::in_pool(),
        joins,
        "main thread in the pool after a parallel product ({threads_wanted} threads)"
    );
    if joins {
        assert_eq!(rayon::current_thread_index(), Some(0), "the main thread is worker 0");
        assert_eq!(
            rayon::current_num_threads(),
            threads_wanted,
            "the pool counts the main thread as one of its threads"
        );
    }

    // The other workers stay awake for a while after parallel work, at most
    // one each, and then stop.
    assert!(threads::lingering_workers() < threads_wanted.max(1), "at most one lingering job a worker");
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(threads::lingering_workers(), 0, "workers stop lingering when no work comes");

    // Another thread never joins; its products go to the same pool and
    // give the same bits, as does a one-thread pool.
    let (other, other_in_pool) = std::thread::spawn(|| {
        let t = product(300);
        (t, threads::in_pool())
    })
    .join()
    .unwrap();
    assert!(!other_in_pool, "a spawned thread must not join the pool");
    let serial = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| product(300));
    let bits = |t: &Tensor<f32>| t.to_vec().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&big), bits(&other), "main-thread and spawned-thread products differ");
    assert_eq!(bits(&big), bits(&serial), "parallel and one-thread products differ");

    // The user's own rayon code still runs from the main thread.
    use rayon::prelude::*;
    let total: u64 = (0..10_000u64).into_par_iter().sum();
    assert_eq!(total, 49_995_000);
    println!("main thread: joined rayon's pool = {joins} ({threads_wanted} threads): all checks passed");
}
