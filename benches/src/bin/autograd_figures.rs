//! Prints the two autograd figures once, for a quick look without criterion:
//! `cargo run --release -p strata-bench --bin autograd_figures`.

use std::io::Write;
use std::time::Instant;

use strata_bench::{tape_chain, xor_train, xor_train_linear};

/// `println!` that stops quietly when stdout is closed (`... | head`)
/// instead of panicking on the broken pipe.
macro_rules! say {
    ($($arg:tt)*) => {
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    };
}

fn main() {
    // `autograd_figures xor [STEPS]` runs only the XOR loop, a few times (for
    // profiling; a small STEPS suits valgrind's instruction counts).
    if std::env::args().nth(1).as_deref() == Some("xor-linear") {
        let steps = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
        for _ in 0..5 {
            let t = Instant::now();
            let loss = xor_train_linear(steps, 1.0);
            say!("xor (linear): {steps} SGD steps in {:.1} ms, final loss {loss:.5}", t.elapsed().as_secs_f64() * 1e3);
        }
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("xor") {
        let steps = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
        for _ in 0..5 {
            let t = Instant::now();
            let loss = xor_train(steps, 1.0);
            say!("xor: {steps} SGD steps in {:.1} ms, final loss {loss:.5}", t.elapsed().as_secs_f64() * 1e3);
        }
        return;
    }
    // `autograd_figures tape [REPS]` runs only the 1,000-op chain, REPS times.
    if std::env::args().nth(1).as_deref() == Some("tape") {
        let reps: u32 = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(tape_chain(1000));
        }
        let per_op = t.elapsed().as_secs_f64() / (f64::from(reps) * 1000.0);
        say!("tape: {:.0} ns per elementwise op (forward + backward)", per_op * 1e9);
        return;
    }
    let reps = 2000;
    let _ = tape_chain(1000);
    let t = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(tape_chain(1000));
    }
    let per_op = t.elapsed().as_secs_f64() / (reps * 1000) as f64;
    say!("tape: {:.0} ns per elementwise op (forward + backward)", per_op * 1e9);
    let t = Instant::now();
    let loss = xor_train(10_000, 1.0);
    say!("xor: 10,000 SGD steps in {:.1} ms, final loss {loss:.5}", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let loss = xor_train_linear(10_000, 1.0);
    say!("xor (linear op): 10,000 SGD steps in {:.1} ms, final loss {loss:.5}", t.elapsed().as_secs_f64() * 1e3);
}
