//! Counts the heap allocations of one steady-state training step, with a
//! counting global allocator (its own binary, so nothing else is counted):
//!
//! ```text
//! cargo run --release -p strata-bench --bin alloc_figures
//! ```
//! For each workload of `benches/training.rs` it runs 200 steps to warm up
//! (optimizer state, recycled tape and tensor buffers), then prints the
//! allocations and the bytes allocated per step over the next 200, and the
//! largest allocation seen.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::Activation;
use strata_bench::{classification_step, classification_tensors, xor_setup, xor_step};
use strata_nn::optim::{AdamW, Optimizer, Sgd};
use strata_nn::Mlp;

/// The system allocator, counting calls and bytes.
struct Counting;

static CALLS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counters are
// the only addition.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        CALLS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above, for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        CALLS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size, Ordering::Relaxed);
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: as above, for `realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Runs `step` 200 times to warm up, then prints what the next 200 allocate.
fn report(name: &str, mut step: impl FnMut(usize)) {
    for i in 0..200 {
        step(i);
    }
    let (calls, bytes) = (CALLS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed));
    LARGEST.store(0, Ordering::Relaxed);
    let steps = 200;
    for i in 0..steps {
        step(i);
    }
    let calls = (CALLS.load(Ordering::Relaxed) - calls) as f64 / steps as f64;
    let bytes = (BYTES.load(Ordering::Relaxed) - bytes) as f64 / steps as f64;
    let _ = writeln!(
        std::io::stdout(),
        "{name:24} {calls:6.1} allocations a step, {:8.1} KB a step, largest {} bytes (threads {})",
        bytes / 1024.0,
        LARGEST.load(Ordering::Relaxed),
        rayon::current_num_threads()
    );
}

fn main() {
    let (mut model, mut opt, x, y) = xor_setup();
    report("XOR step, SGD", |_| xor_step(&mut model, &mut opt, &x, &y));
    for (name, sizes, batch, adamw) in [
        ("MNIST step, SGD", &[784usize, 256, 128, 10][..], 128usize, false),
        ("MNIST step, AdamW", &[784, 256, 128, 10][..], 128, true),
        ("MNIST-lite step, SGD", &[64, 128, 10][..], 64, false),
        ("MNIST-lite step, AdamW", &[64, 128, 10][..], 64, true),
    ] {
        let (inputs, classes) = (sizes[0], *sizes.last().unwrap());
        let data = classification_tensors(inputs, classes, batch);
        let mut model = Mlp::new(sizes, Activation::Relu, &mut StdRng::seed_from_u64(1));
        let mut opt: Box<dyn Optimizer<f32>> =
            if adamw { Box::new(AdamW::new(1e-3)) } else { Box::new(Sgd::new(0.01)) };
        report(name, |i: usize| {
            let (x, labels) = &data[i % data.len()];
            classification_step(&mut model, &mut *opt, x, labels);
        });
    }
}
