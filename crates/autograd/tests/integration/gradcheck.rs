//! Every op's and activation's backward against central finite differences,
//! driven by proptest over random shapes and values.

use proptest::prelude::*;
use strata_autograd::{gradcheck, gradcheck_with, strategy, Activation, GradCheck, Tape, Var};
use strata_tensor::Tensor;

const ALL_ACTIVATIONS: [Activation; 13] = Activation::ALL;

/// A deterministic tensor of values in [-1, 1) from a seed (cheaper to shrink than random tensors).
fn t(dims: &[usize], s: u64) -> Tensor<f64> {
    Tensor::from_fn(dims, |ix| {
        let h = ix.iter().fold(s, |acc, &i| acc.wrapping_mul(31).wrapping_add(i as u64 + 7));
        ((h % 1000) as f64 / 500.0) - 1.0
    })
}

fn ok(r: Result<(), strata_autograd::GradCheckError>) -> Result<(), TestCaseError> {
    r.map_err(|e| TestCaseError::fail(e.to_string()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    // d(a∘b)/da and /db for every broadcasting direction: the gradient of a
    // broadcast operand must be summed back to its shape.
    #[test]
    fn broadcasting_binary_ops((a, b) in strategy::broadcast_pair(3, 3, -2.0..2.0)) {
        ok(gradcheck(|_, v| v[0].add(v[1]).square().sum(), &[a.clone(), b.clone()]))?;
        ok(gradcheck(|_, v| v[0].sub(v[1]).square().sum(), &[a.clone(), b.clone()]))?;
        ok(gradcheck(|_, v| v[0].mul(v[1]).sum(), &[a.clone(), b.clone()]))?;
        // Keep the divisor away from 0.
        let b = b.map(|x| if x.abs() < 0.5 { x.signum() * 0.5 + x } else { x });
        ok(gradcheck(|_, v| v[0].div(v[1]), &[a, b]))?;
    }

    #[test]
    fn matmul_2d_and_batched(m in 1usize..5, k in 1usize..5, n in 1usize..5, batch in 1usize..4, seed in 0u64..1000) {
        ok(gradcheck(|_, v| v[0].matmul(v[1]), &[t(&[m, k], seed), t(&[k, n], seed + 1)]))?;
        ok(gradcheck(|_, v| v[0].matmul(v[1].t()), &[t(&[m, k], seed), t(&[n, k], seed + 2)]))?;
        ok(gradcheck(|_, v| v[0].matmul(v[1]), &[t(&[batch, m, k], seed), t(&[batch, k, n], seed + 3)]))?;
        ok(gradcheck(|_, v| v[0].matmul(v[1]), &[t(&[batch, m, k], seed), t(&[k, n], seed + 4)]))?;
        ok(gradcheck(|_, v| v[0].matmul(v[1]), &[t(&[m, k], seed), t(&[batch, k, n], seed + 5)]))?;
    }

    #[test]
    fn fused_linear(m in 1usize..6, k in 1usize..6, n in 1usize..6, seed in 0u64..1000) {
        let (x, w, b) = (t(&[m, k], seed), t(&[n, k], seed + 1), t(&[n], seed + 2));
        ok(gradcheck(|_, v| v[0].linear(v[1], Some(v[2])).tanh().sum(), &[x.clone(), w.clone(), b]))?;
        ok(gradcheck(|_, v| v[0].linear(v[1], None).square().sum(), &[x, w.clone()]))?;
        ok(gradcheck(|_, v| v[0].linear(v[1], None).square().sum(), &[t(&[k], seed + 3), w.clone()]))?;
        // Leading batch dimensions, as nn.Linear takes them.
        ok(gradcheck(|_, v| v[0].linear(v[1], None).tanh().sum(), &[t(&[2, m, k], seed + 4), w.clone()]))?;
        // The fused hidden layer, fused and not (ELU keeps its pre-activation).
        for act in [Activation::Tanh, Activation::Sigmoid, Activation::Relu, Activation::LeakyRelu(0.2), Activation::ELU] {
            let (x, b) = (t(&[m, k], seed + 5), t(&[n], seed + 6));
            ok(gradcheck(move |_, v| v[0].linear_act(v[1], Some(v[2]), act).square().sum(), &[x, w.clone(), b]))?;
        }
        ok(gradcheck(|_, v| v[0].linear_act(v[1], None, Activation::Sigmoid).sum(), &[t(&[k], seed + 7), w.clone()]))?;
        ok(gradcheck(|_, v| v[0].linear_act(v[1], None, Activation::Relu).square().sum(), &[t(&[2, m, k], seed + 8), w]))?;
    }

    #[test]
    fn unary_and_scalar_ops(x in strategy::any_tensor(3, 4, 0.2..3.0), p in 0.5f64..2.5, s in -2.0f64..2.0) {
        ok(gradcheck(|_, v| v[0].exp(), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].log(), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].sqrt(), std::slice::from_ref(&x)))?;
        ok(gradcheck(move |_, v| v[0].powf(p), std::slice::from_ref(&x)))?;
        ok(gradcheck(move |_, v| v[0].mul_scalar(s).add_scalar(s), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| -v[0] * 3.0 - 1.0, std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| (v[0] - 1.5).abs(), &[x.map(|e| if (e - 1.5).abs() < 1e-3 { e + 2e-3 } else { e })]))?;
    }

    // The unary maps that are not activations: d sin = cos, d cos = −sin,
    // d tan = 1 + tan², d(1/x) = −1/x², d log1p = 1/(1 + x), d expm1 = eˣ,
    // d clamp = [lo ≤ x ≤ hi]; floor/ceil/round/signum have gradient 0.
    #[test]
    fn unary_maps(x in strategy::any_tensor(2, 4, -1.2..1.2)) {
        ok(gradcheck(|_, v| v[0].sin(), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].cos(), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].tan(), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].expm1(), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| (v[0] + 1.5).log1p(), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| (v[0] + 2.0).recip(), std::slice::from_ref(&x)))?;
        let away = x.map(|e| if (e.abs() - 0.5).abs() < 1e-3 { e + 3e-3 } else { e });
        ok(gradcheck(|_, v| v[0].clamp(-0.5, 0.5).square(), std::slice::from_ref(&away)))?;
        // Piecewise constant maps pass no gradient (as PyTorch).
        let tape = Tape::<f64>::new();
        let v = tape.leaf(x.clone());
        let g = (v.floor() + v.ceil() + v.round() + v.signum() + v).sum().backward();
        prop_assert!(g.wrt(&v).unwrap().to_vec().iter().all(|&d| d == 1.0));
    }

    // conv2d with every hyper-parameter: dX is the transposed convolution,
    // dW = Σ dY·colsᵀ, db = Σ dY; batch 1, 1×1 kernels and kernels as large
    // as the padded input among the cases.
    #[test]
    fn conv2d_gradients(n in 1usize..3, groups in 1usize..3, cg in 1usize..3, og in 1usize..3,
                        h in 1usize..6, w in 1usize..6, kh in 1usize..4, kw in 1usize..4,
                        stride in 1usize..3, pad in 0usize..2, dil in 1usize..3, seed in 0u64..1000) {
        prop_assume!(dil * (kh - 1) < h + 2 * pad && dil * (kw - 1) < w + 2 * pad);
        let p = strata_tensor::ConvParams { stride: [stride, stride], padding: [pad, pad], dilation: [dil, dil], groups };
        let x = t(&[n, cg * groups, h, w], seed);
        let k = t(&[og * groups, cg, kh, kw], seed + 1);
        let b = t(&[og * groups], seed + 2);
        ok(gradcheck(move |_, v| v[0].conv2d(v[1], Some(v[2]), p).tanh().sum(), &[x, k, b]))?;
    }

    // Pooling: max sends the gradient to the element each window took
    // (values distinct, so no ties), average spreads g/(k·k) over the
    // window; the 1×1 adaptive mean and flatten are built from primitives.
    #[test]
    fn pooling_gradients(n in 1usize..3, c in 1usize..3, h in 2usize..7, w in 2usize..7,
                         k in 1usize..3, s in 1usize..3, pad in 0usize..2, seed in 0u64..1000) {
        prop_assume!(2 * pad <= k && k <= h + 2 * pad && k <= w + 2 * pad);
        let pool = strata_tensor::Pool2d::new(k).stride(s).padding(pad);
        // Distinct values, well apart: finite differences cannot change a window's winner.
        let x = Tensor::from_fn([n, c, h, w], |ix| {
            let flat = ((ix[0] * c + ix[1]) * h + ix[2]) * w + ix[3];
            ((flat as u64 * 7919 + seed) % 997) as f64 / 100.0
        });
        ok(gradcheck(move |_, v| v[0].max_pool2d(pool).square().sum(), std::slice::from_ref(&x)))?;
        ok(gradcheck(move |_, v| v[0].avg_pool2d(pool).square().sum(), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].adaptive_avg_pool2d_1x1().flatten().square().sum(), std::slice::from_ref(&x)))?;
    }

    // max/min over an axis: the gradient goes to the element taken (values
    // distinct and well apart, so a finite difference cannot change it).
    #[test]
    fn axis_extrema(d0 in 1usize..4, d1 in 1usize..4, d2 in 1usize..4, axis in -3isize..3, keep: bool, seed in 0u64..1000) {
        let x = Tensor::from_fn([d0, d1, d2], |ix| {
            let flat = (ix[0] * d1 + ix[1]) * d2 + ix[2];
            ((flat as u64 * 7919 + seed) % 997) as f64 / 100.0 - 5.0
        });
        ok(gradcheck(move |_, v| v[0].max_axis(axis, keep).square().sum(), std::slice::from_ref(&x)))?;
        ok(gradcheck(move |_, v| v[0].min_axis(axis, keep).square().sum(), std::slice::from_ref(&x)))?;
        let tape = Tape::new();
        let y = tape.constant(x.clone());
        prop_assert_eq!(y.max_axis(axis, keep).value().to_vec(), x.max_axis(axis, keep).to_vec());
        prop_assert_eq!(y.min_axis(axis, keep).value().to_vec(), x.min_axis(axis, keep).to_vec());
    }

    // maximum/minimum (broadcasting; values kept apart so no tie is hit),
    // pow (positive bases: d/da = b·a^(b−1), d/db = a^b·ln a), where_mask
    // (the gradient follows the mask) and logsumexp (d = softmax).
    #[test]
    fn vision_ops(a in strategy::tensor(vec![3, 4], -2.0..2.0), b in strategy::tensor(vec![4], -2.0..2.0), axis in 0isize..2) {
        let apart = b.map(|v| v + 0.01);
        let a2 = a.zip_with(&apart.broadcast_to([3, 4]), |x, y| if (x - y).abs() < 1e-2 { x + 0.05 } else { x });
        ok(gradcheck(|_, v| v[0].maximum(v[1]).square().sum(), &[a2.clone(), apart.clone()]))?;
        ok(gradcheck(|_, v| v[0].minimum(v[1]).square().sum(), &[a2.clone(), apart.clone()]))?;
        let base = a.map(|x| x.abs() + 0.5);
        ok(gradcheck(|_, v| v[0].pow(v[1]).sum(), &[base, b.clone()]))?;
        let mask = a.map(|x| if x > 0.0 { 1.0 } else { 0.0 });
        ok(gradcheck(move |_, v| v[0].where_mask(&mask, v[1]).square().sum(), &[a.clone(), b.clone()]))?;
        ok(gradcheck(move |_, v| v[0].logsumexp(axis, false).square().sum(), std::slice::from_ref(&a)))?;
        ok(gradcheck(move |_, v| v[0].logsumexp(axis, true).sum(), std::slice::from_ref(&a)))?;
        // Against the direct formula, and finite where exp overflows.
        let tape = Tape::<f64>::new();
        let got = tape.constant(a.clone()).logsumexp(axis, false).value();
        let want = a.exp().sum_axis(axis, false).ln();
        prop_assert!(got.allclose(&want, 1e-12, 1e-12));
        let big = tape.constant(a.map(|x| x * 1e3)).logsumexp(axis, false).value();
        prop_assert!(!big.has_non_finite());
    }

    // Softmax along any axis: each slice along it sums to one, and the
    // gradient checks along that axis.
    #[test]
    fn softmax_along_any_axis(x in strategy::tensor(vec![2, 3, 4], -3.0..3.0), axis in -3isize..3) {
        ok(gradcheck(move |_, v| v[0].softmax_axis(axis).square(), std::slice::from_ref(&x)))?;
        ok(gradcheck(move |_, v| v[0].log_softmax_axis(axis).square(), std::slice::from_ref(&x)))?;
        let tape = Tape::<f64>::new();
        let y = tape.constant(x.clone()).softmax_axis(axis).value();
        let sums = y.sum_axis(axis, false).to_vec();
        prop_assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-12), "{sums:?}");
    }

    // Swish and softplus with β ≠ 1, both GELU approximations.
    #[test]
    fn parameterised_activations(x in strategy::any_tensor(2, 5, -4.0..4.0), beta in 0.25f64..4.0) {
        ok(gradcheck(move |_, v| v[0].swish(beta), std::slice::from_ref(&x)))?;
        ok(gradcheck(move |_, v| v[0].softplus_beta(beta), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].gelu_with(strata_autograd::GeluApprox::Tanh), std::slice::from_ref(&x)))?;
        // softplus_β(x) = softplus(βx)/β and swish_β(x) = x·σ(βx), from their definitions.
        let tape = Tape::<f64>::new();
        let v = tape.constant(x.clone());
        let sp = v.softplus_beta(beta).value();
        let want = x.map(|e| (1.0 + (beta * e).exp()).ln() / beta);
        prop_assert!(sp.allclose(&want, 1e-10, 1e-12));
        let sw = v.swish(beta).value();
        let want = x.map(|e| e / (1.0 + (-beta * e).exp()));
        prop_assert!(sw.allclose(&want, 1e-10, 1e-12));
    }

    #[test]
    fn every_activation(x in strategy::away_from_kinks(strategy::any_tensor(2, 5, -4.0..4.0), vec![-1.0, 0.0, 1.0], 1e-3)) {
        for act in ALL_ACTIVATIONS {
            let r = gradcheck(move |_, v| v[0].activation(act), std::slice::from_ref(&x));
            prop_assert!(r.is_ok(), "{act}: {}", r.unwrap_err());
        }
        ok(gradcheck(|_, v| v[0].leaky_relu(0.2).elu(0.5).hardtanh(-0.5, 2.0), std::slice::from_ref(&x)))?;
    }

    #[test]
    fn reductions_and_shape_ops(x in strategy::tensor(vec![2, 3, 4], -2.0..2.0), axis in 0isize..3, keep: bool) {
        ok(gradcheck(move |_, v| v[0].sum_axis(axis, keep), std::slice::from_ref(&x)))?;
        ok(gradcheck(move |_, v| v[0].mean_axis(axis - 3, keep), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].mean(), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].reshape(&[6, 4]).t(), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].permute(&[2, 0, 1]), std::slice::from_ref(&x)))?;
        ok(gradcheck(move |_, v| v[0].transpose(axis, -1).exp(), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].index_select(1, &[2, 0, 2]), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].narrow(2, 1, 2), std::slice::from_ref(&x)))?;
        ok(gradcheck(move |_, v| Var::concat(&[v[0], v[0].exp(), v[0]], axis), std::slice::from_ref(&x)))?;
    }

    #[test]
    fn softmax_family_and_losses(x in strategy::tensor(vec![4, 5], -3.0..3.0), labels in prop::collection::vec(0usize..5, 4), t in strategy::tensor(vec![4, 5], 0.0..1.0)) {
        ok(gradcheck(|_, v| v[0].softmax(), std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].log_softmax(), std::slice::from_ref(&x)))?;
        let l = labels.clone();
        ok(gradcheck(move |_, v| v[0].cross_entropy(&l), std::slice::from_ref(&x)))?;
        let tt = t.clone();
        ok(gradcheck(move |_, v| v[0].bce_with_logits(&tt), std::slice::from_ref(&x)))?;
        ok(gradcheck(move |_, v| v[0].mse(&t), std::slice::from_ref(&x)))?;
    }

    // The fused losses agree with their composed definitions, value and gradient.
    #[test]
    fn fused_losses_match_composed(x in strategy::tensor(vec![3, 4], -5.0..5.0), labels in prop::collection::vec(0usize..4, 3), t in strategy::tensor(vec![3, 4], 0.0..1.0)) {
        let tape = Tape::<f64>::new();
        let v = tape.leaf(x.clone());
        let fused = v.cross_entropy(&labels);
        let onehot = Tensor::<f64>::from_fn([3, 4], |ix| if labels[ix[0]] == ix[1] { 1.0 } else { 0.0 });
        let composed = -(v.log_softmax().mul(tape.constant(onehot)).sum()) * (1.0 / 3.0);
        prop_assert!((fused.item() - composed.item()).abs() < 1e-12);
        let (g1, g2) = (fused.backward(), composed.backward());
        prop_assert!(g1.wrt(&v).unwrap().allclose(g2.wrt(&v).unwrap(), 1e-10, 1e-12));

        let tt = tape.constant(t.clone());
        let bce = v.bce_with_logits(&t);
        let p = v.sigmoid();
        let composed = -(tt.mul(p.log()).add((-tt + 1.0).mul((-p + 1.0).log()))).mean();
        prop_assert!((bce.item() - composed.item()).abs() < 1e-9);
        prop_assert!(bce.backward().wrt(&v).unwrap().allclose(composed.backward().wrt(&v).unwrap(), 1e-7, 1e-9));

        let mse = v.mse(&t);
        let composed = v.sub(tt).square().mean();
        prop_assert!((mse.item() - composed.item()).abs() < 1e-12);
        prop_assert!(mse.backward().wrt(&v).unwrap().allclose(composed.backward().wrt(&v).unwrap(), 1e-12, 1e-12));
    }

    // A var used several times gets the sum of its contributions.
    #[test]
    fn chains_and_reuse(x in strategy::tensor(vec![3, 2], -1.5..1.5)) {
        ok(gradcheck(|_, v| { let y = v[0].tanh(); y.mul(y).add(v[0]).mul(v[0].sigmoid()).sum() }, std::slice::from_ref(&x)))?;
        ok(gradcheck(|_, v| v[0].matmul(v[0].t()).softmax().log().mean(), std::slice::from_ref(&x)))?;
    }
}

