//! The reverse sweep: one exhaustive `match` over [`Op`], each arm sending its
//! inputs their share of the gradient. A parent that needs no gradient is
//! skipped before its share is computed. Gradients of intermediate nodes are
//! dropped as soon as they are passed on; only leaves keep theirs.

use std::borrow::Cow;

use strata_tensor::{Float, Tensor};

use crate::activation::with_variant;
use crate::anomaly::{Anomaly, Phase};
use crate::grads::Grads;
use crate::op::Op;
use crate::ops_support::{
    extremum_share, gather, log_softmax_grad, map3, reduced, scatter, softmax_grad, sum_axis_grad,
};
use crate::tape::{Nodes, Tape};

/// Accumulates gradient shares into `grads`, checking for anomalies.
struct Sink<'a, T: Float> {
    nodes: &'a Nodes<T>,
    grads: &'a mut [Option<Tensor<T>>],
    detect: bool,
    anomaly: Option<Anomaly>,
}

impl<T: Float> Sink<'_, T> {
    /// Adds `share()` to parent `p`'s gradient, computing it only if `p` needs one.
    fn send(&mut self, from: usize, p: usize, share: impl FnOnce() -> Tensor<T>) {
        if !self.nodes.needs_grad[p] {
            return;
        }
        let g = share();
        if self.detect && self.anomaly.is_none() && g.has_non_finite() {
            self.anomaly = Some(Anomaly { op: self.nodes.ops[from].name(), node: from, phase: Phase::Backward });
        }
        self.grads[p] = Some(match self.grads[p].take() {
            None => g,
            Some(prev) => prev.add(&g),
        });
    }
}

/// `t` as a matrix of rows: a 1-D `t` lifted to one row, a 2-D one
/// borrowed (a clone would cost two atomic count updates per use, which
/// a tiny network's step feels).
fn as_rows<T: Float>(t: &Tensor<T>) -> Cow<'_, Tensor<T>> {
    if t.rank() == 1 {
        Cow::Owned(t.unsqueeze(0))
    } else {
        Cow::Borrowed(t)
    }
}

/// The shares of `x·Wᵀ + b` (node `i`, parents `(x, w, b)`) for its
/// gradient `g`; `db`, when given, is the bias's share computed already.
fn linear_shares<T: Float>(
    sink: &mut Sink<'_, T>,
    i: usize,
    (x, w, b): (usize, usize, Option<usize>),
    g: &Tensor<T>,
    db: Option<Tensor<T>>,
) {
    let val = |p: usize| &sink.nodes.values[p];
    // A 1-D input is one row: lift it so both cases share one formula.
    let (xv, g2) = (as_rows(val(x)), as_rows(g));
    let (wv, x_rank, x_shape) = (val(w), val(x).rank(), val(x).shape());
    sink.send(i, x, || {
        let dx = g2.matmul(wv);
        if x_rank == 1 {
            dx.reshape(x_shape.clone())
        } else {
            dx
        }
    });
    sink.send(i, w, || g2.t().matmul(&xv));
    if let Some(b) = b {
        sink.send(i, b, || db.unwrap_or_else(|| g2.sum_axis(0, false)));
    }
}

/// For a layer's output `y = act(z)` (`[rows, n]` or `[n]`) and its
/// gradient `g`: `gz = g ⊙ act'(y)` (the slope from the output), and with
/// `row_sum` also `Σ_rows gz` (the bias's share), in one pass over the
/// rows. The sum adds the rows in order, as `sum_axis(0)` does, so the
/// bias gradient has the same bits as the two-pass form.
fn slope_and_row_sum<T: Float>(
    y: &Tensor<T>,
    g: &Tensor<T>,
    slope: impl Fn(T) -> T,
    row_sum: bool,
) -> (Tensor<T>, Option<Tensor<T>>) {
    let n = y.dims().last().copied().unwrap_or(1);
    let (ys, gs) = (y.contiguous_data(), g.contiguous_data());
    // Tensors, not vec!: one allocation each (a Vec passed to from_vec is
    // copied into the tensor's shared storage), from the buffer pool when
    // large; XOR's step allocated 4 more times with vecs. `gz` is empty,
    // not zeroed: the loop writes every value.
    let mut gz = Tensor::empty(y.shape().clone());
    let mut sum = row_sum.then(|| Tensor::zeros([n]));
    let (dz_all, mut sums) = (gz.as_mut_slice(), sum.as_mut().map(Tensor::as_mut_slice));
    if n > 0 {
        for ((dz, yr), gr) in dz_all.chunks_exact_mut(n).zip(ys.chunks_exact(n)).zip(gs.chunks_exact(n)) {
            dz.iter_mut().zip(yr).zip(gr).for_each(|((d, &y), &g)| *d = g * slope(y));
            if let Some(s) = sums.as_deref_mut() {
                s.iter_mut().zip(dz.iter()).for_each(|(s, &d)| *s += d);
            }
        }
    }
    (gz, sum)
}

