//! Each optimizer's first three updates against the documented rule, worked
//! by hand for one parameter `θ₀ = 1` under the constant gradient
//! `g(θ) = θ + 1` (so the gradient changes as θ moves; d/dθ of ½θ² + θ).

use strata_autograd::Tape;
use strata_nn::optim::{Adagrad, Adam, AdamW, GradAccumulator, Optimizer, RmsProp, Sgd};
use strata_nn::{Linear, Module, Param, ParamTape};
use strata_tensor::Tensor;

/// A one-parameter model: `loss = ½θ² + θ`.
struct One {
    theta: Param<f64>,
}

impl Module<f64> for One {
    fn forward<'t>(&self, tape: &'t Tape<f64>, _x: strata_autograd::Var<'t, f64>) -> strata_autograd::Var<'t, f64> {
        let t = tape.param(&self.theta);
        (t.square().mul_scalar(0.5) + t).sum()
    }
    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param<f64>)) {
        f("theta", &self.theta);
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param<f64>)) {
        f("theta", &mut self.theta);
    }
}

fn run(opt: &mut dyn Optimizer<f64>, steps: usize) -> Vec<f64> {
    let mut m = One { theta: Param::new(Tensor::from_vec(vec![1.0], [1]).unwrap()) };
    let mut out = Vec::new();
    for _ in 0..steps {
        let tape = Tape::new();
        let loss = m.forward(&tape, tape.constant(Tensor::zeros([1])));
        opt.step(&mut m, &loss.backward());
        out.push(m.theta.value().item());
    }
    out
}

fn close(got: &[f64], want: &[f64]) {
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "got {got:?}, want {want:?}");
    }
}

/// The rule applied by hand: returns θ after each of three steps.
fn by_hand(mut update: impl FnMut(usize, f64, f64) -> f64) -> Vec<f64> {
    let mut theta = 1.0;
    (1..=3)
        .map(|t| {
            theta = update(t, theta, theta + 1.0);
            theta
        })
        .collect()
}

#[test]
fn sgd_plain_momentum_nesterov_weight_decay() {
    // plain: θ ← θ − 0.1·g
    close(&run(&mut Sgd::new(0.1), 3), &by_hand(|_, th, g| th - 0.1 * g));
    // momentum 0.9: b₁ = g, bₜ = 0.9b + g
    let mut b = 0.0;
    let want = by_hand(|t, th, g| {
        b = if t == 1 { g } else { 0.9 * b + g };
        th - 0.1 * b
    });
    close(&run(&mut Sgd::new(0.1).momentum(0.9), 3), &want);
    // Nesterov: step = g + 0.9·b
    let mut b = 0.0;
    let want = by_hand(|t, th, g| {
        b = if t == 1 { g } else { 0.9 * b + g };
        th - 0.1 * (g + 0.9 * b)
    });
    close(&run(&mut Sgd::new(0.1).momentum(0.9).nesterov(true), 3), &want);
    // weight decay 0.5 and dampening 0.2: g ← g + 0.5θ, bₜ = 0.9b + 0.8g
    let mut b = 0.0;
    let want = by_hand(|t, th, g| {
        let g = g + 0.5 * th;
        b = if t == 1 { g } else { 0.9 * b + 0.8 * g };
        th - 0.1 * b
    });
    close(&run(&mut Sgd::new(0.1).momentum(0.9).dampening(0.2).weight_decay(0.5), 3), &want);
}

#[test]
fn adam_bias_correction_and_l2() {
    let (b1, b2, eps, lr) = (0.9f64, 0.999f64, 1e-8, 0.01);
    let (mut m, mut v) = (0.0, 0.0);
    let want = by_hand(|t, th, g| {
        let g = g + 0.1 * th;
        m = b1 * m + (1.0 - b1) * g;
        v = b2 * v + (1.0 - b2) * g * g;
        let (mh, vh) = (m / (1.0 - b1.powi(t as i32)), v / (1.0 - b2.powi(t as i32)));
        th - lr * mh / (vh.sqrt() + eps)
    });
    close(&run(&mut Adam::new(lr).weight_decay(0.1), 3), &want);
    // The first Adam step moves by almost exactly lr, whatever the gradient's scale.
    assert!((run(&mut Adam::new(lr), 1)[0] - (1.0 - lr)).abs() < 1e-8);
}

#[test]
fn adamw_decouples_weight_decay() {
    let (b1, b2, eps, lr, wd) = (0.9f64, 0.999f64, 1e-8, 0.01, 0.1);
    let (mut m, mut v) = (0.0, 0.0);
    let want = by_hand(|t, th, g| {
        let th = th * (1.0 - lr * wd);
        m = b1 * m + (1.0 - b1) * g;
        v = b2 * v + (1.0 - b2) * g * g;
        let (mh, vh) = (m / (1.0 - b1.powi(t as i32)), v / (1.0 - b2.powi(t as i32)));
        th - lr * mh / (vh.sqrt() + eps)
    });
    close(&run(&mut AdamW::new(lr).weight_decay(wd), 3), &want);
    assert_eq!(AdamW::new(1e-3).rule().0.weight_decay, 0.01, "PyTorch's AdamW default");
}