#[test]
fn two_hidden_layer_mlp_from_raw_ops() {
    let t =
        |dims: &[usize], s: f64| Tensor::<f64>::from_fn(dims, |ix| ((ix.iter().sum::<usize>() as f64 + s) * 0.7).sin());
    let x = t(&[5, 4], 0.0);
    let inputs = [t(&[6, 4], 1.0), t(&[6], 2.0), t(&[3, 6], 3.0), t(&[3], 4.0), t(&[2, 3], 5.0), t(&[2], 6.0)];
    let labels = [0usize, 1, 1, 0, 1];
    for act in [Activation::Tanh, Activation::GELU, Activation::SILU, Activation::Sigmoid] {
        let x = x.clone();
        let r = gradcheck(
            move |tape, v| {
                let x = tape.constant(x.clone());
                let h1 = x.matmul(v[0].t()).add(v[1]).activation(act);
                let h2 = h1.matmul(v[2].t()).add(v[3]).activation(act);
                h2.matmul(v[4].t()).add(v[5]).cross_entropy(&labels)
            },
            &inputs,
        );
        assert!(r.is_ok(), "{act}: {}", r.unwrap_err());
    }
}

#[test]
fn gradcheck_rejects_wrong_tolerance_free_check() {
    // With zero tolerance even a correct gradient fails on truncation error:
    // the checker really compares numbers.
    let x = Tensor::from_vec(vec![0.7, -0.3], [2]).unwrap();
    let strict = GradCheck { eps: 1e-3, atol: 0.0, rtol: 0.0 };
    assert!(gradcheck_with(|_, v| v[0].exp().sum(), &[x], strict).is_err());
}
