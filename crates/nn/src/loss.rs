//! Loss functions on vars, as PyTorch's `torch.nn.functional` has them.
//!
//! Each takes a [`Reduction`] in its `_reduced` form (`mean`, the default of
//! the short form, `sum`, or `none` for the per-element losses), and the
//! regression losses take their target as a tensor (a constant) or as a
//! [`Var`], in which case the target gets a gradient too — as in PyTorch and
//! JAX, where nothing marks a target as special.
//!
//! Cross-entropy, BCE with logits and MSE against a constant target with the
//! mean (or sum) reduction are the autograd crate's fused, closed-form ops;
//! every other case is built from primitives.
//!
//! ```
//! use strata_autograd::Tape;
//! use strata_nn::loss::{self, Reduction};
//! use strata_tensor::Tensor;
//!
//! let tape = Tape::<f64>::new();
//! let pred = tape.leaf(Tensor::from_vec(vec![1.0, 2.0], [2]).unwrap());
//! let target = tape.leaf(Tensor::from_vec(vec![0.0, 4.0], [2]).unwrap());
//! let l = loss::mse(pred, target);                          // ((1)² + (−2)²) / 2
//! assert_eq!(l.item(), 2.5);
//! let grads = l.backward();
//! assert_eq!(grads.wrt(&target).unwrap().to_vec(), [-1.0, 2.0]);   // −(pred − target)
//! let each = loss::mse_reduced(pred, target, Reduction::None);
//! assert_eq!(each.value().to_vec(), [1.0, 4.0]);
//! ```

use strata_autograd::Var;
use strata_tensor::{Float, Tensor};

/// How a loss turns per-element losses into its result (PyTorch's `reduction=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// The mean over all elements (over the batch for cross-entropy).
    #[default]
    Mean,
    /// The sum.
    Sum,
    /// No reduction: one loss per element (per sample for cross-entropy).
    None,
}

impl Reduction {
    /// Reduces per-element losses.
    fn apply<'t, T: Float>(self, each: Var<'t, T>) -> Var<'t, T> {
        match self {
            Reduction::Mean => each.mean(),
            Reduction::Sum => each.sum(),
            Reduction::None => each,
        }
    }

    /// A fused op's mean over `n` elements as this reduction (`Mean` or `Sum`).
    fn of_fused_mean<'t, T: Float>(self, mean: Var<'t, T>, n: usize) -> Var<'t, T> {
        debug_assert!(self != Reduction::None, "a fused mean cannot be unreduced");
        if self == Reduction::Sum {
            mean.mul_scalar(T::of(n as f64))
        } else {
            mean
        }
    }
}

/// A loss's target: a tensor (a constant, no gradient) or a [`Var`] (which
/// gets a gradient).
pub trait Target<'t, T: Float> {
    /// The target as a tensor, if it is a constant.
    fn as_constant(&self) -> Option<&Tensor<T>>;
    /// The target's shape.
    fn target_shape(&self) -> Vec<usize>;
    /// The target as a var of `pred`'s tape.
    fn on_tape_of(self, pred: Var<'t, T>) -> Var<'t, T>;
}

impl<'t, T: Float> Target<'t, T> for &Tensor<T> {
    fn as_constant(&self) -> Option<&Tensor<T>> {
        Some(self)
    }
    fn target_shape(&self) -> Vec<usize> {
        self.dims().to_vec()
    }
    fn on_tape_of(self, pred: Var<'t, T>) -> Var<'t, T> {
        pred.tape().constant(self.clone())
    }
}

impl<'t, T: Float> Target<'t, T> for Var<'t, T> {
    fn as_constant(&self) -> Option<&Tensor<T>> {
        None
    }
    fn target_shape(&self) -> Vec<usize> {
        self.dims()
    }
    fn on_tape_of(self, _pred: Var<'t, T>) -> Var<'t, T> {
        self
    }
}

/// Softmax cross-entropy of `logits` `[batch, classes]` against integer labels
/// (mean over the batch).
///
/// # Panics
/// If `labels.len()` differs from the batch or a label is out of range.
#[must_use]
#[track_caller]
pub fn cross_entropy<'t, T: Float>(logits: Var<'t, T>, labels: &[usize]) -> Var<'t, T> {
    logits.cross_entropy(labels)
}

