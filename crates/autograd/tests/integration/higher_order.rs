//! Higher-order gradients: second derivatives of every activation against
//! closed forms; for every op, graph-mode gradients equal the first-order
//! ones and their own gradients pass gradcheck (finite differences of the
//! gradient function); Hessians, Hessian-vector products and Jacobians
//! against finite differences and each other; third derivatives; the
//! errors.

use proptest::prelude::*;
use strata_autograd::{gradcheck, hessian, hvp, jacobian, strategy, Activation, AutogradError, CustomOp, Tape, Var};
use strata_tensor::{ConvParams, Pool2d, Tensor};

fn t(dims: &[usize], s: u64) -> Tensor<f64> {
    Tensor::from_fn(dims, |ix| {
        let h = ix.iter().fold(s, |acc, &i| acc.wrapping_mul(31).wrapping_add(i as u64 + 7));
        ((h % 1000) as f64 / 500.0) - 1.0
    })
}

/// Distinct values well apart (so a max's winner survives finite differences).
fn apart(dims: &[usize], s: u64) -> Tensor<f64> {
    let n: usize = dims.iter().product();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (i as u64).wrapping_mul(2_654_435_761).wrapping_add(s) % 1_000_003);
    let mut v = vec![0.0; n];
    for (rank, &i) in order.iter().enumerate() {
        v[i] = rank as f64 * 0.1 - n as f64 * 0.05;
    }
    Tensor::from_vec(v, dims.to_vec()).unwrap()
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// `f`'s graph-mode gradients equal its first-order ones, and the gradient
/// of `Σᵢ ⟨cᵢ, ∇ᵢf⟩` (second derivatives) matches finite differences.
fn check_twice<F>(f: F, inputs: &[Tensor<f64>]) -> Result<(), TestCaseError>
where
    F: for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64> + Clone,
{
    let f2 = f.clone();
    let tape = Tape::new();
    let vars: Vec<Var<'_, f64>> = inputs.iter().map(|x| tape.leaf(x.clone())).collect();
    let y = f(&tape, &vars);
    let graph = y.grad_graph(&vars).map_err(fail)?;
    let first = y.backward();
    for (i, (g, v)) in graph.iter().zip(&vars).enumerate() {
        let want = first.wrt(v).cloned().unwrap_or_else(|| Tensor::zeros(v.shape()));
        for (a, b) in g.value().to_vec().iter().zip(want.to_vec()) {
            prop_assert!((a - b).abs() <= 1e-10 * (1.0 + b.abs()), "input {i}: graph {a} vs first-order {b}");
        }
    }
    let directions: Vec<Tensor<f64>> = inputs.iter().enumerate().map(|(i, x)| t(x.dims(), 100 + i as u64)).collect();
    gradcheck(
        move |tape, v| {
            let gs = f2(tape, v).grad_graph(v).expect("graph-mode backward");
            gs.iter()
                .zip(&directions)
                .map(|(g, c)| (*g * tape.constant(c.clone())).sum())
                .reduce(|a, b| a + b)
                .expect("at least one input")
        },
        inputs,
    )
    .map_err(fail)
}

