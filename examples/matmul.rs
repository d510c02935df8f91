//! Multiplies two random square matrices and prints the achieved GFLOP/s.
//!
//! ```text
//! cargo run --release --example matmul -- 1024
//! cargo run --release --example matmul -- 512 --reps 50
//! ```

mod common;

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use rand::rngs::StdRng;
use rand::SeedableRng;
use strata::tensor::Tensor;

/// Time one f32 matrix product of two random n×n matrices and print its
/// GFLOP/s, the micro-kernel this CPU runs and the thread count
/// (RAYON_NUM_THREADS sets it).
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// Matrix size n.
    #[arg(default_value_t = 1024, value_parser = common::positive)]
    pub n: usize,
    /// Timed repetitions after one warm-up product (default: about 2 GFLOP in all, 3 to 200).
    #[arg(long, value_parser = common::positive)]
    pub reps: Option<usize>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let n = args.n;
    let mut rng = StdRng::seed_from_u64(0);
    let a = Tensor::<f32>::rand_uniform([n, n], -1.0, 1.0, &mut rng);
    let b = Tensor::<f32>::rand_uniform([n, n], -1.0, 1.0, &mut rng);
    let _ = a.matmul(&b); // warm-up: page in, spin up the thread pool
    let reps = args.reps.unwrap_or_else(|| ((2e9 / (2.0 * (n as f64).powi(3))) as usize).clamp(3, 200));
    let start = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(a.matmul(&b));
    }
    let secs = start.elapsed().as_secs_f64() / reps as f64;
    let gflops = 2.0 * (n as f64).powi(3) / secs / 1e9;
    common::outln!(
        "f32 matmul {n}x{n}: {:.3} ms, {gflops:.1} GFLOP/s (kernel {}, {} threads)",
        secs * 1e3,
        Tensor::<f32>::matmul_kernel_name(),
        rayon::current_num_threads()
    );
    ExitCode::SUCCESS
}
