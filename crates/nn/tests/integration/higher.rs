//! Higher-order gradients in a model's parameters: the Hessian-vector
//! product of a CNN with batch norm equals finite differences of its
//! gradient along the direction, and ⟨w, H·v⟩ = ⟨v, H·w⟩.

use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::{Activation, Tape};
use strata_nn::{hvp_params, BatchNorm2d, Conv2d, Flatten, Linear, Module, Sequential};
use strata_tensor::{ConvParams, Tensor};

fn net(rng: &mut StdRng) -> Sequential<f64> {
    Sequential::new()
        .push(Conv2d::new_typed(1, 2, 3, ConvParams::default().padding(1), rng))
        .push(BatchNorm2d::new_typed(2))
        .push(Activation::Tanh)
        .push(Flatten)
        .push(Linear::new_typed(2 * 4 * 4, 3, rng))
}

fn loss<'t>(tape: &'t Tape<f64>, m: &Sequential<f64>, x: &Tensor<f64>) -> strata_autograd::Var<'t, f64> {
    m.forward(tape, tape.constant(x.clone())).cross_entropy(&[0, 2, 1, 2])
}

fn dot(a: &[Tensor<f64>], b: &[Tensor<f64>]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x.to_vec().iter().zip(y.to_vec()).map(|(p, q)| p * q).sum::<f64>()).sum()
}

#[test]
fn hvp_of_a_cnn_with_batch_norm_is_the_finite_difference_of_its_gradient() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut model = net(&mut rng);
    let x = Tensor::rand_normal([4, 1, 4, 4], 0.0, 1.0, &mut rng);
    let dirs = |seed: u64| -> Vec<Tensor<f64>> {
        let mut r = StdRng::seed_from_u64(seed);
        model
            .named_params()
            .iter()
            .map(|(_, p)| Tensor::rand_normal(p.value().shape().clone(), 0.0, 1.0, &mut r))
            .collect()
    };
    let (v, w) = (dirs(10), dirs(11));
    let (_, hv) = hvp_params(&model, |t, m| loss(t, m, &x), &v).unwrap();
    let (_, hw) = hvp_params(&model, |t, m| loss(t, m, &x), &w).unwrap();
    let (a, b) = (dot(&w, &hv), dot(&v, &hw));
    assert!((a - b).abs() < 1e-10 * (1.0 + a.abs()), "⟨w, Hv⟩ = {a}, ⟨v, Hw⟩ = {b}");

    // Finite differences of the first-order gradient along v.
    let base: Vec<Tensor<f64>> = model.named_params().iter().map(|(_, p)| p.value().clone()).collect();
    let grad_at = |model: &mut Sequential<f64>, step: f64| -> Vec<Tensor<f64>> {
        let mut i = 0;
        model.visit_params_mut(&mut |_, p| {
            p.set(base[i].add(&v[i].mul_scalar(step)));
            i += 1;
        });
        let tape = Tape::new();
        let g = loss(&tape, model, &x).backward();
        model.named_params().iter().map(|(_, p)| g.of(p).unwrap().clone()).collect()
    };
    let eps = 1e-5;
    let (up, down) = (grad_at(&mut model, eps), grad_at(&mut model, -eps));
    for ((u, d), h) in up.iter().zip(&down).zip(&hv) {
        for ((u, d), h) in u.to_vec().iter().zip(d.to_vec()).zip(h.to_vec()) {
            let fd = (u - d) / (2.0 * eps);
            assert!((h - fd).abs() < 1e-6 * (1.0 + fd.abs()), "Hv {h} vs finite difference {fd}");
        }
    }
}
