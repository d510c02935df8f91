//! Broadcasting binary ops against a naive reference that indexes every
//! element by hand, for random compatible shapes (including views).

use proptest::prelude::*;
use strata_tensor::Tensor;

/// Two broadcast-compatible shapes: start from an output shape, then for each
/// operand drop some leading dims and set some others to 1.
fn compatible_shapes() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec(1usize..5, 0..4).prop_flat_map(|out| {
        let r = out.len();
        (Just(out), 0..=r, 0..=r, prop::collection::vec(any::<bool>(), r), prop::collection::vec(any::<bool>(), r))
            .prop_map(|(out, da, db, ma, mb)| {
                let a: Vec<usize> = (da..out.len()).map(|i| if ma[i] { 1 } else { out[i] }).collect();
                let b: Vec<usize> = (db..out.len()).map(|i| if mb[i] { 1 } else { out[i] }).collect();
                (a, b)
            })
    })
}

fn value(t: &[f64], dims: &[usize], out_index: &[usize]) -> f64 {
    // Align right; a dim of 1 repeats.
    let lead = out_index.len() - dims.len();
    let mut pos = 0;
    for (i, &d) in dims.iter().enumerate() {
        let ix = if d == 1 { 0 } else { out_index[lead + i] };
        pos = pos * d + ix;
    }
    t[pos]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn binary_ops_match_naive_broadcast((sa, sb) in compatible_shapes(), seed in 0u64..1000, transpose_a: bool) {
        let na: usize = sa.iter().product();
        let nb: usize = sb.iter().product();
        let av: Vec<f64> = (0..na).map(|i| ((i as u64 * 37 + seed) % 11) as f64 - 5.0).collect();
        let bv: Vec<f64> = (0..nb).map(|i| ((i as u64 * 13 + seed) % 7) as f64 + 1.0).collect();
        let mut a = Tensor::from_vec(av.clone(), sa.clone()).unwrap();
        if transpose_a && sa.len() >= 2 {
            // Same logical values, read through transposed strides.
            let r = sa.len();
            let mut swapped = sa.clone();
            swapped.swap(r - 2, r - 1);
            let stored = a.transpose(-2, -1).to_vec();
            a = Tensor::from_vec(stored, swapped).unwrap().transpose(-2, -1);
            prop_assert!(!a.is_contiguous() || sa[r - 1] == 1 || sa[r - 2] == 1);
        }
        let b = Tensor::from_vec(bv.clone(), sb.clone()).unwrap();
        let out = a.add(&b);
        let prod = a.mul(&b);
        let quot = a.div(&b);
        let out_dims = out.dims().to_vec();
        let reference = Tensor::<f64>::from_fn(out_dims.clone(), |ix| value(&av, &sa, ix) + value(&bv, &sb, ix));
        prop_assert_eq!(out.to_vec(), reference.to_vec());
        let reference = Tensor::<f64>::from_fn(out_dims.clone(), |ix| value(&av, &sa, ix) * value(&bv, &sb, ix));
        prop_assert_eq!(prod.to_vec(), reference.to_vec());
        let reference = Tensor::<f64>::from_fn(out_dims, |ix| value(&av, &sa, ix) / value(&bv, &sb, ix));
        prop_assert_eq!(quot.to_vec(), reference.to_vec());
        // Broadcasting is symmetric in shape.
        let flipped = b.sub(&a);
        prop_assert_eq!(flipped.dims(), out.dims());
    }
}

#[test]
fn large_broadcast_runs_in_parallel_and_matches() {
    let a = Tensor::<f32>::from_fn([600, 500], |ix| (ix[0] * 3 + ix[1]) as f32);
    let row = Tensor::<f32>::from_fn([500], |ix| ix[0] as f32);
    let out = a.add(&row);
    assert_eq!(out.get(&[599, 499]), (599 * 3 + 499 + 499) as f32);
    assert_eq!(out.get(&[123, 7]), (123 * 3 + 7 + 7) as f32);
    let col = a.sum_axis(1, true);
    assert_eq!(col.dims(), &[600, 1]);
    assert_eq!(a.t().sum_axis(0, false).to_vec(), col.squeeze(1).to_vec());
}
