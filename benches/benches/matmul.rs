//! f32 square matmul, Strata against `matrixmultiply` (threading feature) and
//! `gemm`, side by side in one criterion group per size. Throughput is counted
//! as 2·n³ "elements", so criterion's `elem/s` column reads as FLOP/s.
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo bench -p strata-bench --bench matmul
//! RAYON_NUM_THREADS=2 cargo bench -p strata-bench --bench matmul
//! ```
//! The thread count of all three comes from RAYON_NUM_THREADS (matrixmultiply
//! reads MATMUL_NUM_THREADS, which is set from it before the first call).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use strata_bench::{peer_sgemm, random_vec, Peer};
use strata_tensor::Tensor;

fn threads() -> usize {
    std::env::var("RAYON_NUM_THREADS").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rayon::current_num_threads)
}

fn bench(c: &mut Criterion) {
    strata_bench::join_pool_first();
    let threads = threads();
    // SAFETY: set before any other thread of this process reads the environment.
    unsafe { std::env::set_var("MATMUL_NUM_THREADS", threads.to_string()) };
    eprintln!("strata kernel: {}, threads: {threads}", Tensor::<f32>::matmul_kernel_name());
    let sizes: Vec<usize> = std::env::var("MATMUL_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![64, 128, 256, 512, 1024, 2048]);
    for n in sizes {
        let mut group = c.benchmark_group(format!("matmul_f32_t{threads}"));
        group.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        group.sample_size(if n >= 1024 { 10 } else { 30 });
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(if n >= 1024 { 4 } else { 2 }));
        let a = random_vec(n * n, 1);
        let b = random_vec(n * n, 2);
        let (ta, tb) = (Tensor::from_slice(&a, [n, n]).unwrap(), Tensor::from_slice(&b, [n, n]).unwrap());
        group.bench_with_input(BenchmarkId::new("strata", n), &n, |bch, _| bch.iter(|| black_box(ta.matmul(&tb))));
        let mut out = vec![0.0f32; n * n];
        for (name, peer) in [("matrixmultiply", Peer::MatrixMultiply), ("gemm", Peer::Gemm)] {
            group.bench_with_input(BenchmarkId::new(name, n), &n, |bch, _| {
                bch.iter(|| {
                    peer_sgemm(peer, n, &a, &b, &mut out, threads);
                    black_box(&out);
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
