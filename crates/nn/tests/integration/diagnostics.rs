//! Layer diagnostics find what they claim to find.

use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::{Activation, Tape};
use strata_nn::diagnostics::{Trace, Warning};
use strata_nn::optim::Sgd;
use strata_nn::{Dense, Dist, Init, Mlp, Module};
use strata_tensor::Tensor;

#[test]
fn a_relu_layer_with_a_large_negative_bias_is_reported_dead() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut model = Mlp::new(&[8, 32, 32, 4], Activation::Relu, &mut rng);
    let b = model.layers[1].linear.bias.as_mut().unwrap();
    b.set(Tensor::full([32], -100.0));
    let tape = Tape::new();
    let mut trace = Trace::new();
    let x = tape.constant(Tensor::rand_normal([64, 8], 0.0, 1.0, &mut rng));
    let loss = model.forward_traced(&tape, x, &mut trace).cross_entropy(&[1; 64]);
    let report = trace.report(&loss.backward());
    assert_eq!(report.layer("layers.1").unwrap().dead_fraction, Some(1.0));
    assert!(report.layer("layers.0").unwrap().dead_fraction.unwrap() < 0.2);
    assert!(report.warnings().iter().any(|w| matches!(w, Warning::Dead { layer, .. } if layer == "layers.1")));
    // Nothing flows back through a dead layer: the first layer's weight gets no gradient.
    assert_eq!(report.layer("layers.0").unwrap().weight_grad_norm, Some(0.0));
    assert!(report.to_string().contains("100%"), "{report}");
}

#[test]
fn a_deep_sigmoid_stack_reports_vanishing_gradients() {
    let mut rng = StdRng::seed_from_u64(2);
    let sizes = [16, 32, 32, 32, 32, 32, 32, 32, 32, 4];
    let model = Mlp::new(&sizes, Activation::Sigmoid, &mut rng);
    let tape = Tape::new();
    let mut trace = Trace::new();
    let x = tape.constant(Tensor::rand_normal([64, 16], 0.0, 1.0, &mut rng));
    let loss = model.forward_traced(&tape, x, &mut trace).cross_entropy(&[2; 64]);
    let report = trace.report(&loss.backward());
    let norms: Vec<f64> = report.layers().iter().map(|s| s.output_grad_norm.unwrap()).collect();
    assert!(norms[0] < norms[7] * 1e-3, "gradient reaching early layers shrinks: {norms:?}");
    assert!(report.grad_norm_ratio().unwrap() < 1e-2, "{report}");
    assert!(report.warnings().iter().any(|w| matches!(w, Warning::Vanishing { .. })), "{report}");
    assert!(report.warnings().iter().any(|w| matches!(w, Warning::DeepSaturatingStack { layers: 8 })), "{report}");

    // The same depth with ReLU and He init keeps the gradient alive.
    let model = Mlp::new(&sizes, Activation::Relu, &mut rng);
    let tape = Tape::new();
    let mut trace = Trace::new();
    let x = tape.constant(Tensor::rand_normal([64, 16], 0.0, 1.0, &mut rng));
    let loss = model.forward_traced(&tape, x, &mut trace).cross_entropy(&[2; 64]);
    let report = trace.report(&loss.backward());
    assert!(report.grad_norm_ratio().unwrap() > 0.05, "{report}");
    assert!(!report.warnings().iter().any(|w| matches!(w, Warning::Vanishing { .. })), "{report}");
}

#[test]
fn saturated_tanh_units_and_relu_with_xavier_are_flagged() {
    let mut rng = StdRng::seed_from_u64(3);
    let big = Init::Normal(0.0, 5.0);
    let model = Mlp::from_layers(vec![
        Dense::<f32>::with_init(8, 16, Activation::Tanh, big, &mut rng),
        Dense::with_init(16, 16, Activation::Relu, Init::Xavier(Dist::Uniform, 1.0), &mut rng),
        Dense::new(16, 2, Activation::Identity, &mut rng),
    ]);
    let tape = Tape::new();
    let mut trace = Trace::new();
    let x = tape.constant(Tensor::rand_normal([32, 8], 0.0, 1.0, &mut rng));
    let _ = model.forward_traced(&tape, x, &mut trace);
    let report = trace.activation_report();
    assert!(report.layer("layers.0").unwrap().saturated_fraction.unwrap() > 0.8, "{report}");
    assert!(report.warnings().iter().any(|w| matches!(w, Warning::Saturated { layer, .. } if layer == "layers.0")));
    assert!(report.warnings().iter().any(|w| matches!(w, Warning::ReluWithXavier { layer } if layer == "layers.1")));
}

