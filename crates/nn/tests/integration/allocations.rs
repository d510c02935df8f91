//! Training does not leak: the count of live heap allocations is the same
//! before and after 10,000 steps. The binary's global allocator counts
//! allocations per thread, so the other tests of this binary, running on
//! their own threads, do not disturb the count. (It was a test binary of
//! its own: 13 s of `cargo test`'s compile time.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::{Activation, Tape};
use strata_nn::optim::Adam;
use strata_nn::{Mlp, Module};
use strata_tensor::Tensor;

/// The system allocator, counting each thread's live allocations (those it
/// made less those it freed).
struct Counting;

thread_local! {
    // Const-initialised and without a destructor: reading it never
    // allocates, so the allocator may use it.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = LIVE.try_with(|c| c.set(c.get() + delta));
}

fn live() -> isize {
    LIVE.with(Cell::get)
}

// SAFETY: every call is forwarded to `System` unchanged; the counter is the
// only addition.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(1);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-1);
        // SAFETY: as above, for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

#[test]
fn live_allocations_are_flat_over_ten_thousand_steps() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut model = Mlp::new(&[2, 8, 1], Activation::Tanh, &mut rng);
    let mut opt = Adam::new(0.05);
    let x = Tensor::from_vec(vec![0.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], [4, 2]).unwrap();
    let y = Tensor::from_vec(vec![0.0f32, 1.0, 1.0, 0.0], [4, 1]).unwrap();
    let mut step = || {
        let tape = Tape::new();
        let grads = model.forward(&tape, tape.constant(x.clone())).bce_with_logits(&y).backward();
        drop(tape);
        opt.step(&mut model, &grads);
    };
    // Warm up: the optimizer's state and the tape's recycled buffers are
    // allocated once, in the first steps.
    for _ in 0..100 {
        step();
    }
    let before = live();
    for _ in 0..10_000 {
        step();
    }
    let after = live();
    assert_eq!(before, after, "live allocations: {before} before, {after} after 10,000 steps");
}