pub(crate) fn run<T: Float>(tape: &Tape<T>, root: usize, seed: Tensor<T>) -> Grads<T> {
    let nodes = tape.nodes.borrow();
    let nodes: &Nodes<T> = &nodes;
    let mut grads: Vec<Option<Tensor<T>>> = crate::grads::empty_slots(root + 1);
    let mut tags: Vec<(u64, usize)> = Vec::new();
    if nodes.needs_grad[root] {
        grads[root] = Some(seed);
    }
    let mut keep: Vec<(usize, Tensor<T>)> = Vec::new();
    let mut retained = vec![false; if tape.retained.borrow().is_empty() { 0 } else { root + 1 }];
    for &r in tape.retained.borrow().iter().filter(|&&r| r <= root) {
        retained[r] = true;
    }
    let mut sink = Sink { nodes, grads: &mut grads, detect: tape.anomaly_detection(), anomaly: None };
    for i in (0..=root).rev() {
        if !nodes.needs_grad[i] {
            continue;
        }
        // A leaf's gradient stays where it is: it is the result.
        if let Op::Leaf(tag) = &nodes.ops[i] {
            if let (Some(t), Some(_)) = (tag, &sink.grads[i]) {
                tags.push((*t, i));
            }
            continue;
        }
        let Some(g) = sink.grads[i].take() else { continue };
        if retained.get(i).copied().unwrap_or(false) {
            keep.push((i, g.clone()));
        }
        let val = |p: usize| &nodes.values[p];
        let out = &nodes.values[i];
        match &nodes.ops[i] {
            // Leaves were handled above; constants have no parents.
            Op::Leaf(_) | Op::Constant => {}
            Op::Add(a, b) => {
                sink.send(i, *a, || g.sum_to(val(*a).shape()));
                sink.send(i, *b, || reduced(g, val(*b).shape()));
            }
            Op::Sub(a, b) => {
                sink.send(i, *a, || g.sum_to(val(*a).shape()));
                sink.send(i, *b, || reduced(g.neg(), val(*b).shape()));
            }
            Op::Mul(a, b) => {
                sink.send(i, *a, || reduced(g.mul(val(*b)), val(*a).shape()));
                sink.send(i, *b, || reduced(g.mul(val(*a)), val(*b).shape()));
            }
            Op::Div(a, b) => {
                sink.send(i, *a, || reduced(g.div(val(*b)), val(*a).shape()));
                sink.send(i, *b, || reduced(g.mul(out).div(val(*b)).neg(), val(*b).shape()));
            }
            Op::Matmul(a, b) => {
                sink.send(i, *a, || reduced(g.matmul(&val(*b).t()), val(*a).shape()));
                sink.send(i, *b, || reduced(val(*a).t().matmul(&g), val(*b).shape()));
            }
            Op::Linear(x, w, b) => linear_shares(&mut sink, i, (*x, *w, *b), &g, None),
            Op::LinearAct(x, w, b, act) => {
                // The slope from the output alone (`df(y, y)`): the same
                // values as the pre-activation's `df(z, y)` for these
                // activations (ReLU's `z > 0` is `y > 0`). The bias's share
                // is summed in the same pass.
                let act = *act;
                let db = b.is_some_and(|b| nodes.needs_grad[b]);
                let (gz, db) = with_variant!(act, |f| slope_and_row_sum(out, &g, move |y| f.df(y, y), db));
                linear_shares(&mut sink, i, (*x, *w, *b), &gz, db);
            }
            Op::AddScalar(a) => sink.send(i, *a, || g.clone()),
            Op::MulScalar(a, s) => sink.send(i, *a, || g.mul_scalar(*s)),
            Op::PowScalar(a, p) => {
                let p = *p;
                sink.send(i, *a, || g.mul(&val(*a).map(|x| p * x.powf(p - T::one()))));
            }
            Op::Neg(a) => sink.send(i, *a, || g.neg()),
            Op::Exp(a) => sink.send(i, *a, || g.mul(out)),
            Op::Log(a) => sink.send(i, *a, || g.div(val(*a))),
            Op::Sqrt(a) => sink.send(i, *a, || g.div(&out.mul_scalar(T::of(2.0)))),
            Op::Abs(a) => sink.send(i, *a, || g.mul(&val(*a).signum())),
            Op::Map(a, f) => {
                let f = *f;
                sink.send(i, *a, || map3(val(*a), out, &g, move |x, y, g| g * f.df(x, y)));
            }
            Op::SumAll(a) => sink.send(i, *a, || Tensor::full(val(*a).shape().clone(), g.item())),
            Op::MeanAll(a) => {
                let n = T::of(val(*a).numel() as f64);
                sink.send(i, *a, || Tensor::full(val(*a).shape().clone(), g.item() / n));
            }
            Op::SumAxis(a, ax, keep) => sink.send(i, *a, || sum_axis_grad(&g, val(*a), *ax, *keep)),
            Op::MeanAxis(a, ax, keep) => {
                let len = T::of(val(*a).dims()[*ax] as f64);
                sink.send(i, *a, || sum_axis_grad(&g, val(*a), *ax, *keep).div_scalar(len));
            }
            Op::Reshape(a) => sink.send(i, *a, || g.reshape(val(*a).shape().clone())),
            Op::Permute(a, perm) => {
                let mut inverse = vec![0; perm.len()];
                for (k, &p) in perm.iter().enumerate() {
                    inverse[p] = k;
                }
                sink.send(i, *a, || g.permute(&inverse).contiguous());
            }
            Op::Transpose(a, x, y) => {
                sink.send(i, *a, || g.transpose(*x as isize, *y as isize).contiguous());
            }
            Op::IndexSelect(a, ax, idx) => {
                sink.send(i, *a, || Tensor::zeros_like(val(*a)).index_add(*ax as isize, idx, &g));
            }
            Op::Narrow(a, ax, start) => {
                let len = out.dims()[*ax];
                let idx: Vec<usize> = (*start..*start + len).collect();
                sink.send(i, *a, || Tensor::zeros_like(val(*a)).index_add(*ax as isize, &idx, &g));
            }
            Op::Concat(parts, ax) => {
                let mut offset = 0;
                for &p in parts {
                    let len = val(p).dims()[*ax];
                    sink.send(i, p, || g.narrow(*ax as isize, offset, len).contiguous());
                    offset += len;
                }
            }
            Op::Act(a, act) => {
                let act = *act;
                sink.send(i, *a, || with_variant!(act, |f| map3(val(*a), out, &g, move |x, y, g| g * f.df(x, y))));
            }
            Op::Softmax(a, ax) => sink.send(i, *a, || softmax_grad(out, &g, *ax)),
            Op::LogSoftmax(a, ax) => sink.send(i, *a, || log_softmax_grad(out, &g, *ax)),
            Op::CrossEntropy(a, payload) => {
                let (probs, labels) = &**payload;
                sink.send(i, *a, || {
                    let mut d = probs.to_vec();
                    let c = probs.dims()[1];
                    for (row, &l) in labels.iter().enumerate() {
                        d[row * c + l] -= T::one();
                    }
                    let scale = g.item() / T::of(labels.len().max(1) as f64);
                    d.iter_mut().for_each(|v| *v *= scale);
                    Tensor::from_vec(d, probs.shape().clone()).expect("same length as probs")
                });
            }
            Op::BceWithLogits(a, targets) => {
                let scale = g.item() / T::of(targets.numel() as f64);
                sink.send(i, *a, || val(*a).sigmoid().sub(targets).mul_scalar(scale));
            }
            Op::Mse(a, targets) => {
                let scale = g.item() * T::of(2.0) / T::of(targets.numel() as f64);
                sink.send(i, *a, || val(*a).zip_with(targets, |x, t| (x - t) * scale));
            }
            Op::Conv2d(c) => {
                let (x, w, b, p) = **c;
                sink.send(i, x, || g.conv2d_backward_input(val(w), val(x).dims(), p));
                sink.send(i, w, || g.conv2d_backward_weight(val(x), val(w).dims(), p));
                if let Some(b) = b {
                    sink.send(i, b, || g.sum_axis(3, false).sum_axis(2, false).sum_axis(0, false));
                }
            }
            Op::MaxPool2d(a, taken) | Op::PickAxis(a, taken, _) => sink.send(i, *a, || scatter(&g, taken, val(*a))),
            Op::AvgPool2d(p) => {
                let (a, pool) = **p;
                sink.send(i, a, || g.try_avg_pool2d_backward(val(a).dims(), pool).expect("checked in forward"));
            }
            Op::Maximum(a, b) | Op::Minimum(a, b) => {
                // The larger (smaller) operand takes the gradient; a tie splits it.
                let wins = extremum_share::<T>(matches!(nodes.ops[i], Op::Maximum(..)));
                let (va, vb) = (val(*a), val(*b));
                sink.send(i, *a, || reduced(g.mul(&va.zip_with(vb, wins)), va.shape()));
                sink.send(i, *b, || reduced(g.mul(&vb.zip_with(va, wins)), vb.shape()));
            }
            Op::Pow(a, b) => {
                // d/da = b·a^(b−1); d/db = a^b·ln a (0 where a ≤ 0, where ln a is not real).
                let (va, vb) = (val(*a), val(*b));
                sink.send(i, *a, || reduced(g.mul(&va.zip_with(vb, |x, y| y * x.powf(y - T::one()))), va.shape()));
                sink.send(i, *b, || {
                    let ln = va.map(|x| if x > T::zero() { x.ln() } else { T::zero() });
                    reduced(g.mul(out).mul(&ln), vb.shape())
                });
            }
            Op::Where(a, b, mask) => {
                let keep = mask.map(|m| if m != T::zero() { T::one() } else { T::zero() });
                let drop = keep.map(|k| T::one() - k);
                sink.send(i, *a, || reduced(g.mul(&keep), val(*a).shape()));
                sink.send(i, *b, || reduced(g.mul(&drop), val(*b).shape()));
            }
            Op::Conv2dBackInput(c) => {
                // Z = convᵀ(G, W): dG = conv(H, W), dW = conv_w(G, H).
                let (gy, w, _, p) = **c;
                sink.send(i, gy, || g.conv2d(val(w), None, p));
                sink.send(i, w, || val(gy).conv2d_backward_weight(&g, val(w).dims(), p));
            }
            Op::Conv2dBackWeight(c) => {
                // Z = conv_w(G, X): dG = conv(X, K), dX = convᵀ(G, K).
                let (gy, x, _, p) = **c;
                sink.send(i, gy, || val(x).conv2d(&g, None, p));
                sink.send(i, x, || val(gy).conv2d_backward_input(&g, val(x).dims(), p));
            }
            Op::Scatter(a, taken) => sink.send(i, *a, || gather(&g, taken, val(*a))),
            Op::Gather(a, taken) => sink.send(i, *a, || scatter(&g, taken, val(*a))),
            Op::AvgPool2dBack(p) => {
                let (a, pool, _) = **p;
                sink.send(i, a, || g.try_avg_pool2d(pool).expect("the pooled input's shape"));
            }
            Op::IndexAdd(p) => {
                let (a, ax, ref idx, _) = **p;
                sink.send(i, a, || g.index_select(ax as isize, idx));
            }
            Op::Custom(op, inputs) => {
                let values: Vec<&Tensor<T>> = inputs.iter().map(|&p| val(p)).collect();
                let shares = op.backward(&values, out, &g);
                assert!(
                    shares.len() == inputs.len(),
                    "custom op `{}`: backward returned {} gradients for {} inputs",
                    op.name(),
                    shares.len(),
                    inputs.len()
                );
                for ((&p, share), v) in inputs.iter().zip(shares).zip(&values) {
                    assert!(
                        share.shape() == v.shape(),
                        "custom op `{}`: backward returned a gradient of shape {:?} for an input of shape {:?}",
                        op.name(),
                        share.shape(),
                        v.shape()
                    );
                    sink.send(i, p, || share);
                }
            }
        }
    }
    let anomaly = sink.anomaly.take();
    for (i, g) in keep {
        grads[i] = Some(g);
    }
    Grads::new(tape.id, grads, tags, anomaly)
}