/// The second derivative of `act` at each element of `x`, by two graph-mode passes.
fn second(act: Activation, x: &Tensor<f64>) -> Vec<f64> {
    let tape = Tape::new();
    let v = tape.leaf(x.clone());
    let d1 = v.activation(act).sum().grad_graph(&[v]).unwrap()[0];
    d1.sum().grad_graph(&[v]).unwrap()[0].value().to_vec()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    // σ'' = σ(1−σ)(1−2σ), tanh'' = −2 tanh (1 − tanh²), and so on; the
    // piecewise-linear ones have f'' = 0 away from their kinks.
    #[test]
    fn activation_second_derivatives_match_closed_forms(
        x in strategy::away_from_kinks(strategy::tensor(vec![6], -3.0..3.0), vec![0.0, -1.0, 1.0], 0.05)
    ) {
        let xs = x.to_vec();
        let close = |got: Vec<f64>, want: &dyn Fn(f64) -> f64, name: &str| -> Result<(), TestCaseError> {
            for (g, &x) in got.iter().zip(&xs) {
                prop_assert!((g - want(x)).abs() < 1e-9 * (1.0 + want(x).abs()), "{name}''({x}) = {g}, want {}", want(x));
            }
            Ok(())
        };
        close(second(Activation::Sigmoid, &x), &|x| { let s = sigmoid(x); s * (1.0 - s) * (1.0 - 2.0 * s) }, "sigmoid")?;
        close(second(Activation::Tanh, &x), &|x| -2.0 * x.tanh() * (1.0 - x.tanh().powi(2)), "tanh")?;
        for act in [Activation::Identity, Activation::Relu, Activation::LeakyRelu(0.01), Activation::Hardtanh(-1.0, 1.0)] {
            close(second(act, &x), &|_| 0.0, act.name())?;
        }
        close(second(Activation::Elu(1.3), &x), &|x| if x > 0.0 { 0.0 } else { 1.3 * x.exp() }, "elu")?;
        let (l, a) = (strata_autograd::SELU_SCALE, strata_autograd::SELU_ALPHA);
        close(second(Activation::Selu, &x), &|x| if x > 0.0 { 0.0 } else { l * a * x.exp() }, "selu")?;
        close(second(Activation::Softplus(2.0), &x), &|x| { let s = sigmoid(2.0 * x); 2.0 * s * (1.0 - s) }, "softplus")?;
        close(second(Activation::Silu(1.5), &x), &|x| {
            let s = sigmoid(1.5 * x);
            1.5 * s * (1.0 - s) * (2.0 + 1.5 * x * (1.0 - 2.0 * s))
        }, "silu")?;
        let pdf = |x: f64| (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        close(second(Activation::GELU, &x), &|x| pdf(x) * (2.0 - x * x), "gelu")?;
        // Mish and tanh-GELU: against finite differences of the first derivative.
        for act in [Activation::Mish, Activation::GELU_TANH] {
            prop_assert!(gradcheck(|_, v| {
                let d1 = v[0].activation(act).sum().grad_graph(v).unwrap()[0];
                d1.sum()
            }, std::slice::from_ref(&x)).is_ok(), "{}", act.name());
        }
    }

    #[test]
    fn arithmetic_and_broadcasting_twice((a, b) in strategy::broadcast_pair(3, 3, -2.0..2.0)) {
        let b = b.map(|x| if x.abs() < 0.5 { x.signum() * 0.5 + x } else { x });
        check_twice(|_, v| (v[0] * v[1]).tanh().sum(), &[a.clone(), b.clone()])?;
        check_twice(|_, v| (v[0] / v[1]).square().sum(), &[a.clone(), b.clone()])?;
        check_twice(|_, v| (v[0] - v[1]).sin().sum() + (v[0] + v[1]).square().mean(), &[a.clone(), b.clone()])?;
        let pos = a.map(|x| x.abs() + 0.5);
        check_twice(|_, v| v[0].pow(v[1]).sum(), &[pos.clone(), b.clone()])?;
        check_twice(|_, v| v[0].maximum(v[1]).square().sum() + v[0].minimum(v[1]).powi(3).sum(), &[apart(a.dims(), 1), apart(b.dims(), 2).map(|x| x + 0.033)])?;
    }

    #[test]
    fn products_twice(m in 1usize..4, k in 1usize..4, n in 1usize..4, batch in 1usize..3, seed in 0u64..1000) {
        check_twice(|_, v| v[0].matmul(v[1]).tanh().sum(), &[t(&[m, k], seed), t(&[k, n], seed + 1)])?;
        check_twice(|_, v| v[0].matmul(v[1]).square().sum(), &[t(&[batch, m, k], seed), t(&[k, n], seed + 2)])?;
        check_twice(|_, v| v[0].matmul(v[1]).square().sum(), &[t(&[m, k], seed), t(&[batch, k, n], seed + 3)])?;
        check_twice(|_, v| v[0].linear(v[1], Some(v[2])).sigmoid().sum(), &[t(&[m, k], seed), t(&[n, k], seed + 5), t(&[n], seed + 6)])?;
        check_twice(|_, v| v[0].linear(v[1], None).square().sum(), &[t(&[k], seed), t(&[n, k], seed + 7)])?;
        // The fused hidden layer (its slope taken from its output), squared
        // so the second derivative goes through the activation's too.
        for act in [Activation::Tanh, Activation::Sigmoid, Activation::Relu, Activation::LeakyRelu(0.1)] {
            check_twice(move |_, v| v[0].linear_act(v[1], Some(v[2]), act).square().sum(), &[t(&[m, k], seed), t(&[n, k], seed + 8), t(&[n], seed + 9)])?;
        }
        check_twice(|_, v| v[0].linear_act(v[1], None, Activation::Tanh).square().sum(), &[t(&[k], seed), t(&[n, k], seed + 10)])?;
    }

    #[test]
    fn unary_maps_twice(x in strategy::tensor(vec![2, 3], -1.2..1.2)) {
        let pos = x.map(|v| v.abs() + 0.3);
        check_twice(|_, v| (v[0].exp() + v[0].cos() + v[0].tan() + v[0].expm1()).square().sum(), std::slice::from_ref(&x))?;
        check_twice(|_, v| (v[0].ln() + v[0].sqrt() + v[0].recip() + v[0].log1p() + v[0].powf(1.7)).square().sum(), std::slice::from_ref(&pos))?;
        check_twice(|_, v| (v[0].abs() * v[0]).sum() + v[0].clamp(-0.5, 0.5).square().sum(), &[x.map(|v| if v.abs() < 0.1 { 0.2 } else { v })])?;
        check_twice(|_, v| v[0].neg().add_scalar(0.3).mul_scalar(2.0).square().sum(), std::slice::from_ref(&x))?;
    }

    #[test]
    fn reductions_and_shapes_twice(x in strategy::tensor(vec![2, 3, 2], -1.0..1.0), axis in 0isize..3, keep: bool) {
        check_twice(move |_, v| v[0].sum_axis(axis, keep).square().sum(), std::slice::from_ref(&x))?;
        check_twice(move |_, v| v[0].mean_axis(axis, keep).tanh().mean(), std::slice::from_ref(&x))?;
        check_twice(|_, v| v[0].reshape(&[3, 4]).matmul(v[0].reshape(&[4, 3])).sum(), std::slice::from_ref(&x))?;
        check_twice(|_, v| (v[0].permute(&[2, 0, 1]).square() * v[0].permute(&[2, 0, 1])).sum(), std::slice::from_ref(&x))?;
        check_twice(|_, v| v[0].transpose(0, 2).sin().sum(), std::slice::from_ref(&x))?;
        check_twice(move |_, v| v[0].index_select(axis, &[1, 0, 1]).square().sum(), std::slice::from_ref(&x))?;
        check_twice(|_, v| Var::concat(&[v[0].narrow(1, 1, 2), v[0].square()], 1).tanh().sum(), std::slice::from_ref(&x))?;
        check_twice(move |_, v| v[0].max_axis(axis, keep).square().sum() + v[0].min_axis(axis, keep).powi(3).sum(), &[apart(x.dims(), 3)])?;
        check_twice(move |_, v| v[0].logsumexp(axis, keep).square().sum(), std::slice::from_ref(&x))?;
        let mask = x.map(|v| if v > 0.0 { 1.0 } else { 0.0 });
        check_twice(move |_, v| v[0].square().where_mask(&mask, v[0].sin()).sum(), std::slice::from_ref(&x))?;
    }

    #[test]
    fn softmax_and_losses_twice(x in strategy::tensor(vec![3, 4], -2.0..2.0), axis in 0isize..2) {
        check_twice(move |_, v| (v[0].softmax_axis(axis) * v[0]).sum(), std::slice::from_ref(&x))?;
        check_twice(move |_, v| v[0].log_softmax_axis(axis).square().sum(), std::slice::from_ref(&x))?;
        check_twice(|_, v| v[0].cross_entropy(&[1, 3, 0]), std::slice::from_ref(&x))?;
        let target = x.map(|v| if v > 0.0 { 1.0 } else { 0.0 });
        check_twice(move |_, v| v[0].bce_with_logits(&target), std::slice::from_ref(&x))?;
        let goal = x.map(|v| v * 0.5 - 0.1);
        check_twice(move |_, v| v[0].tanh().mse(&goal), std::slice::from_ref(&x))?;
    }

    // Convolution (strides, padding, dilation, groups), pooling and a
    // batch-norm-style normalisation, each differentiated twice.
    #[test]
    fn vision_ops_twice(n in 1usize..3, groups in 1usize..3, s in 1usize..3, pad in 0usize..2, d in 1usize..3, seed in 0u64..1000) {
        let (c, o) = (2 * groups, 2 * groups);
        let p = ConvParams::default().stride(s).padding(pad).dilation(d).groups(groups);
        let x = t(&[n, c, 5, 5], seed);
        let w = t(&[o, 2, 2, 2], seed + 1);
        let b = t(&[o], seed + 2);
        check_twice(move |_, v| v[0].conv2d(v[1], Some(v[2]), p).tanh().sum(), &[x.clone(), w.clone(), b.clone()])?;
        check_twice(|_, v| v[0].max_pool2d(Pool2d::new(2)).square().sum(), &[apart(&[n, c, 4, 4], seed)])?;
        check_twice(|_, v| v[0].avg_pool2d(Pool2d::new(2).stride(1).padding(1)).square().sum(), std::slice::from_ref(&x))?;
        check_twice(|_, v| v[0].adaptive_avg_pool2d_1x1().flatten().sin().sum(), std::slice::from_ref(&x))?;
        // Batch norm's training pass: centre and scale by the batch statistics.
        check_twice(|_, v| {
            let mean = v[0].mean_axis(3, true).mean_axis(2, true).mean_axis(0, true);
            let centred = v[0] - mean;
            let var = centred.square().mean_axis(3, true).mean_axis(2, true).mean_axis(0, true);
            (centred / var.add_scalar(1e-5).sqrt()).tanh().sum()
        }, &[t(&[2, c, 3, 3], seed)])?;
    }

    // hvp is the Hessian times v; the Hessian is symmetric and is the
    // finite difference of the gradient.
    #[test]
    fn hessian_of_a_small_mlp_loss(seed in 0u64..1000, direction in strategy::tensor(vec![10], -1.0..1.0)) {
        let x = t(&[4, 2], seed);
        // Parameters of a 2 → 2 (tanh) → 1 net, packed in one vector: W₁ (4), b₁ (2), W₂ (2), b₂ (1), and one spare.
        let p0 = t(&[10], seed + 9);
        let h = hessian(|tape, p| mlp_loss(tape, p, &x), &p0).map_err(fail)?;
        let hv = h.to_vec();
        for i in 0..10 {
            for j in 0..10 {
                prop_assert!((hv[i * 10 + j] - hv[j * 10 + i]).abs() < 1e-12, "H not symmetric at ({i}, {j})");
            }
        }
        // Finite differences of the first-order gradient, column by column.
        let grad = |p: &Tensor<f64>| {
            let tape = Tape::new();
            let v = tape.leaf(p.clone());
            mlp_loss(&tape, v, &x).backward().wrt(&v).unwrap().to_vec()
        };
        let eps = 1e-5;
        for j in 0..10 {
            let mut up = p0.to_vec();
            let mut down = p0.to_vec();
            up[j] += eps;
            down[j] -= eps;
            let (gu, gd) = (grad(&Tensor::from_vec(up, [10]).unwrap()), grad(&Tensor::from_vec(down, [10]).unwrap()));
            for i in 0..10 {
                let fd = (gu[i] - gd[i]) / (2.0 * eps);
                prop_assert!((hv[i * 10 + j] - fd).abs() < 1e-6 * (1.0 + fd.abs()), "H[{i}][{j}] = {} vs {fd}", hv[i * 10 + j]);
            }
        }
        let (_, hvp_out) = hvp(|tape, p| mlp_loss(tape, p[0], &x), std::slice::from_ref(&p0), std::slice::from_ref(&direction)).map_err(fail)?;
        let dv = direction.to_vec();
        for (i, got) in hvp_out[0].to_vec().iter().enumerate() {
            let want: f64 = (0..10).map(|j| hv[i * 10 + j] * dv[j]).sum();
            prop_assert!((got - want).abs() < 1e-10 * (1.0 + want.abs()), "hvp[{i}] = {got} vs H·v = {want}");
        }
    }
}

/// The MSE of a 2 → 2 (tanh) → 1 (sigmoid) net on XOR-like targets, its
/// parameters packed in one vector — W₁ (4), b₁ (2), W₂ (2), b₂ (1) — plus a
/// spare weight under an L2 penalty.
fn mlp_loss<'t>(tape: &'t Tape<f64>, p: Var<'t, f64>, x: &Tensor<f64>) -> Var<'t, f64> {
    let w1 = p.narrow(0, 0, 4).reshape(&[2, 2]);
    let b1 = p.narrow(0, 4, 2);
    let w2 = p.narrow(0, 6, 2).reshape(&[1, 2]);
    let b2 = p.narrow(0, 8, 1);
    let h = tape.constant(x.clone()).linear(w1, Some(b1)).tanh();
    h.linear(w2, Some(b2)).sigmoid().mse(&Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0], [4, 1]).unwrap())
        + p.narrow(0, 9, 1).square().sum().mul_scalar(0.1)
}