#[test]
fn update_ratio_is_the_relative_size_of_the_step() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut model = Mlp::<f64>::new_typed(&[4, 8, 2], Activation::Relu, &mut rng);
    let tape = Tape::new();
    let mut trace = Trace::new();
    let x = tape.constant(Tensor::rand_normal([16, 4], 0.0, 1.0, &mut rng));
    let loss = model.forward_traced(&tape, x, &mut trace).cross_entropy(&[0; 16]);
    let grads = loss.backward();
    let mut report = trace.report(&grads);
    let w0 = model.layers[0].linear.weight.value().clone();
    let g0 = grads.by_tag(model.layers[0].linear.weight.id()).unwrap().clone();
    Sgd::new(0.1).step(&mut model, &grads);
    report.record_update(&model);
    let want = g0.mul_scalar(0.1).square().sum_all().sqrt() / w0.square().sum_all().sqrt();
    let got = report.layer("layers.0").unwrap().update_ratio.unwrap();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    // The stats are numbers keyed by name, and the table prints them.
    let s = report.layer("layers.0").unwrap();
    assert_eq!(s.units, 8);
    assert!(s.std > 0.0 && s.weight_grad_norm.unwrap() > 0.0 && s.output_grad_norm.unwrap() > 0.0);
    assert!(report.to_string().lines().count() >= 3);
}

/// In a conv layer a unit is a channel: a channel whose bias keeps it below
/// zero everywhere is dead, a channel with huge weights saturates its tanh,
/// and the report names which.
#[test]
fn conv_layers_are_diagnosed_per_channel() {
    use strata_nn::{Conv2d, Sequential};
    use strata_tensor::ConvParams;
    let mut rng = StdRng::seed_from_u64(4);
    let mut relu_conv = Conv2d::new(1, 4, 3, ConvParams::default().padding(1), &mut rng);
    let mut bias = relu_conv.bias.as_ref().unwrap().value().to_vec();
    bias[2] = -100.0;
    relu_conv.bias.as_mut().unwrap().set(Tensor::from_vec(bias, [4]).unwrap());
    let mut tanh_conv = Conv2d::new(4, 3, 3, ConvParams::default().padding(1), &mut rng);
    let w = tanh_conv.weight.value().to_vec();
    let per = w.len() / 3;
    let w: Vec<f32> = w.iter().enumerate().map(|(i, v)| if i < per { v * 1000.0 } else { v * 1e-3 }).collect();
    tanh_conv.weight.set(Tensor::from_vec(w, [3, 4, 3, 3]).unwrap());
    let model = Sequential::new().push(relu_conv).push(Activation::Relu).push(tanh_conv).push(Activation::Tanh);
    let tape = Tape::new();
    let mut trace = Trace::new();
    let y =
        model.forward_traced(&tape, tape.constant(Tensor::rand_normal([8, 1, 6, 6], 0.0, 1.0, &mut rng)), &mut trace);
    let report = trace.report(&y.square().sum().backward());
    let relu = report.layer("1").unwrap();
    assert_eq!(relu.units, 4);
    assert_eq!(relu.dead_units.as_deref(), Some(&[2][..]));
    assert_eq!(relu.dead_fraction, Some(0.25));
    let tanh = report.layer("3").unwrap();
    let by_channel = tanh.saturated_by_unit.as_ref().unwrap();
    assert_eq!(by_channel.len(), 3);
    assert!(by_channel[0] > 0.8 && by_channel[1] == 0.0 && by_channel[2] == 0.0, "{by_channel:?}");
}
