//! Tape behaviour: what backward visits, repeated use, errors, anomaly mode.

use strata_autograd::{Activation, Phase, Tape};
use strata_tensor::Tensor;

#[test]
fn constants_get_no_gradient_and_reuse_accumulates() {
    let tape = Tape::<f64>::new();
    let x = tape.leaf(Tensor::from_vec(vec![3.0], [1]).unwrap());
    let c = tape.constant(Tensor::from_vec(vec![2.0], [1]).unwrap());
    // y = x·x + x·c  →  dy/dx = 2x + c = 8
    let y = (x * x + x * c).sum();
    assert!(!c.requires_grad() && x.requires_grad());
    let g = y.backward();
    assert_eq!(g.wrt(&x).unwrap().to_vec(), vec![8.0]);
    assert!(g.wrt(&c).is_none());
}

#[test]
fn no_grad_records_constants() {
    let tape = Tape::<f32>::new();
    let x = tape.leaf(Tensor::ones([2]));
    let y = tape.no_grad(|| x.exp());
    assert!(!y.requires_grad());
    let g = (x + y).sum().backward();
    assert_eq!(g.wrt(&x).unwrap().to_vec(), vec![1.0, 1.0]);
}

#[test]
fn tags_find_gradients_without_the_var() {
    let tape = Tape::<f32>::new();
    let w = tape.leaf_tagged(Tensor::full([2], 2.0), 42);
    let g = w.square().sum().backward();
    assert_eq!(g.by_tag(42).unwrap().to_vec(), vec![4.0, 4.0]);
    assert!(g.by_tag(7).is_none());
    assert!((g.global_norm() - 32f32.sqrt()).abs() < 1e-6);
}

#[test]
fn wrt_of_a_var_from_another_tape_is_an_error() {
    let t1 = Tape::<f32>::new();
    let t2 = Tape::<f32>::new();
    let x1 = t1.leaf(Tensor::ones([1]));
    let x2 = t2.leaf(Tensor::ones([1]));
    let g = x1.sum().backward();
    let err = g.try_wrt(&x2).unwrap_err();
    assert!(err.to_string().contains("belongs to another tape"), "{err}");
}

#[test]
#[should_panic(expected = "add: the two Vars come from different tapes")]
fn mixing_tapes_panics() {
    let t1 = Tape::<f32>::new();
    let t2 = Tape::<f32>::new();
    let _ = t1.leaf(Tensor::ones([1])) + t2.leaf(Tensor::ones([1]));
}

#[test]
#[should_panic(expected = "matmul: [4, 3] x [4, 2]: inner dimensions 3 and 4 differ")]
fn shape_mismatch_names_op_and_shapes() {
    let t = Tape::<f32>::new();
    let _ = t.leaf(Tensor::zeros([4, 3])).matmul(t.leaf(Tensor::zeros([4, 2])));
}

#[test]
#[should_panic(expected = "backward: the output has shape [2]")]
fn backward_needs_a_scalar() {
    let t = Tape::<f32>::new();
    let _ = t.leaf(Tensor::zeros([2])).exp().backward();
}

#[test]
#[should_panic(expected = "cross_entropy: label 3 is out of range for 3 classes")]
fn bad_label_is_named() {
    let t = Tape::<f32>::new();
    let _ = t.leaf(Tensor::zeros([1, 3])).cross_entropy(&[3]);
}

#[test]
fn anomaly_mode_names_the_first_bad_op() {
    let tape = Tape::<f32>::with_anomaly_detection();
    let x = tape.leaf(Tensor::from_vec(vec![-1.0, 4.0], [2]).unwrap());
    let y = x.exp().log();
    let z = x.sqrt(); // sqrt(-1) = NaN: node 3
    let loss = (y + z).sum();
    let a = tape.anomaly().expect("NaN was recorded");
    assert_eq!((a.op.as_str(), a.node, a.phase), ("sqrt", 3, Phase::Forward));
    assert_eq!(a.to_string(), "NaN/Inf first appeared in the forward output of `sqrt` (node 3)");
    let _ = loss.backward();

    // A gradient that is infinite although the forward values are finite.
    let tape = Tape::<f32>::with_anomaly_detection();
    let x = tape.leaf(Tensor::from_vec(vec![0.0], [1]).unwrap());
    let g = x.sqrt().sum().backward();
    assert!(tape.anomaly().is_none());
    let a = g.anomaly().expect("infinite gradient recorded");
    assert_eq!((a.op.as_str(), a.phase), ("sqrt", Phase::Backward));
    // Off by default: nothing is recorded.
    let tape = Tape::<f32>::new();
    let _ = tape.leaf(Tensor::from_vec(vec![-1.0], [1]).unwrap()).sqrt();
    assert!(tape.anomaly().is_none());
}

