//! Runs one Strata training workload of `benches/training.rs` for a fixed
//! number of steps and prints the median time per step, so whole processes
//! can be paired by an outside timer (`farm-bench`) or profiled (`perf`):
//!
//! ```text
//! cargo build --release -p strata-bench --bin step_figures
//! RAYON_NUM_THREADS=2 target/release/step_figures mnist-sgd 2000
//! ```
//! Workloads: `xor` (the 2-8-1 XOR net, 10,000 SGD steps per run, STEPS
//! runs, median printed), `xor-candle` (the same in candle, so
//! `farm-bench --vs` can pair the two processes), `xor-pair` (STEPS
//! pairs of one Strata and one candle run back to back in one process, so a
//! slow spell of a shared host hits both; prints each median and the median
//! of the pairs' ratios), `mnist-sgd`, `mnist-adamw` (784-256-128-10, batch 128),
//! `lite-sgd`, `lite-adamw` (64-128-10, batch 64), `products` (each matrix
//! product of the MNIST step alone, STEPS times: median and GFLOP/s),
//! `round-trip` (STEPS thousand round trips of a cache line between two
//! threads: on a 2-vCPU host, whether the vCPUs share a last-level cache,
//! which decides how far a 2-thread step scales). Each step is the loop a
//! user writes (a `Tape` per step, `cross_entropy`, `backward`, `opt.step`)
//! over 16 random batches in turn, like the criterion bench.
//! `STEP_IN_POOL=1` runs each step inside rayon's pool (`rayon::scope`), so
//! every parallel product is forked from a worker instead of being sent to
//! the pool from outside it and waited for.

use std::io::Write;
use std::time::Instant;

use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::Activation;
use strata_bench::{candle_xor_10k, classification_step, classification_tensors, xor_mlp_10k};
use strata_nn::optim::{AdamW, Optimizer, Sgd};
use strata_nn::Mlp;

fn main() {
    let workload = std::env::args().nth(1).unwrap_or_else(|| "mnist-sgd".into());
    let steps: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    if workload == "xor-pair" {
        return xor_pairs(steps);
    }
    if workload == "xor" || workload == "xor-candle" {
        return xor(steps, workload == "xor-candle");
    }
    if workload == "products" {
        return products(steps);
    }
    if workload == "round-trip" {
        return round_trip(steps);
    }
    let (sizes, batch): (&[usize], usize) = match workload.split('-').next() {
        Some("mnist") => (&[784, 256, 128, 10], 128),
        Some("lite") => (&[64, 128, 10], 64),
        _ => panic!("unknown workload {workload}: mnist-sgd, mnist-adamw, lite-sgd, lite-adamw"),
    };
    let mut opt: Box<dyn Optimizer<f32> + Send> = match workload.rsplit('-').next() {
        Some("sgd") => Box::new(Sgd::new(0.01)),
        Some("adamw") => Box::new(AdamW::new(1e-3)),
        _ => panic!("unknown optimizer in {workload}: sgd or adamw"),
    };
    let (inputs, classes) = (sizes[0], *sizes.last().unwrap());
    let data = classification_tensors(inputs, classes, batch);
    let mut model = Mlp::new(sizes, Activation::Relu, &mut StdRng::seed_from_u64(1));
    let mut times = Vec::with_capacity(steps);
    let in_pool = std::env::var_os("STEP_IN_POOL").is_some();
    for i in 0..steps {
        let t = Instant::now();
        let (x, labels) = &data[i % data.len()];
        let mut step = || {
            classification_step(&mut model, &mut *opt, x, labels);
        };
        if in_pool {
            rayon::scope(|_| step());
        } else {
            step();
        }
        times.push(t.elapsed().as_secs_f64());
    }
    if std::env::var_os("STEP_TRACE").is_some() {
        for (w, chunk) in times.chunks(200).enumerate() {
            let m = median(&mut chunk.to_vec());
            let _ = writeln!(std::io::stdout(), "steps {}..: median {:.1} us", w * 200, m * 1e6);
        }
    }
    // `median` sorts the steps after the first tenth: read the tenth
    // percentile off the same slice (a shared host's slow spells lengthen
    // the upper part, so the lower quantile moves less between runs).
    let timed = &mut times[steps / 10..];
    let median = median(timed);
    let p10 = timed[timed.len() / 10];
    let _ = writeln!(
        std::io::stdout(),
        "{workload}: {steps} steps, median {:.1} us a step, p10 {:.1} us (threads {})",
        median * 1e6,
        p10 * 1e6,
        rayon::current_num_threads()
    );
}

