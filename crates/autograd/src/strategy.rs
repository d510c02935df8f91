//! proptest strategies for property-testing gradients (feature `proptest`).
//!
//! ```
//! use proptest::prelude::*;
//! use strata_autograd::{gradcheck, strategy};
//!
//! proptest! {
//!     #![proptest_config(ProptestConfig::with_cases(8))]
//!     // In a test file, put #[test] here.
//!     fn my_layer_has_correct_gradients(
//!         x in strategy::tensor(vec![4, 3], -2.0..2.0),
//!         w in strategy::away_from_kinks(strategy::tensor(vec![5, 3], -1.0..1.0), vec![0.0], 1e-3),
//!     ) {
//!         gradcheck(|_, v| v[0].matmul(v[1].t()).tanh().mean(), &[x, w]).unwrap();
//!     }
//! }
//! # my_layer_has_correct_gradients();
//! ```

use std::ops::Range;

use proptest::prelude::*;
use strata_tensor::Tensor;

/// Shapes of rank `0..=max_rank` with every dimension in `1..=max_dim`.
pub fn shape(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1..=max_dim.max(1), 0..=max_rank)
}

/// f64 tensors of the given shape with values uniform in `range`.
pub fn tensor(shape: Vec<usize>, range: Range<f64>) -> impl Strategy<Value = Tensor<f64>> {
    let n: usize = shape.iter().product();
    prop::collection::vec(range, n).prop_map(move |v| Tensor::from_vec(v, shape.clone()).expect("length matches"))
}

/// f64 tensors of a random shape (see [`shape`]) with values in `range`.
pub fn any_tensor(max_rank: usize, max_dim: usize, range: Range<f64>) -> impl Strategy<Value = Tensor<f64>> {
    shape(max_rank, max_dim).prop_flat_map(move |s| tensor(s, range.clone()))
}

/// Two shapes that broadcast together (NumPy rules): one may have fewer
/// dimensions, and either may have 1 where the other does not.
pub fn broadcast_shapes(max_rank: usize, max_dim: usize) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shape(max_rank, max_dim).prop_flat_map(|full| {
        let r = full.len();
        (Just(full), 0..=r, 0..=r, prop::collection::vec(0u8..3, r)).prop_map(|(full, da, db, ones)| {
            // ones[i]: 0 = neither is 1, 1 = lhs is 1, 2 = rhs is 1.
            let a = (da..full.len()).map(|i| if ones[i] == 1 { 1 } else { full[i] }).collect();
            let b = (db..full.len()).map(|i| if ones[i] == 2 { 1 } else { full[i] }).collect();
            (a, b)
        })
    })
}

/// A pair of tensors of broadcast-compatible shapes with values in `range`.
pub fn broadcast_pair(
    max_rank: usize,
    max_dim: usize,
    range: Range<f64>,
) -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>)> {
    broadcast_shapes(max_rank, max_dim)
        .prop_flat_map(move |(a, b)| (tensor(a, range.clone()), tensor(b, range.clone())))
}

/// Values from `inner`, each moved at least `margin` away from every kink
/// (where a derivative jumps, e.g. 0 for ReLU), so finite differences never
/// straddle one.
pub fn away_from_kinks(
    inner: impl Strategy<Value = Tensor<f64>>,
    kinks: Vec<f64>,
    margin: f64,
) -> impl Strategy<Value = Tensor<f64>> {
    inner.prop_map(move |t| {
        t.map(|x| {
            let mut x = x;
            for &k in &kinks {
                if (x - k).abs() < margin {
                    x = if x >= k { k + margin } else { k - margin };
                }
            }
            x
        })
    })
}
