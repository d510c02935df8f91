//! Runs one library's f32 square matmul `reps` times and prints GFLOP/s, so two
//! libraries can be timed as whole processes, alternately, by an outside timer:
//!
//! ```text
//! cargo run --release -p strata-bench --bin matmul_peer -- strata 1024 20
//! cargo run --release -p strata-bench --bin matmul_peer -- gemm 1024 20
//! ```
//! Libraries: `strata`, `gemm`, `matrixmultiply`. Threads: RAYON_NUM_THREADS.

use std::time::Instant;

use strata_bench::{peer_sgemm, random_vec, Peer};
use strata_tensor::Tensor;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let lib = args.get(1).map(String::as_str).unwrap_or("strata");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1024);
    let reps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    // Strata's count (the main thread joins the pool, as in a Strata program).
    let threads = strata_tensor::threads::current_num_threads();
    // SAFETY: no other thread reads the environment yet.
    unsafe { std::env::set_var("MATMUL_NUM_THREADS", threads.to_string()) };
    let (a, b) = (random_vec(n * n, 1), random_vec(n * n, 2));
    let (ta, tb) = (Tensor::from_slice(&a, [n, n]).unwrap(), Tensor::from_slice(&b, [n, n]).unwrap());
    let mut out = vec![0.0f32; n * n];
    let mut run = || match lib {
        "strata" => {
            std::hint::black_box(ta.matmul(&tb));
        }
        "gemm" => peer_sgemm(Peer::Gemm, n, &a, &b, &mut out, threads),
        "matrixmultiply" => peer_sgemm(Peer::MatrixMultiply, n, &a, &b, &mut out, threads),
        other => panic!("unknown library {other}: use strata, gemm or matrixmultiply"),
    };
    run();
    let start = Instant::now();
    for _ in 0..reps {
        run();
    }
    let secs = start.elapsed().as_secs_f64() / reps as f64;
    println!("{lib} n={n} threads={threads}: {:.1} GFLOP/s", 2.0 * (n as f64).powi(3) / secs / 1e9);
}
