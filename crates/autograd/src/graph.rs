//! Graph-mode backward: the reverse sweep written with recorded ops, so the
//! gradients it returns are vars on the same tape and can be differentiated
//! again, any number of times ([`Var::grad_graph`]).
//!
//! It is a second sweep beside the first-order one in `backward.rs`, not a
//! mode of it: the first-order `backward` computes plain tensors and stays
//! as fast as it was. Each arm below is the first-order arm's formula with
//! `Var` operands; where a first-order arm calls a tensor kernel with no
//! recorded form (a convolution's backward products, max pooling's scatter,
//! average pooling's spread, `index_select`'s adjoint) there is a recorded
//! op for it whose own backward is again recorded (`Op::Conv2dBackInput`,
//! `Op::Scatter`, …). Piecewise-constant factors (ReLU's step, a `where`
//! mask, a max's winner) enter as constants: their derivative is zero
//! almost everywhere, as in PyTorch.

use std::sync::Arc;

use strata_tensor::{ConvParams, Float, Pool2d, Shape, Tensor};

use crate::activation::{Activation, GeluApprox};
use crate::error::AutogradError;
use crate::op::Op;
use crate::ops_support::{extremum_share, gather, scatter};
use crate::unary::UnaryFn;
use crate::var::Var;

/// What one node's backward needs, copied out of the tape so the tape can
/// be borrowed mutably (to record) while the shares are built.
enum Step<T: Float> {
    None,
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Div(usize, usize),
    Matmul(usize, usize),
    /// `act(x·Wᵀ + b)` (`None`: `x·Wᵀ + b`).
    Linear(usize, usize, Option<usize>, Option<Activation>),
    AddScalar(usize),
    MulScalar(usize, T),
    PowScalar(usize, T),
    Neg(usize),
    Exp(usize),
    Log(usize),
    Sqrt(usize),
    Abs(usize),
    Map(usize, UnaryFn),
    SumAll(usize),
    MeanAll(usize),
    SumAxis(usize, usize, bool, bool),
    Reshape(usize),
    Permute(usize, Vec<usize>),
    Transpose(usize, usize, usize),
    IndexSelect(usize, usize, Arc<[usize]>),
    Concat(Vec<usize>, usize),
    Narrow(usize, usize, usize),
    Act(usize, Activation),
    Softmax(usize, usize),
    LogSoftmax(usize, usize),
    CrossEntropy(usize, Arc<[usize]>),
    BceWithLogits(usize, Tensor<T>),
    Mse(usize, Tensor<T>),
    Conv2d(usize, usize, Option<usize>, ConvParams),
    Pick(usize, Arc<Vec<usize>>),
    Scatter(usize, Arc<Vec<usize>>),
    AvgPool2d(usize, Pool2d),
    Extremum(usize, usize, bool),
    Pow(usize, usize),
    Where(usize, usize, Tensor<T>),
    Conv2dBackInput(usize, usize, ConvParams),
    Conv2dBackWeight(usize, usize, ConvParams),
    Gather(usize, Arc<Vec<usize>>),
    AvgPool2dBack(usize, Pool2d),
    IndexAdd(usize, usize, Arc<[usize]>),
    Custom(std::rc::Rc<dyn crate::CustomOp<T>>, Vec<usize>),
}