#[test]
fn third_and_fourth_derivatives() {
    let tape = Tape::<f64>::new();
    let x = tape.leaf(Tensor::from_vec(vec![0.7, -1.1], [2]).unwrap());
    let d1 = x.sin().sum().grad_graph(&[x]).unwrap()[0];
    let d2 = d1.sum().grad_graph(&[x]).unwrap()[0];
    let d3 = d2.sum().grad_graph(&[x]).unwrap()[0];
    let d4 = d3.sum().grad_graph(&[x]).unwrap()[0];
    for (i, &v) in [0.7f64, -1.1].iter().enumerate() {
        assert!((d3.value().to_vec()[i] + v.cos()).abs() < 1e-15);
        assert!((d4.value().to_vec()[i] - v.sin()).abs() < 1e-15);
    }
}

#[test]
fn jacobian_matches_one_backward_per_row_and_gradients_of_unused_inputs_are_zero() {
    let x = t(&[3], 4);
    let j = jacobian(|_, x| (x.square() * x.narrow(0, 0, 1)).tanh(), &x);
    let eps = 1e-6;
    let f = |v: &[f64]| -> Vec<f64> { (0..3).map(|i| (v[i] * v[i] * v[0]).tanh()).collect() };
    for c in 0..3 {
        let mut up = x.to_vec();
        let mut down = x.to_vec();
        up[c] += eps;
        down[c] -= eps;
        let (fu, fd) = (f(&up), f(&down));
        for r in 0..3 {
            let num = (fu[r] - fd[r]) / (2.0 * eps);
            assert!((j.to_vec()[r * 3 + c] - num).abs() < 1e-8, "J[{r}][{c}]");
        }
    }
    let tape = Tape::<f64>::new();
    let (a, b) = (tape.leaf(Tensor::ones([2])), tape.leaf(Tensor::ones([3])));
    let g = a.square().sum().grad_graph(&[a, b]).unwrap();
    assert_eq!(g[1].value().to_vec(), vec![0.0; 3]);
}

