//! Shared helpers for Strata's criterion benchmarks. The benches themselves
//! live in `benches/`; see `README.md` for how to run them and the results.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `len` seeded uniform values in `[-1, 1)`.
#[must_use]
pub fn random_vec(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..len).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect()
}