fn step_of<T: Float>(op: &Op<T>) -> Step<T> {
    match op {
        Op::Leaf(_) | Op::Constant => Step::None,
        Op::Add(a, b) => Step::Add(*a, *b),
        Op::Sub(a, b) => Step::Sub(*a, *b),
        Op::Mul(a, b) => Step::Mul(*a, *b),
        Op::Div(a, b) => Step::Div(*a, *b),
        Op::Matmul(a, b) => Step::Matmul(*a, *b),
        Op::Linear(x, w, b) => Step::Linear(*x, *w, *b, None),
        Op::LinearAct(x, w, b, act) => Step::Linear(*x, *w, *b, Some(*act)),
        Op::AddScalar(a) => Step::AddScalar(*a),
        Op::MulScalar(a, s) => Step::MulScalar(*a, *s),
        Op::PowScalar(a, p) => Step::PowScalar(*a, *p),
        Op::Neg(a) => Step::Neg(*a),
        Op::Exp(a) => Step::Exp(*a),
        Op::Log(a) => Step::Log(*a),
        Op::Sqrt(a) => Step::Sqrt(*a),
        Op::Abs(a) => Step::Abs(*a),
        Op::Map(a, f) => Step::Map(*a, *f),
        Op::SumAll(a) => Step::SumAll(*a),
        Op::MeanAll(a) => Step::MeanAll(*a),
        Op::SumAxis(a, ax, keep) => Step::SumAxis(*a, *ax, *keep, false),
        Op::MeanAxis(a, ax, keep) => Step::SumAxis(*a, *ax, *keep, true),
        Op::Reshape(a) => Step::Reshape(*a),
        Op::Permute(a, perm) => Step::Permute(*a, perm.clone()),
        Op::Transpose(a, x, y) => Step::Transpose(*a, *x, *y),
        Op::IndexSelect(a, ax, idx) => Step::IndexSelect(*a, *ax, idx.clone()),
        Op::Concat(parts, ax) => Step::Concat(parts.clone(), *ax),
        Op::Narrow(a, ax, start) => Step::Narrow(*a, *ax, *start),
        Op::Act(a, act) => Step::Act(*a, *act),
        Op::Softmax(a, ax) => Step::Softmax(*a, *ax),
        Op::LogSoftmax(a, ax) => Step::LogSoftmax(*a, *ax),
        Op::CrossEntropy(a, payload) => Step::CrossEntropy(*a, payload.1.clone()),
        Op::BceWithLogits(a, t) => Step::BceWithLogits(*a, (**t).clone()),
        Op::Mse(a, t) => Step::Mse(*a, (**t).clone()),
        Op::Conv2d(c) => Step::Conv2d(c.0, c.1, c.2, c.3),
        Op::MaxPool2d(a, taken) | Op::PickAxis(a, taken, _) => Step::Pick(*a, taken.clone()),
        Op::Scatter(a, taken) => Step::Scatter(*a, taken.clone()),
        Op::AvgPool2d(p) => Step::AvgPool2d(p.0, p.1),
        Op::Maximum(a, b) => Step::Extremum(*a, *b, true),
        Op::Minimum(a, b) => Step::Extremum(*a, *b, false),
        Op::Pow(a, b) => Step::Pow(*a, *b),
        Op::Where(a, b, mask) => Step::Where(*a, *b, (**mask).clone()),
        Op::Conv2dBackInput(c) => Step::Conv2dBackInput(c.0, c.1, c.3),
        Op::Conv2dBackWeight(c) => Step::Conv2dBackWeight(c.0, c.1, c.3),
        Op::Gather(a, taken) => Step::Gather(*a, taken.clone()),
        Op::AvgPool2dBack(p) => Step::AvgPool2dBack(p.0, p.1),
        Op::IndexAdd(p) => Step::IndexAdd(p.0, p.1, p.2.clone()),
        Op::Custom(op, inputs) => Step::Custom(op.clone(), inputs.to_vec()),
    }
}

/// Sums `g` down to `shape` (the adjoint of broadcasting `shape` up to `g`'s).
fn sum_to<'t, T: Float>(g: Var<'t, T>, shape: &Shape) -> Var<'t, T> {
    let mut g = g;
    while g.dims().len() > shape.rank() {
        g = g.sum_axis(0, false);
    }
    for (ax, &want) in shape.dims().iter().enumerate() {
        if want == 1 && g.dims()[ax] != 1 {
            g = g.sum_axis(ax as isize, true);
        }
    }
    g
}

/// `g` broadcast to `shape` (the adjoint of a full or axis sum), recorded.
fn expand<'t, T: Float>(g: Var<'t, T>, shape: &Shape) -> Var<'t, T> {
    g * g.tape.constant(Tensor::ones(shape.clone()))
}

/// A constant from an elementwise function of a value.
fn constant_map<'t, T: Float>(v: Var<'t, T>, f: impl Fn(T) -> T + Sync + Send) -> Var<'t, T> {
    v.tape.constant(v.value().map(f))
}