/// y = x³, with a first-order backward only.
struct CubeOnce;
impl CustomOp<f64> for CubeOnce {
    fn name(&self) -> &str {
        "cube_once"
    }
    fn forward(&self, inputs: &[&Tensor<f64>]) -> Tensor<f64> {
        inputs[0].powi(3)
    }
    fn backward(&self, inputs: &[&Tensor<f64>], _out: &Tensor<f64>, grad: &Tensor<f64>) -> Vec<Tensor<f64>> {
        vec![grad.mul(&inputs[0].square().mul_scalar(3.0))]
    }
}

#[test]
fn a_custom_op_without_a_graph_backward_is_named_and_constants_are_refused() {
    let tape = Tape::<f64>::new();
    let x = tape.leaf(Tensor::from_vec(vec![2.0], [1]).unwrap());
    let y = tape.apply(CubeOnce, &[x]).sum();
    assert_eq!(y.backward().wrt(&x).unwrap().to_vec(), vec![12.0], "first order still works");
    match y.grad_graph(&[x]) {
        Err(e @ AutogradError::NotTwiceDifferentiable { .. }) => assert!(e.to_string().contains("`cube_once`"), "{e}"),
        other => panic!("expected NotTwiceDifferentiable, got {other:?}"),
    }
    let c = tape.constant(Tensor::ones([1]));
    let e = (c * x).sum().grad_graph(&[x, c]).unwrap_err();
    assert_eq!(e, AutogradError::NoGradient { position: 1, node: c.index() });
}