#[test]
fn only_what_a_leaf_needs_is_computed() {
    let tape = Tape::<f32>::new();
    let c = tape.constant(Tensor::ones([3]));
    let big = c.exp().tanh(); // no leaf upstream
    let w = tape.leaf(Tensor::ones([3]));
    let y = big.mul(w).sum();
    assert!(!big.requires_grad());
    assert_eq!(y.backward().wrt(&w).unwrap().to_vec(), vec![1f32.exp().tanh(); 3]);
}

#[test]
fn retain_grad_keeps_an_intermediate_gradient() {
    let tape = Tape::<f64>::new();
    let x = tape.leaf(Tensor::from_vec(vec![1.0, -2.0, 3.0], [3]).unwrap());
    let h = x.mul_scalar(2.0);
    let y = h.square().sum();
    let unretained = y.backward();
    assert!(unretained.wrt(&h).is_none());
    tape.retain_grad(h);
    let grads = y.backward();
    assert_eq!(grads.wrt(&h).unwrap().to_vec(), vec![4.0, -8.0, 12.0]); // dy/dh = 2h
    assert_eq!(grads.wrt(&x).unwrap().to_vec(), vec![8.0, -16.0, 24.0]);
}

#[test]
fn linear_matches_matmul_plus_bias_in_value_and_gradient() {
    let tape = Tape::<f64>::new();
    let x = tape.constant(Tensor::from_fn([3, 2], |i| (i[0] * 2 + i[1]) as f64 - 2.5));
    let w = tape.leaf(Tensor::from_fn([4, 2], |i| 0.1 * (i[0] as f64) - 0.2 * i[1] as f64));
    let b = tape.leaf(Tensor::from_vec(vec![0.5, -0.5, 1.0, 0.0], [4]).unwrap());
    let fused = x.linear(w, Some(b)).sigmoid().sum();
    let composed = x.matmul(w.t()).add(b).sigmoid().sum();
    assert!((fused.item() - composed.item()).abs() < 1e-12);
    let (gf, gc) = (fused.backward(), composed.backward());
    assert!(gf.wrt(&w).unwrap().allclose(gc.wrt(&w).unwrap(), 1e-12, 1e-12));
    assert!(gf.wrt(&b).unwrap().allclose(gc.wrt(&b).unwrap(), 1e-12, 1e-12));
}

#[test]
fn recycled_tape_buffers_start_empty_for_either_float_type() {
    for round in 0..3 {
        let t32 = Tape::<f32>::new();
        assert!(t32.is_empty(), "round {round}");
        let x = t32.leaf(Tensor::from_vec(vec![2.0f32], [1]).unwrap());
        let y = (x * x).sum();
        assert_eq!(y.backward().wrt(&x).unwrap().to_vec(), vec![4.0]);
        let t64 = Tape::<f64>::with_anomaly_detection();
        assert!(t64.is_empty() && t64.anomaly().is_none());
        let _ = t64.leaf(Tensor::from_vec(vec![-1.0f64], [1]).unwrap()).log();
        assert!(t64.anomaly().is_some(), "NaN from log(-1) is caught on a recycled buffer");
    }
}

#[test]
fn a_tag_on_several_leaves_gets_the_sum_of_their_gradients() {
    // One parameter w put on the tape twice (a layer applied twice):
    // y = (w·x)·w = w²x, dy/dw = 2wx = 12 at w = 3, x = 2.
    let tape = Tape::<f64>::new();
    let w = Tensor::from_vec(vec![3.0], [1]).unwrap();
    let x = tape.constant(Tensor::from_vec(vec![2.0], [1]).unwrap());
    let (w1, w2) = (tape.leaf_tagged(w.clone(), 7), tape.leaf_tagged(w, 7));
    let y = (w1 * x * w2).sum();
    let g = y.backward();
    assert_eq!(g.by_tag(7).unwrap().to_vec(), vec![12.0]);
    assert_eq!(g.wrt(&w1).unwrap().to_vec(), vec![6.0], "each leaf keeps its own share");
    assert!(g.by_tag(8).is_none());
}