/// `dy/dx` of an activation as a var (for `g ⊙ dy/dx`).
fn activation_slope<'t, T: Float>(act: Activation, x: Var<'t, T>, y: Var<'t, T>) -> Var<'t, T> {
    let one = T::one();
    let mask = |v: Var<'t, T>| constant_map(v, |x| if x > T::zero() { one } else { T::zero() });
    match act {
        // Piecewise linear: the slope is piecewise constant.
        Activation::Identity | Activation::Relu | Activation::LeakyRelu(_) | Activation::Hardtanh(..) => {
            constant_map(x, move |v| act.df(v, act.f(v)))
        }
        Activation::Elu(a) => {
            let m = mask(x);
            m + (m.neg().add_scalar(one)) * y.add_scalar(T::of(a))
        }
        Activation::Selu => {
            let m = mask(x);
            let scale = T::of(crate::SELU_SCALE);
            m.mul_scalar(scale) + (m.neg().add_scalar(one)) * y.add_scalar(scale * T::of(crate::SELU_ALPHA))
        }
        Activation::Sigmoid => y - y.square(),
        Activation::Tanh => y.square().neg().add_scalar(one),
        Activation::Silu(b) => {
            let bx = x.mul_scalar(T::of(b));
            let s = bx.sigmoid();
            s + bx * (s - s.square())
        }
        Activation::Mish => {
            let t = x.softplus().tanh();
            t + x * t.square().neg().add_scalar(one) * x.sigmoid()
        }
        Activation::Gelu(GeluApprox::None) => {
            let pdf =
                x.square().mul_scalar(T::of(-0.5)).exp().mul_scalar(T::of(1.0 / (2.0 * std::f64::consts::PI).sqrt()));
            x.map_fn(UnaryFn::NormCdf) + x * pdf
        }
        Activation::Gelu(GeluApprox::Tanh) => {
            let (k, c) = (T::of((2.0 / std::f64::consts::PI).sqrt()), T::of(0.044_715));
            let x2 = x.square();
            let t = (x + x2 * x * c).mul_scalar(k).tanh();
            let sech2 = t.square().neg().add_scalar(one);
            t.add_scalar(one).mul_scalar(T::of(0.5))
                + x * sech2 * x2.mul_scalar(T::of(3.0) * c).add_scalar(one).mul_scalar(T::of(0.5) * k)
        }
        Activation::Softplus(b) => x.mul_scalar(T::of(b)).sigmoid(),
    }
}

/// `df/dx` of an elementwise map as a var.
fn map_slope<'t, T: Float>(f: UnaryFn, x: Var<'t, T>, y: Var<'t, T>) -> Var<'t, T> {
    let one = T::one();
    match f {
        UnaryFn::Sin => x.cos(),
        UnaryFn::Cos => x.sin().neg(),
        UnaryFn::Tan => y.square().add_scalar(one),
        UnaryFn::Recip => y.square().neg(),
        UnaryFn::Log1p => x.add_scalar(one).recip(),
        UnaryFn::Expm1 => y.add_scalar(one),
        UnaryFn::NormCdf => {
            x.square().mul_scalar(T::of(-0.5)).exp().mul_scalar(T::of(1.0 / (2.0 * std::f64::consts::PI).sqrt()))
        }
        UnaryFn::Clamp(..) | UnaryFn::Floor | UnaryFn::Ceil | UnaryFn::Round | UnaryFn::Signum => {
            constant_map(x, move |v| f.df(v, f.f(v)))
        }
    }
}