/// WGAN-GP's penalty on a small CNN critic: ‖∂D/∂x‖² is trained with the
/// ordinary backward, through conv, pooling and the critic's weights; its
/// gradient with respect to the weights passes gradcheck.
#[test]
fn a_gradient_penalty_through_a_cnn_differentiates() {
    let x = t(&[2, 1, 6, 6], 11);
    let w1 = t(&[3, 1, 3, 3], 12);
    let w2 = t(&[1, 27], 13);
    gradcheck(
        |tape, v| {
            let input = tape.leaf(x.clone());
            let h = input.conv2d(v[0], None, ConvParams::default().padding(1)).tanh().max_pool2d(Pool2d::new(2));
            let score = h.flatten().matmul(v[1].t()).sum();
            let gx = score.grad_graph(&[input]).unwrap()[0];
            gx.square().sum()
        },
        &[w1, w2],
    )
    .unwrap();
}

/// The adjoint ops graph-mode backward records (a convolution's backward
/// products, max pooling's scatter, average pooling's spread,
/// `index_select`'s scatter-add) are themselves differentiated twice here:
/// third derivatives of the original ops.
#[test]
fn third_derivatives_through_the_adjoint_ops() {
    fn once_more<'t>(
        tape: &'t Tape<f64>,
        v: &[Var<'t, f64>],
        f: impl Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
    ) -> Var<'t, f64> {
        let gs = f(v).grad_graph(v).unwrap();
        gs.iter()
            .enumerate()
            .map(|(i, g)| (*g * tape.constant(t(&g.dims(), 50 + i as u64))).sum())
            .reduce(|a, b| a + b)
            .unwrap()
    }
    let p = ConvParams::default().padding(1).stride(2);
    check_twice(
        move |tape, v| once_more(tape, v, |v| v[0].conv2d(v[1], None, p).tanh().sum()),
        &[t(&[2, 2, 5, 5], 1), t(&[3, 2, 3, 3], 2)],
    )
    .unwrap();
    check_twice(
        |tape, v| once_more(tape, v, |v| v[0].max_pool2d(Pool2d::new(2)).powi(3).sum()),
        &[apart(&[1, 2, 4, 4], 3)],
    )
    .unwrap();
    check_twice(
        |tape, v| once_more(tape, v, |v| v[0].avg_pool2d(Pool2d::new(2).stride(1)).powi(3).sum()),
        &[t(&[1, 2, 4, 4], 4)],
    )
    .unwrap();
    check_twice(|tape, v| once_more(tape, v, |v| v[0].index_select(1, &[2, 0, 2]).powi(3).sum()), &[t(&[2, 3], 5)])
        .unwrap();
}