/// [`cross_entropy`] with a reduction: `None` gives one loss per sample, `[batch]`.
///
/// # Panics
/// As [`cross_entropy`].
#[must_use]
#[track_caller]
pub fn cross_entropy_reduced<'t, T: Float>(logits: Var<'t, T>, labels: &[usize], reduction: Reduction) -> Var<'t, T> {
    let mean = logits.cross_entropy(labels); // checks the labels, whatever the reduction
    match reduction {
        Reduction::Mean | Reduction::Sum => reduction.of_fused_mean(mean, labels.len()),
        Reduction::None => {
            let dims = logits.dims();
            let onehot = Tensor::from_fn(dims.clone(), |ix| if labels[ix[0]] == ix[1] { T::one() } else { T::zero() });
            let picked = logits.log_softmax().mul(logits.tape().constant(onehot)).sum_axis(1, false);
            picked.neg()
        }
    }
}

/// Binary cross-entropy of `logits` against targets in `[0, 1]` (stable for
/// any logit), averaged. `d/dlogits = (σ(x) − t)/n`, `d/dtarget = −x/n`.
///
/// # Panics
/// If the shapes differ.
#[must_use]
#[track_caller]
pub fn bce_with_logits<'t, T: Float>(logits: Var<'t, T>, targets: impl Target<'t, T>) -> Var<'t, T> {
    bce_with_logits_reduced(logits, targets, Reduction::Mean)
}

/// [`bce_with_logits`] with a reduction. Per element: `softplus(x) − x·t`.
///
/// # Panics
/// If the shapes differ.
#[must_use]
#[track_caller]
pub fn bce_with_logits_reduced<'t, T: Float>(
    logits: Var<'t, T>,
    targets: impl Target<'t, T>,
    reduction: Reduction,
) -> Var<'t, T> {
    check_same("bce_with_logits", &logits, &targets);
    if let (Some(t), Reduction::Mean | Reduction::Sum) = (targets.as_constant(), reduction) {
        return reduction.of_fused_mean(logits.bce_with_logits(t), t.numel());
    }
    let t = targets.on_tape_of(logits);
    reduction.apply(logits.softplus() - logits * t)
}

/// Mean squared error. `d/dpred = 2(pred − target)/n = −d/dtarget`.
///
/// # Panics
/// If the shapes differ.
#[must_use]
#[track_caller]
pub fn mse<'t, T: Float>(pred: Var<'t, T>, targets: impl Target<'t, T>) -> Var<'t, T> {
    mse_reduced(pred, targets, Reduction::Mean)
}

/// [`mse`] with a reduction. Per element: `(pred − target)²`.
///
/// # Panics
/// If the shapes differ.
#[must_use]
#[track_caller]
pub fn mse_reduced<'t, T: Float>(pred: Var<'t, T>, targets: impl Target<'t, T>, reduction: Reduction) -> Var<'t, T> {
    check_same("mse", &pred, &targets);
    if let (Some(t), Reduction::Mean | Reduction::Sum) = (targets.as_constant(), reduction) {
        return reduction.of_fused_mean(pred.mse(t), t.numel());
    }
    let t = targets.on_tape_of(pred);
    reduction.apply((pred - t).square())
}

/// Mean absolute error, `mean |pred − target|` (gradient `sign(pred − target)/n`, 0 at a tie).
///
/// # Panics
/// If the shapes differ.
#[must_use]
#[track_caller]
pub fn l1<'t, T: Float>(pred: Var<'t, T>, targets: impl Target<'t, T>) -> Var<'t, T> {
    l1_reduced(pred, targets, Reduction::Mean)
}