/// The XOR workload of `benches/training.rs`: a fresh 2 → 8 (tanh) → 1
/// (sigmoid) model trained for 10,000 full-batch SGD steps, `runs` times.
fn xor(runs: usize, candle: bool) {
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        if candle {
            std::hint::black_box(candle_xor_10k());
        } else {
            std::hint::black_box(xor_mlp_10k());
        }
        times.push(t.elapsed().as_secs_f64());
    }
    let who = if candle { "xor-candle" } else { "xor" };
    let _ = writeln!(std::io::stdout(), "{who}: median {:.2} ms for 10,000 steps", median(&mut times) * 1e3);
}

/// `pairs` XOR runs of Strata and candle, each pair back to back: the
/// medians of both and the median of candle ÷ Strata over the pairs.
fn xor_pairs(pairs: usize) {
    let time = |f: &dyn Fn()| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64()
    };
    let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..pairs.max(1) {
        let s = time(&|| drop(std::hint::black_box(xor_mlp_10k())));
        let c = time(&|| drop(std::hint::black_box(candle_xor_10k())));
        ours.push(s);
        theirs.push(c);
        ratios.push(c / s);
    }
    let (s, c, r) = (median(&mut ours), median(&mut theirs), median(&mut ratios));
    let _ = writeln!(
        std::io::stdout(),
        "xor-pair: {pairs} pairs, median strata {:.2} ms, candle {:.2} ms, median ratio {r:.2}x",
        s * 1e3,
        c * 1e3
    );
}

/// Each matrix product of one MNIST step (784-256-128-10, batch 128), as
/// the step runs it (`x·Wᵀ + b`, `dy·W`, `dyᵀ·x`), timed alone `reps`
/// times in a row: its median in µs and GFLOP/s at this thread count, so
/// the 1- and 2-thread rates of each product can be set side by side.
fn products(reps: usize) {
    use strata_tensor::Tensor;
    let mut rng = StdRng::seed_from_u64(3);
    let rand = |dims: &[usize], rng: &mut StdRng| Tensor::<f32>::rand_normal(dims, 0.0, 1.0, rng);
    let (b, sizes) = (128, [784, 256, 128, 10]);
    let mut total = 0.0;
    for l in 0..3 {
        let (i, o) = (sizes[l], sizes[l + 1]);
        let (x, w, bias, g) =
            (rand(&[b, i], &mut rng), rand(&[o, i], &mut rng), rand(&[o], &mut rng), rand(&[b, o], &mut rng));
        type Product<'a> = (&'static str, Box<dyn Fn() -> Tensor<f32> + 'a>);
        let cases: [Product<'_>; 3] = [
            ("x·Wt+b", Box::new(|| x.linear(&w, Some(&bias)))),
            ("dy·W", Box::new(|| g.matmul(&w))),
            ("dyt·x", Box::new(|| g.t().matmul(&x))),
        ];
        for (name, f) in cases {
            if l == 0 && name == "dy·W" {
                continue; // the input needs no gradient
            }
            let mut times: Vec<f64> = (0..reps.max(1))
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(f());
                    t.elapsed().as_secs_f64()
                })
                .collect();
            let m = median(&mut times);
            total += m;
            let flop = 2.0 * (b * i * o) as f64;
            let _ = writeln!(
                std::io::stdout(),
                "layer {} {name:7} {:8.1} us {:6.1} GFLOP/s",
                l + 1,
                m * 1e6,
                flop / m * 1e-9
            );
        }
    }
    let _ =
        writeln!(std::io::stdout(), "all products {:.1} us (threads {})", total * 1e6, rayon::current_num_threads());
}

/// The median of `v` (sorted in place; the upper one of an even count).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Bounces one atomic between this thread and a second one, `thousands`
/// thousand times, and prints the median round trip of ten rounds: each
/// trip moves the cache line to the other core and back. Measured on 2-vCPU
/// Zen 2 hosts: 57 ns when the two shared a CCX (the MNIST step scaled
/// 1.80× to 2 threads), 390–590 ns when they did not (1.32×).
fn round_trip(thousands: usize) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let n = thousands.max(1) as u64 * 1000;
    let flag = std::sync::Arc::new(AtomicU64::new(0));
    let mut rounds = Vec::new();
    for _ in 0..10 {
        flag.store(0, Ordering::SeqCst);
        let other = std::sync::Arc::clone(&flag);
        let echo = std::thread::spawn(move || {
            for i in 0..n {
                while other.load(Ordering::Acquire) != 2 * i + 1 {
                    std::hint::spin_loop();
                }
                other.store(2 * i + 2, Ordering::Release);
            }
        });
        let t = Instant::now();
        for i in 0..n {
            flag.store(2 * i + 1, Ordering::Release);
            while flag.load(Ordering::Acquire) != 2 * i + 2 {
                std::hint::spin_loop();
            }
        }
        rounds.push(t.elapsed().as_secs_f64() * 1e9 / n as f64);
        echo.join().expect("the echo thread");
    }
    rounds.sort_by(f64::total_cmp);
    println!("round-trip: median {:.0} ns, fastest {:.0} ns ({n} trips a round, 10 rounds)", rounds[5], rounds[0]);
}