#[test]
fn rmsprop_plain_centered_momentum() {
    let (a, eps, lr) = (0.99f64, 1e-8, 0.01);
    let mut v = 0.0;
    close(
        &run(&mut RmsProp::new(lr), 3),
        &by_hand(|_, th, g| {
            v = a * v + (1.0 - a) * g * g;
            th - lr * g / (v.sqrt() + eps)
        }),
    );
    let (mut v, mut ga, mut b) = (0.0, 0.0, 0.0);
    close(
        &run(&mut RmsProp::new(lr).centered(true).momentum(0.5), 3),
        &by_hand(|_, th, g| {
            v = a * v + (1.0 - a) * g * g;
            ga = a * ga + (1.0 - a) * g;
            b = 0.5 * b + g / ((v - ga * ga).sqrt() + eps);
            th - lr * b
        }),
    );
}

#[test]
fn adagrad_with_lr_decay() {
    let (lr, decay, eps) = (0.1f64, 0.5, 1e-10);
    let mut s = 0.25;
    close(
        &run(&mut Adagrad::new(lr).lr_decay(decay).initial_accumulator_value(0.25), 3),
        &by_hand(|t, th, g| {
            s += g * g;
            th - lr / (1.0 + (t - 1) as f64 * decay) * g / (s.sqrt() + eps)
        }),
    );
}

#[test]
fn clipping_scales_by_the_global_norm() {
    // g = 2 at θ = 1; clip to 0.5: step = 0.1 · 2 · 0.5/(2 + 1e-6).
    let got = run(&mut Sgd::new(0.1).clip_grad_norm(0.5), 1)[0];
    assert!((got - (1.0 - 0.1 * 2.0 * 0.5 / (2.0 + 1e-6))).abs() < 1e-12);
}

#[test]
fn frozen_params_and_accumulated_gradients() {
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
    let mut model = Linear::<f64>::new_typed(3, 2, &mut rng);
    assert_eq!(model.freeze("bias"), 1);
    let x = Tensor::<f64>::rand_normal([4, 3], 0.0, 1.0, &mut rng);
    let (w0, b0) = (model.weight.value().clone(), model.bias.as_ref().unwrap().value().clone());
    // Two half-batches accumulated = one full batch, for a sum loss.
    let mut acc = GradAccumulator::new();
    for half in [x.narrow(0, 0, 2), x.narrow(0, 2, 2)] {
        let tape = Tape::new();
        let loss = model.forward(&tape, tape.constant(half)).square().sum();
        let grads = loss.backward();
        assert!(grads.by_tag(model.bias.as_ref().unwrap().id()).is_none(), "frozen: no gradient computed");
        acc.accumulate(&model, &grads);
    }
    let tape = Tape::new();
    let full = model.forward(&tape, tape.constant(x)).square().sum().backward();
    let whole = full.by_tag(model.weight.id()).unwrap();
    assert!(strata_nn::optim::GradSource::grad(&acc, &model.weight).unwrap().allclose(whole, 1e-12, 1e-12));
    let mut opt = Sgd::new(0.1);
    opt.step(&mut model, &acc);
    assert_eq!(model.bias.as_ref().unwrap().value().to_vec(), b0.to_vec(), "frozen: not updated");
    assert!(model.weight.value().allclose(&w0.sub(&whole.mul_scalar(0.1)), 1e-12, 1e-12));
}

#[test]
fn optimizer_state_round_trips() {
    let mut a = Adam::new(0.01);
    let mut m = One { theta: Param::new(Tensor::from_vec(vec![1.0], [1]).unwrap()) };
    let step = |opt: &mut Adam, m: &mut One| {
        let tape = Tape::new();
        let loss = m.forward(&tape, tape.constant(Tensor::zeros([1])));
        opt.step(m, &loss.backward());
    };
    step(&mut a, &mut m);
    step(&mut a, &mut m);
    let saved = a.state_tensors(&m);
    let names: Vec<&str> = saved.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["theta.step", "theta.exp_avg", "theta.exp_avg_sq"]);
    let mut b = Adam::new(0.01);
    b.load_state_tensors(&m, &saved).unwrap();
    let mut m2 = One { theta: m.theta.clone() };
    step(&mut a, &mut m);
    step(&mut b, &mut m2);
    assert_eq!(m.theta.value().to_vec(), m2.theta.value().to_vec(), "restored state continues identically");
    let bad =
        vec![("theta.step".to_string(), Tensor::full([1], 2.0)), ("theta.exp_avg".to_string(), Tensor::zeros([3]))];
    let e = b.load_state_tensors(&m, &bad).unwrap_err().to_string();
    assert!(e.contains("theta.exp_avg"), "{e}");
}