/// [`l1`] with a reduction. Per element: `|pred − target|`.
///
/// # Panics
/// If the shapes differ.
#[must_use]
#[track_caller]
pub fn l1_reduced<'t, T: Float>(pred: Var<'t, T>, targets: impl Target<'t, T>, reduction: Reduction) -> Var<'t, T> {
    check_same("l1", &pred, &targets);
    let t = targets.on_tape_of(pred);
    reduction.apply((pred - t).abs())
}

/// Huber loss with threshold `delta` (PyTorch's `HuberLoss`): `½d²` where
/// `|d| ≤ delta`, `delta·(|d| − ½delta)` beyond, averaged.
///
/// Written as `½q² + delta·(|d| − q)` with `q = min(|d|, delta)`, which is
/// both branches at once and gives the gradient `clamp(d, −delta, delta)/n`.
///
/// # Panics
/// If the shapes differ or `delta <= 0`.
#[must_use]
#[track_caller]
pub fn huber<'t, T: Float>(pred: Var<'t, T>, targets: impl Target<'t, T>, delta: f64) -> Var<'t, T> {
    huber_reduced(pred, targets, delta, Reduction::Mean)
}

/// [`huber`] with a reduction.
///
/// # Panics
/// If the shapes differ or `delta <= 0`.
#[must_use]
#[track_caller]
pub fn huber_reduced<'t, T: Float>(
    pred: Var<'t, T>,
    targets: impl Target<'t, T>,
    delta: f64,
    reduction: Reduction,
) -> Var<'t, T> {
    check_same("huber", &pred, &targets);
    assert!(delta > 0.0, "huber: delta = {delta} must be positive");
    let a = (pred - targets.on_tape_of(pred)).abs();
    let q = a.hardtanh(-1.0, delta);
    reduction.apply(q.square().mul_scalar(T::of(0.5)) + (a - q).mul_scalar(T::of(delta)))
}

#[track_caller]
fn check_same<'t, T: Float>(op: &str, pred: &Var<'t, T>, targets: &impl Target<'t, T>) {
    let (p, t) = (pred.dims(), targets.target_shape());
    assert!(p == t, "{op}: predictions {p:?} and targets {t:?} differ in shape");
}

#[cfg(test)]
mod tests {
    use strata_autograd::{gradcheck, Tape};

    use super::*;

    fn t(v: &[f64]) -> Tensor<f64> {
        Tensor::from_vec(v.to_vec(), [v.len()]).unwrap()
    }

    #[test]
    fn l1_and_huber_values() {
        let tape = Tape::new();
        let p = tape.leaf(t(&[0.0, 2.0, -3.0, 0.5]));
        let y = t(&[0.0, 0.0, 0.0, 0.0]);
        assert!((l1(p, &y).item() - 5.5 / 4.0).abs() < 1e-12);
        // d = 0, 2, -3, 0.5 with delta 1: 0, 1·(2 − .5), 1·(3 − .5), .125
        assert!((huber(p, &y, 1.0).item() - (0.0 + 1.5 + 2.5 + 0.125) / 4.0).abs() < 1e-12);
    }

    #[test]
    fn huber_gradient_is_clamped_difference() {
        let tape = Tape::new();
        let p = tape.leaf(t(&[0.3, 2.0, -3.0]));
        let g = huber(p, &t(&[0.0, 0.0, 0.0]), 1.0).backward();
        let want = [0.3 / 3.0, 1.0 / 3.0, -1.0 / 3.0];
        for (a, b) in g.wrt(&p).unwrap().to_vec().iter().zip(want) {
            assert!((a - b).abs() < 1e-12);
        }
        // Away from the kinks (|d| = 0.5 for Huber, d = 0 for L1) the gradient is exact.
        gradcheck(
            |_, v| huber(v[0], &t(&[0.1, -0.2, 0.4]), 0.5) + l1(v[0], &t(&[1.0, 1.0, 1.0])),
            &[t(&[0.35, 2.0, -3.0])],
        )
        .unwrap();
    }

