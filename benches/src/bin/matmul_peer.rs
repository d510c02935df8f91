//! Runs one library's f32 square matmul `reps` times and prints GFLOP/s, so two
//! libraries can be timed as whole processes, alternately, by an outside timer:
//!
//! ```text
//! cargo run --release -p strata-bench --bin matmul_peer -- strata 1024 20
//! cargo run --release -p strata-bench --bin matmul_peer -- gemm 1024 20
//! ```
//! Libraries: `strata`, `gemm`, `matrixmultiply`. Threads: RAYON_NUM_THREADS.
//!
//! `all` instead runs the three in one process, in `rounds` rounds of `reps`
//! products each, in turn, and prints each one's median and best-tenth
//! round (GFLOP/s) and Strata's ratio to the better peer. On a host whose
//! speed drifts from minute to minute, a slow spell then hits all three:
//!
//! ```text
//! cargo run --release -p strata-bench --bin matmul_peer -- all 1024 2 20
//! ```
//!
//! `peak` prints this core's f32 FMA peak (AVX-512 and AVX2), the figure
//! "% of peak" is taken against; `stream KB ...` the rate at which one core
//! reads a buffer of each size again and again (the L2's rate while it
//! fits, then the L3's), the floor of batch-1 inference (`strata_bench::probe`):
//!
//! ```text
//! cargo run --release -p strata-bench --bin matmul_peer -- peak
//! cargo run --release -p strata-bench --bin matmul_peer -- stream 400 800 934 16384
//! ```

use std::time::Instant;

use strata_bench::{peer_sgemm, probe, random_vec, Peer};
use strata_tensor::Tensor;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let lib = args.get(1).map(String::as_str).unwrap_or("strata");
    if lib == "peak" {
        let (avx512, avx2) = probe::fma_peak();
        let show = |r: Option<f64>| r.map_or("not on this CPU".to_string(), |r| format!("{r:.1} GFLOP/s"));
        println!("f32 FMA peak of one core: avx512f {}, avx2+fma {}", show(avx512), show(avx2));
        return;
    }
    if lib == "stream" {
        for kb in args[2..].iter().filter_map(|s| s.parse::<usize>().ok()) {
            println!("one core reading {kb} KB again and again: {:.1} GB/s", probe::read_rate(kb << 10));
        }
        return;
    }
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1024);
    let reps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    // Strata's count (the main thread joins the pool, as in a Strata program).
    let threads = strata_tensor::threads::current_num_threads();
    // SAFETY: no other thread reads the environment yet.
    unsafe { std::env::set_var("MATMUL_NUM_THREADS", threads.to_string()) };
    let (a, b) = (random_vec(n * n, 1), random_vec(n * n, 2));
    let (ta, tb) = (Tensor::from_slice(&a, [n, n]).unwrap(), Tensor::from_slice(&b, [n, n]).unwrap());
    let mut out = vec![0.0f32; n * n];
    let mut run = |lib: &str| match lib {
        "strata" => {
            std::hint::black_box(ta.matmul(&tb));
        }
        "gemm" => peer_sgemm(Peer::Gemm, n, &a, &b, &mut out, threads),
        "matrixmultiply" => peer_sgemm(Peer::MatrixMultiply, n, &a, &b, &mut out, threads),
        other => panic!("unknown library {other}: use strata, gemm, matrixmultiply or all"),
    };
    let gflops = |secs: f64| 2.0 * (n as f64).powi(3) / secs / 1e9;
    if lib == "all" {
        let rounds: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(20);
        let libs = ["strata", "gemm", "matrixmultiply"];
        let mut times = vec![Vec::with_capacity(rounds); libs.len()];
        libs.iter().for_each(|l| run(l));
        for _ in 0..rounds.max(1) {
            for (l, t) in libs.iter().zip(&mut times) {
                let start = Instant::now();
                (0..reps).for_each(|_| run(l));
                t.push(start.elapsed().as_secs_f64() / reps as f64);
            }
        }
        // (median, best tenth) in GFLOP/s.
        let rates: Vec<(f64, f64)> = times
            .iter_mut()
            .map(|t| {
                t.sort_by(f64::total_cmp);
                (gflops(t[t.len() / 2]), gflops(t[t.len() / 10]))
            })
            .collect();
        let row: Vec<String> = libs.iter().zip(&rates).map(|(l, r)| format!("{l} {:.1} / {:.1}", r.0, r.1)).collect();
        let ratio = |f: fn(&(f64, f64)) -> f64| f(&rates[0]) / f(&rates[1]).max(f(&rates[2]));
        println!(
            "n={n} threads={threads}, GFLOP/s median / p10 rounds: {}; strata / better peer {:.2} / {:.2}",
            row.join(", "),
            ratio(|r| r.0),
            ratio(|r| r.1)
        );
        return;
    }
    run(lib);
    let start = Instant::now();
    for _ in 0..reps {
        run(lib);
    }
    let secs = start.elapsed().as_secs_f64() / reps as f64;
    println!("{lib} n={n} threads={threads}: {:.1} GFLOP/s", gflops(secs));
}
