//! Multiplies two random square matrices and prints the achieved GFLOP/s.
//!
//! ```text
//! cargo run --release --example matmul -- 1024
//! ```
use std::time::Instant;

use rand::rngs::StdRng;
use rand::SeedableRng;
use strata::tensor::Tensor;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1024);
    let mut rng = StdRng::seed_from_u64(0);
    let a = Tensor::<f32>::rand_uniform([n, n], -1.0, 1.0, &mut rng);
    let b = Tensor::<f32>::rand_uniform([n, n], -1.0, 1.0, &mut rng);
    let _ = a.matmul(&b); // warm-up: page in, spin up the thread pool
    let reps = std::env::var("MATMUL_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| (2_000_000_000 / (2 * n * n * n)).clamp(3, 200));
    let start = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(a.matmul(&b));
    }
    let secs = start.elapsed().as_secs_f64() / reps as f64;
    let gflops = 2.0 * (n as f64).powi(3) / secs / 1e9;
    println!(
        "f32 matmul {n}x{n}: {:.3} ms, {gflops:.1} GFLOP/s (kernel {}, {} threads)",
        secs * 1e3,
        Tensor::<f32>::matmul_kernel_name(),
        rayon::current_num_threads()
    );
}