#[test]
fn try_forms_return_errors_naming_the_op_and_record_nothing() {
    use strata_autograd::AutogradError;
    let tape = Tape::<f32>::new();
    let a = tape.leaf(Tensor::zeros([2, 3]));
    let b = tape.leaf(Tensor::zeros([4, 3]));
    let w = tape.leaf(Tensor::zeros([5, 4]));
    let before = tape.len();
    let e = a.try_add(b).unwrap_err();
    assert!(e.to_string().contains("add: shapes [2, 3] and [4, 3]"), "{e}");
    let e = a.try_matmul(b).unwrap_err();
    assert!(e.to_string().contains("matmul: [2, 3] x [4, 3]"), "{e}");
    let e = a.try_linear(w, None).unwrap_err();
    assert!(e.to_string().starts_with("linear"), "{e}");
    assert!(matches!(a.try_reshape(&[7]), Err(AutogradError::Tensor(_))));
    let e = a.try_cross_entropy(&[0, 3]).unwrap_err();
    assert_eq!(e.to_string(), "cross_entropy: label 3 is out of range for 3 classes");
    let e = a.try_cross_entropy(&[0]).unwrap_err();
    assert_eq!(e.to_string(), "cross_entropy: 1 labels for a batch of 2");
    let other = Tape::<f32>::new();
    let c = other.leaf(Tensor::zeros([2, 3]));
    assert_eq!(a.try_mul(c).unwrap_err(), AutogradError::DifferentTapes { op: "mul" });
    assert_eq!(tape.len(), before, "a failed op records nothing");
    assert_eq!(a.try_sub(a).unwrap().dims(), [2, 3]);
}

#[test]
fn grads_of_a_var_is_wrt() {
    let tape = Tape::<f64>::new();
    let x = tape.leaf(Tensor::from_vec(vec![3.0], [1]).unwrap());
    let g = (x * x).sum().backward();
    assert_eq!(g.of(&x).unwrap().to_vec(), [6.0]);
}

#[test]
fn a_fused_hidden_layer_matches_linear_then_activation_bit_for_bit() {
    // Same values and gradients as the two ops, one node fewer where the
    // activation's slope follows from its output; ELU and a negative leaky
    // slope are recorded as the two ops.
    let x = Tensor::from_vec((0..12).map(|i| ((i * 37 % 11) as f32 - 5.0) / 3.0).collect(), [3, 4]).unwrap();
    let w = Tensor::from_vec((0..20).map(|i| ((i * 53 % 17) as f32 - 8.0) / 7.0).collect(), [5, 4]).unwrap();
    let b = Tensor::from_vec(vec![0.1f32, -0.2, 0.0, 0.3, -0.05], [5]).unwrap();
    let acts = [
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Relu,
        Activation::LEAKY_RELU,
        Activation::LeakyRelu(-0.5),
        Activation::ELU,
        Activation::GELU,
    ];
    for act in acts {
        for input in [x.clone(), x.narrow(0, 1, 1).reshape([4])] {
            let run = |fused: bool| {
                let tape = Tape::<f32>::new();
                let (vx, vw, vb) = (tape.leaf(input.clone()), tape.leaf(w.clone()), tape.leaf(b.clone()));
                let before = tape.len();
                let y = if fused { vx.linear_act(vw, Some(vb), act) } else { vx.linear(vw, Some(vb)).activation(act) };
                let nodes = tape.len() - before;
                let g = y.square().sum().backward();
                let grads = [&vx, &vw, &vb].map(|v| g.wrt(v).unwrap().to_vec());
                (y.value().to_vec(), grads, nodes)
            };
            let (fused, composed) = (run(true), run(false));
            assert_eq!(fused.0, composed.0, "{} forward", act.name());
            assert_eq!(fused.1, composed.1, "{} gradients", act.name());
            assert_eq!(fused.2, if act.slope_from_output() { 1 } else { 2 }, "{} nodes", act.name());
        }
    }
}
