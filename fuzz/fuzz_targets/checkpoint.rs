//! Checkpoint bytes into a small MLP, with and without optimizer state:
//! an Ok or a typed error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rand::{SeedableRng, rngs::StdRng};
use strata_autograd::Activation;
use strata_nn::{Mlp, checkpoint};

fuzz_target!(|bytes: &[u8]| {
    let mut model = Mlp::new(&[3, 4, 2], Activation::Tanh, &mut StdRng::seed_from_u64(0));
    let _ = checkpoint::load_from_bytes(bytes, &mut model);
});
