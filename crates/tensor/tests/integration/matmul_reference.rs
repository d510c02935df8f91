//! `Tensor::matmul` through the public API against a naive triple loop in
//! f64, for random shapes with 1, odd and 0-sized dimensions and every
//! transposed layout; (A·B)ᵀ = Bᵀ·Aᵀ; and bit-identical results on 1 and 2
//! threads.

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use strata_tensor::Tensor;

fn naive(a: &Tensor<f64>, b: &Tensor<f64>) -> Vec<f64> {
    let (m, k, n) = (a.dims()[0], a.dims()[1], b.dims()[1]);
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a.get(&[i, p]) * b.get(&[p, j])).sum();
        }
    }
    c
}

/// An m × k tensor whose storage is either row-major or transposed.
fn matrix(m: usize, k: usize, transposed: bool, seed: u64) -> Tensor<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    if transposed {
        Tensor::rand_uniform([k, m], -1.0, 1.0, &mut rng).t()
    } else {
        Tensor::rand_uniform([m, k], -1.0, 1.0, &mut rng)
    }
}

fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![Just(0usize), Just(1usize), 2usize..40, 40usize..140]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn matches_naive(m in dim(), k in dim(), n in dim(), at: bool, bt: bool, seed in 0u64..1000) {
        let a = matrix(m, k, at, seed);
        let b = matrix(k, n, bt, seed + 1);
        let c = a.matmul(&b);
        prop_assert_eq!(c.dims(), &[m, n]);
        for (x, y) in c.to_vec().iter().zip(naive(&a, &b)) {
            prop_assert!((x - y).abs() <= 1e-12 * (1.0 + y.abs()) * (k as f64 + 1.0), "{} vs {}", x, y);
        }
        // The same product in f32 stays close to the f64 reference.
        let c32 = a.cast::<f32>().matmul(&b.cast::<f32>());
        for (x, y) in c32.to_vec().iter().zip(naive(&a, &b)) {
            prop_assert!((f64::from(*x) - y).abs() <= 1e-5 * (k as f64 + 1.0), "{} vs {}", x, y);
        }
    }

    #[test]
    fn transpose_of_product(m in 1usize..70, k in 1usize..70, n in 1usize..70, seed in 0u64..1000) {
        let a = matrix(m, k, false, seed);
        let b = matrix(k, n, false, seed + 7);
        let left = a.matmul(&b).t().contiguous();
        let right = b.t().matmul(&a.t());
        prop_assert!(left.allclose(&right, 1e-12, 1e-12));
    }

    #[test]
    fn batched_matches_per_batch(batch in 1usize..5, m in 1usize..20, k in 1usize..20, n in 1usize..20, seed in 0u64..100) {
        let mut rng = StdRng::seed_from_u64(seed);
        let a = Tensor::<f64>::rand_uniform([batch, m, k], -1.0, 1.0, &mut rng);
        let b = Tensor::<f64>::rand_uniform([batch, k, n], -1.0, 1.0, &mut rng);
        let shared = Tensor::<f64>::rand_uniform([k, n], -1.0, 1.0, &mut rng);
        let c = a.matmul(&b);
        let cs = a.matmul(&shared);
        for i in 0..batch {
            let ai = a.narrow(0, i, 1).squeeze(0);
            prop_assert_eq!(c.narrow(0, i, 1).squeeze(0).to_vec(), ai.matmul(&b.narrow(0, i, 1).squeeze(0)).to_vec());
            prop_assert_eq!(cs.narrow(0, i, 1).squeeze(0).to_vec(), ai.matmul(&shared).to_vec());
        }
    }
}

#[test]
fn bit_identical_on_one_and_two_threads() {
    let mut rng = StdRng::seed_from_u64(5);
    let a = Tensor::<f32>::rand_uniform([257, 300], -1.0, 1.0, &mut rng);
    let b = Tensor::<f32>::rand_uniform([190, 300], -1.0, 1.0, &mut rng);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| (a.matmul(&b.t()), a.exp().sum_axis(0, false), a.mul(&a).sum_all()))
    };
    let (c1, s1, t1) = run(1);
    let (c2, s2, t2) = run(2);
    let bits = |t: &Tensor<f32>| t.to_vec().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&c1), bits(&c2));
    assert_eq!(bits(&s1), bits(&s2));
    assert_eq!(t1.to_bits(), t2.to_bits());
}