/// Adjoints of every node from `root` down, seeded with `seed` at `root`;
/// the gradient of each var of `wrt` is read off at the end.
pub(crate) fn grad_graph<'t, T: Float>(
    root: Var<'t, T>,
    seed: Var<'t, T>,
    wrt: &[Var<'t, T>],
) -> Result<Vec<Var<'t, T>>, AutogradError> {
    let tape = root.tape;
    for (position, w) in wrt.iter().enumerate() {
        if w.tape_id() != tape.id {
            return Err(AutogradError::ForeignVar { node: w.index });
        }
        if !w.requires_grad() {
            return Err(AutogradError::NoGradient { position, node: w.index });
        }
    }
    let lowest = wrt.iter().map(|w| w.index).min().unwrap_or(root.index);
    let mut adj: Vec<Option<Var<'t, T>>> = vec![None; root.index + 1];
    if root.requires_grad() {
        adj[root.index] = Some(seed);
    }
    let needs = |p: usize| tape.nodes.borrow().needs_grad[p];
    for i in (lowest..=root.index).rev() {
        let Some(g) = adj[i] else { continue };
        let (step, name) = {
            let nodes = tape.nodes.borrow();
            if !nodes.needs_grad[i] {
                continue;
            }
            (step_of(&nodes.ops[i]), nodes.ops[i].name())
        };
        let var = |p: usize| Var::new(tape, p);
        let out = var(i);
        let mut send = |p: usize, share: &dyn Fn() -> Var<'t, T>| {
            if needs(p) {
                let s = share();
                adj[p] = Some(match adj[p] {
                    None => s,
                    Some(prev) => prev + s,
                });
            }
        };
        match step {
            Step::None => {}
            Step::Add(a, b) => {
                send(a, &|| sum_to(g, &var(a).shape()));
                send(b, &|| sum_to(g, &var(b).shape()));
            }
            Step::Sub(a, b) => {
                send(a, &|| sum_to(g, &var(a).shape()));
                send(b, &|| sum_to(g.neg(), &var(b).shape()));
            }
            Step::Mul(a, b) => {
                send(a, &|| sum_to(g * var(b), &var(a).shape()));
                send(b, &|| sum_to(g * var(a), &var(b).shape()));
            }
            Step::Div(a, b) => {
                send(a, &|| sum_to(g / var(b), &var(a).shape()));
                send(b, &|| sum_to((g * out / var(b)).neg(), &var(b).shape()));
            }
            Step::Matmul(a, b) => {
                // Recorded matmuls are 2-D or 3-D; a broadcast batch sums back.
                send(a, &|| sum_to(g.matmul(var(b).t()), &var(a).shape()));
                send(b, &|| sum_to(var(a).t().matmul(g), &var(b).shape()));
            }
            Step::Linear(x, w, b, act) => {
                // A fused activation's slope comes from the output.
                let g = act.map_or(g, |act| g * activation_slope(act, out, out));
                let row = |v: Var<'t, T>| if v.dims().len() == 1 { v.reshape(&[1, v.dims()[0]]) } else { v };
                let (x2, g2) = (row(var(x)), row(g));
                send(x, &|| g2.matmul(var(w)).reshape(&var(x).dims()));
                send(w, &|| g2.t().matmul(x2));
                if let Some(b) = b {
                    send(b, &|| g2.sum_axis(0, false));
                }
            }
            Step::AddScalar(a) => send(a, &|| g),
            Step::MulScalar(a, s) => send(a, &|| g.mul_scalar(s)),
            Step::PowScalar(a, p) => send(a, &|| g * var(a).powf(p - T::one()).mul_scalar(p)),
            Step::Neg(a) => send(a, &|| g.neg()),
            Step::Exp(a) => send(a, &|| g * out),
            Step::Log(a) => send(a, &|| g / var(a)),
            Step::Sqrt(a) => send(a, &|| g / out.mul_scalar(T::of(2.0))),
            Step::Abs(a) => send(a, &|| g * var(a).signum()),
            Step::Map(a, f) => send(a, &|| g * map_slope(f, var(a), out)),
            Step::SumAll(a) => send(a, &|| expand(g, &var(a).shape())),
            Step::MeanAll(a) => {
                let n = T::of(var(a).shape().numel() as f64);
                send(a, &|| expand(g, &var(a).shape()).mul_scalar(T::one() / n));
            }
            Step::SumAxis(a, ax, keep, mean) => send(a, &|| {
                let shape = var(a).shape();
                let mut kept = shape.dims().to_vec();
                kept[ax] = 1;
                let g = if keep { g } else { g.reshape(&kept) };
                let e = expand(g, &shape);
                if mean {
                    e.mul_scalar(T::one() / T::of(shape.dims()[ax] as f64))
                } else {
                    e
                }
            }),
            Step::Reshape(a) => send(a, &|| g.reshape(&var(a).dims())),
            Step::Permute(a, perm) => {
                let mut inverse = vec![0; perm.len()];
                for (k, &p) in perm.iter().enumerate() {
                    inverse[p] = k;
                }
                send(a, &|| g.permute(&inverse));
            }
            Step::Transpose(a, x, y) => send(a, &|| g.transpose(x as isize, y as isize)),
            Step::IndexSelect(a, ax, idx) => {
                let len = var(a).dims()[ax];
                send(a, &|| g.index_add(ax, idx.clone(), len));
            }
            Step::Concat(parts, ax) => {
                let mut offset = 0;
                for p in parts {
                    let len = var(p).dims()[ax];
                    send(p, &|| g.narrow(ax as isize, offset, len));
                    offset += len;
                }
            }
            Step::Narrow(a, ax, start) => send(a, &|| {
                let dims = var(a).dims();
                let len = g.dims()[ax];
                let mut parts = Vec::new();
                let zeros = |n: usize| {
                    let mut d = dims.clone();
                    d[ax] = n;
                    tape.constant(Tensor::zeros(d))
                };
                if start > 0 {
                    parts.push(zeros(start));
                }
                parts.push(g);
                if start + len < dims[ax] {
                    parts.push(zeros(dims[ax] - start - len));
                }
                if parts.len() == 1 {
                    g
                } else {
                    Var::concat(&parts, ax as isize)
                }
            }),
            Step::Act(a, act) => send(a, &|| g * activation_slope(act, var(a), out)),
            Step::Softmax(a, ax) => send(a, &|| out * (g - (g * out).sum_axis(ax as isize, true))),
            Step::LogSoftmax(a, ax) => send(a, &|| g - out.exp() * g.sum_axis(ax as isize, true)),
            Step::CrossEntropy(a, labels) => send(a, &|| {
                let logits = var(a);
                let dims = logits.dims();
                let mut onehot = vec![T::zero(); dims[0] * dims[1]];
                for (row, &l) in labels.iter().enumerate() {
                    onehot[row * dims[1] + l] = T::one();
                }
                let onehot = tape.constant(Tensor::from_vec(onehot, dims).expect("one per logit"));
                let n = T::of(labels.len().max(1) as f64);
                (logits.softmax_axis(1) - onehot) * g.mul_scalar(T::one() / n)
            }),
            Step::BceWithLogits(a, t) => send(a, &|| {
                let n = T::of(t.numel() as f64);
                (var(a).sigmoid() - tape.constant(t.clone())) * g.mul_scalar(T::one() / n)
            }),
            Step::Mse(a, t) => send(a, &|| {
                let n = T::of(t.numel() as f64);
                (var(a) - tape.constant(t.clone())) * g.mul_scalar(T::of(2.0) / n)
            }),
            Step::Conv2d(x, w, b, p) => {
                let xd = dims4(var(x));
                send(x, &|| g.conv2d_back_input(var(w), xd, p));
                send(w, &|| g.conv2d_back_weight(var(x), dims4(var(w)), p));
                if let Some(b) = b {
                    send(b, &|| g.sum_axis(3, false).sum_axis(2, false).sum_axis(0, false));
                }
            }
            Step::Pick(a, taken) => send(a, &|| g.scatter(taken.clone(), var(a).shape())),
            Step::Scatter(a, taken) => send(a, &|| g.gather(taken.clone(), var(a).shape())),
            Step::AvgPool2d(a, pool) => send(a, &|| g.avg_pool2d_back(pool, dims4(var(a)))),
            Step::Extremum(a, b, max) => {
                let wins = extremum_share::<T>(max);
                let (va, vb) = (var(a).value(), var(b).value());
                send(a, &|| sum_to(g * tape.constant(va.zip_with(&vb, wins)), &va.shape().clone()));
                send(b, &|| sum_to(g * tape.constant(vb.zip_with(&va, wins)), &vb.shape().clone()));
            }
            Step::Pow(a, b) => {
                send(a, &|| sum_to(g * var(b) * var(a).pow(var(b).add_scalar(-T::one())), &var(a).shape()));
                send(b, &|| {
                    // d/db = a^b·ln a where a > 0 (0 elsewhere, as first order).
                    let positive = var(a).value().map(|x| if x > T::zero() { T::one() } else { T::zero() });
                    let safe = var(a).where_mask(&positive, tape.constant(Tensor::ones(var(a).shape())));
                    sum_to(g * out * safe.ln() * tape.constant(positive.clone()), &var(b).shape())
                });
            }
            Step::Where(a, b, mask) => {
                let keep = mask.map(|m| if m != T::zero() { T::one() } else { T::zero() });
                let drop = keep.map(|k| T::one() - k);
                send(a, &|| sum_to(g * tape.constant(keep.clone()), &var(a).shape()));
                send(b, &|| sum_to(g * tape.constant(drop.clone()), &var(b).shape()));
            }
            Step::Conv2dBackInput(gy, w, p) => {
                // Z = convᵀ(G, W), upstream H: dG = conv(H, W), dW = conv_w(G, H).
                send(gy, &|| g.conv2d(var(w), None, p));
                send(w, &|| var(gy).conv2d_back_weight(g, dims4(var(w)), p));
            }
            Step::Conv2dBackWeight(gy, x, p) => {
                // Z = conv_w(G, X), upstream K: dG = conv(X, K), dX = convᵀ(G, K).
                send(gy, &|| var(x).conv2d(g, None, p));
                send(x, &|| var(gy).conv2d_back_input(g, dims4(var(x)), p));
            }
            Step::Gather(a, taken) => send(a, &|| g.scatter(taken.clone(), var(a).shape())),
            Step::AvgPool2dBack(a, pool) => send(a, &|| g.avg_pool2d(pool)),
            Step::IndexAdd(a, ax, idx) => send(a, &|| g.index_select(ax as isize, &idx)),
            Step::Custom(op, inputs) => {
                let vars: Vec<Var<'t, T>> = inputs.iter().map(|&p| var(p)).collect();
                let Some(shares) = op.backward_graph(&vars, out, g) else {
                    return Err(AutogradError::NotTwiceDifferentiable { op: name, node: i });
                };
                assert!(
                    shares.len() == inputs.len(),
                    "custom op `{name}`: backward_graph returned {} gradients for {} inputs",
                    shares.len(),
                    inputs.len()
                );
                for (&p, share) in inputs.iter().zip(shares) {
                    assert!(
                        share.dims() == var(p).dims(),
                        "custom op `{name}`: backward_graph returned a gradient of shape {:?} for an input of shape {:?}",
                        share.dims(),
                        var(p).dims()
                    );
                    send(p, &|| share);
                }
            }
        }
        // An intermediate's adjoint is not needed once passed on (unless
        // asked for): drop the handle so it is not summed into again.
        if !wrt.iter().any(|w| w.index == i) {
            adj[i] = None;
        }
    }
    Ok(wrt.iter().map(|w| adj[w.index].unwrap_or_else(|| tape.constant(Tensor::zeros(w.shape())))).collect())
}

