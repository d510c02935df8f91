//! Networks more than one example trains.

use strata::prelude::*;
use strata::rand::rngs::StdRng;

/// The LeNet-style CNN of `cnn_mnist` and `transfer`, `(N, 1, 28, 28)` in,
/// `classes` logits out: conv 3×3 (1 → 32) → relu → max-pool 2×2 → conv
/// 3×3 (32 → 64) → relu → max-pool 2×2 → flatten → dense 3136 → 128 (relu)
/// → `classes`. Its conv blocks are layers 0–5 (parameters `0.*`, `3.*`).
pub fn lenet(classes: usize, rng: &mut StdRng) -> Sequential {
    let same = ConvParams::default().padding(1);
    Sequential::new()
        .push(Conv2d::new(1, 32, 3, same, rng))
        .push(Activation::Relu)
        .push(MaxPool2d(Pool2d::new(2)))
        .push(Conv2d::new(32, 64, 3, same, rng))
        .push(Activation::Relu)
        .push(MaxPool2d(Pool2d::new(2)))
        .push(Flatten)
        .push(Dense::new(64 * 7 * 7, 128, Activation::Relu, rng))
        .push(Linear::new(128, classes, rng))
}