    #[test]
    fn target_gradients_and_reductions_match_their_definitions() {
        // d/dtarget is minus d/dpred for every difference-based loss, and
        // sum = n·mean, none = the per-element terms, whatever the target's kind.
        let p = t(&[0.3, -1.2, 2.0, 0.7]);
        let y = t(&[0.1, 0.4, -0.5, 1.5]);
        for reduction in [Reduction::Mean, Reduction::Sum, Reduction::None] {
            gradcheck(
                |_, v| {
                    let sum = |l| if reduction == Reduction::None { Var::sum(l) } else { l };
                    sum(mse_reduced(v[0], v[1], reduction))
                        + sum(l1_reduced(v[0], v[1], reduction))
                        + sum(huber_reduced(v[0], v[1], 0.5, reduction))
                        + sum(bce_with_logits_reduced(v[0], v[1], reduction))
                },
                &[p.clone(), y.clone()],
            )
            .unwrap();
        }
        let tape = Tape::new();
        let (pv, yv) = (tape.leaf(p.clone()), tape.leaf(y.clone()));
        let fused = mse(pv, &y).item();
        let composed = mse(pv, yv);
        assert!((fused - composed.item()).abs() < 1e-12);
        assert!((mse_reduced(pv, &y, Reduction::Sum).item() - 4.0 * fused).abs() < 1e-12);
        let each = mse_reduced(pv, &y, Reduction::None).value().to_vec();
        let want: Vec<f64> = p.to_vec().iter().zip(y.to_vec()).map(|(a, b)| (a - b) * (a - b)).collect();
        assert_eq!(each, want);
        let g = composed.backward();
        let (gp, gy) = (g.wrt(&pv).unwrap().to_vec(), g.wrt(&yv).unwrap().to_vec());
        assert!(gp.iter().zip(&gy).all(|(a, b)| (a + b).abs() < 1e-15), "{gp:?} vs {gy:?}");
        // BCE against a constant (fused) and a var (composed) agree.
        let bce_fused = bce_with_logits(pv, &t(&[0.0, 1.0, 1.0, 0.0])).item();
        let bce_var = bce_with_logits(pv, tape.constant(t(&[0.0, 1.0, 1.0, 0.0])).add_scalar(0.0)).item();
        assert!((bce_fused - bce_var).abs() < 1e-12);
    }

    #[test]
    fn cross_entropy_reductions() {
        let tape = Tape::<f64>::new();
        let x = tape.leaf(Tensor::from_vec(vec![0.2, -1.0, 3.0, 0.5, 0.5, -2.0], [2, 3]).unwrap());
        let labels = [2, 0];
        let mean = cross_entropy(x, &labels).item();
        let each = cross_entropy_reduced(x, &labels, Reduction::None).value().to_vec();
        assert_eq!(each.len(), 2);
        assert!((each.iter().sum::<f64>() / 2.0 - mean).abs() < 1e-12);
        assert!((cross_entropy_reduced(x, &labels, Reduction::Sum).item() - 2.0 * mean).abs() < 1e-12);
        let x0 = Tensor::from_vec(vec![0.2, -1.0, 3.0, 0.5, 0.5, -2.0], [2, 3]).unwrap();
        gradcheck(|_, v| cross_entropy_reduced(v[0], &labels, Reduction::None).square().sum(), &[x0]).unwrap();
    }

    #[test]
    #[should_panic(expected = "l1: predictions [3] and targets [2] differ in shape")]
    fn shape_mismatch_names_the_loss() {
        let tape = Tape::<f64>::new();
        let _ = l1(tape.leaf(t(&[1.0, 2.0, 3.0])), &t(&[1.0, 2.0]));
    }
}