fn dims4<T: Float>(v: Var<'_, T>) -> [usize; 4] {
    v.dims().try_into().expect("a 4-D convolution operand")
}

// Recorded forms of the adjoint kernels, for the sweep above.
impl<'t, T: Float> Var<'t, T> {
    /// `conv2d_backward_input(self = G, w)` for an input of `dims`.
    pub(crate) fn conv2d_back_input(self, w: Var<'t, T>, dims: [usize; 4], p: ConvParams) -> Var<'t, T> {
        let out = self.value().conv2d_backward_input(&w.value(), &dims, p);
        self.tape.record(Op::Conv2dBackInput(Box::new((self.index, w.index, dims, p))), out)
    }

    /// `conv2d_backward_weight(self = G, x)` for a weight of `dims`.
    pub(crate) fn conv2d_back_weight(self, x: Var<'t, T>, dims: [usize; 4], p: ConvParams) -> Var<'t, T> {
        let out = self.value().conv2d_backward_weight(&x.value(), &dims, p);
        self.tape.record(Op::Conv2dBackWeight(Box::new((self.index, x.index, dims, p))), out)
    }

    /// Zeros of `shape` with `self[j]` added at flat index `taken[j]`.
    pub(crate) fn scatter(self, taken: Arc<Vec<usize>>, shape: Shape) -> Var<'t, T> {
        let out = scatter(&self.value(), &taken, &Tensor::zeros(shape));
        self.tape.record(Op::Scatter(self.index, taken), out)
    }

    /// `out[j] = self[taken[j]]`, of `shape`.
    pub(crate) fn gather(self, taken: Arc<Vec<usize>>, shape: Shape) -> Var<'t, T> {
        let out = gather(&self.value(), &taken, &Tensor::zeros(shape));
        self.tape.record(Op::Gather(self.index, taken), out)
    }

    /// Average pooling's adjoint for an input of `dims`.
    pub(crate) fn avg_pool2d_back(self, pool: Pool2d, dims: [usize; 4]) -> Var<'t, T> {
        let out = self.value().try_avg_pool2d_backward(&dims, pool).expect("the pooled shape, checked in forward");
        self.tape.record(Op::AvgPool2dBack(Box::new((self.index, pool, dims))), out)
    }

    /// Zeros with `len` along `axis`, `self` added at `indices`.
    pub(crate) fn index_add(self, axis: usize, indices: Arc<[usize]>, len: usize) -> Var<'t, T> {
        let mut dims = self.dims();
        dims[axis] = len;
        let out = Tensor::zeros(dims).index_add(axis as isize, &indices, &self.value());
        self.tape.record(Op::IndexAdd(Box::new((self.index, axis, indices, len))), out)
    }
}
