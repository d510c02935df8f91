//! Softmax, log-softmax and the fused, numerically stable losses. The losses'
//! gradients are computed in closed form, not through composed ops.

use std::sync::Arc;

use strata_tensor::{Float, OrPanic, Tensor};

use crate::error::AutogradError;
use crate::op::Op;
use crate::var::Var;
use strata_tensor::scalar::softplus;

/// Softmax along `axis` of a tensor, stable (the max along the axis is subtracted).
pub(crate) fn softmax_along<T: Float>(x: &Tensor<T>, axis: usize) -> Tensor<T> {
    let ax = axis as isize;
    let e = x.sub(&x.max_axis(ax, true)).exp();
    e.div(&e.sum_axis(ax, true))
}

/// Log-softmax along `axis`: `x − max − ln Σ e^(x − max)`.
pub(crate) fn log_softmax_along<T: Float>(x: &Tensor<T>, axis: usize) -> Tensor<T> {
    let ax = axis as isize;
    let shifted = x.sub(&x.max_axis(ax, true));
    let lse = shifted.exp().sum_axis(ax, true).ln();
    shifted.sub(&lse)
}

/// For `[n, c]` logits (row-major) and one label per row: each row's
/// softmax and the sum over rows of the log-probability of its label, row
/// by row in one pass — `ln p_l = x_l − max − ln Σ e^(x − max)` and
/// `p = e^(x − max) / Σ e^(x − max)`, one exponential per logit and no
/// intermediate tensors (cross-entropy's forward ran six tensor ops and
/// two exponentials per logit before).
fn softmax_rows_picked<T: Float>(x: &[T], c: usize, labels: &[usize]) -> (Tensor<T>, T) {
    let n = x.len().checked_div(c).unwrap_or(0);
    // Every value is written below (one label a row, checked by the caller).
    debug_assert_eq!(labels.len(), n);
    let mut probs = Tensor::empty([n, c]);
    let mut picked = T::zero();
    if c == 0 {
        return (probs, picked);
    }
    for ((row, p), &label) in x.chunks_exact(c).zip(probs.as_mut_slice().chunks_exact_mut(c)).zip(labels) {
        let max = row.iter().copied().fold(T::neg_infinity(), T::max);
        let mut sum = T::zero();
        for (p, &v) in p.iter_mut().zip(row) {
            *p = (v - max).exp();
            sum += *p;
        }
        picked += row[label] - max - sum.ln();
        p.iter_mut().for_each(|v| *v /= sum);
    }
    (probs, picked)
}

impl<'t, T: Float> Var<'t, T> {
    /// Softmax over the last axis (`softmax_axis(-1)`). `dx = y ⊙ (g − Σ g⊙y)`.
    ///
    /// # Panics
    /// If the var is 0-dimensional.
    #[must_use]
    #[track_caller]
    pub fn softmax(self) -> Var<'t, T> {
        assert!(!self.dims().is_empty(), "softmax: needs at least one dimension");
        self.softmax_axis(-1)
    }

    /// Softmax along `axis` (negative counts from the end; PyTorch's
    /// `softmax(x, dim)`): every slice along the axis sums to 1.
    /// `dx = y ⊙ (g − Σ_axis g⊙y)`.
    ///
    /// # Panics
    /// If the axis is out of range.
    #[must_use]
    #[track_caller]
    pub fn softmax_axis(self, axis: isize) -> Var<'t, T> {
        let ax = self.shape().axis(axis, "softmax");
        self.unary(Op::Softmax(self.index, ax), |x| softmax_along(x, ax))
    }

    /// Log-softmax over the last axis (`log_softmax_axis(-1)`). `dx = g − softmax(x)·Σ g`.
    ///
    /// # Panics
    /// If the var is 0-dimensional.
    #[must_use]
    #[track_caller]
    pub fn log_softmax(self) -> Var<'t, T> {
        assert!(!self.dims().is_empty(), "log_softmax: needs at least one dimension");
        self.log_softmax_axis(-1)
    }

    /// Log-softmax along `axis` (negative counts from the end).
    /// `dx = g − softmax(x)·Σ_axis g`.
    ///
    /// # Panics
    /// If the axis is out of range.
    #[must_use]
    #[track_caller]
    pub fn log_softmax_axis(self, axis: isize) -> Var<'t, T> {
        let ax = self.shape().axis(axis, "log_softmax");
        self.unary(Op::LogSoftmax(self.index, ax), |x| log_softmax_along(x, ax))
    }

    /// Softmax cross-entropy of `[batch, classes]` logits against integer
    /// labels, averaged over the batch (PyTorch's `cross_entropy`).
    /// `d/dlogits = (softmax − onehot) / batch`.
    ///
    /// # Panics
    /// If the logits are not 2-D, the label count differs from the batch, or
    /// a label is not below the class count.
    #[must_use]
    #[track_caller]
    pub fn cross_entropy(self, labels: &[usize]) -> Var<'t, T> {
        self.try_cross_entropy(labels).or_panic()
    }

    /// [`cross_entropy`](Self::cross_entropy) that returns an error for
    /// labels (or logits) that do not fit, instead of panicking.
    ///
    /// # Errors
    /// [`AutogradError::Labels`] naming what is wrong.
    pub fn try_cross_entropy(self, labels: &[usize]) -> Result<Var<'t, T>, AutogradError> {
        let bad = |reason: String| Err(AutogradError::Labels { op: "cross_entropy", reason });
        let dims = self.dims();
        if dims.len() != 2 {
            return bad(format!("logits must be [batch, classes], got {dims:?}"));
        }
        let (n, c) = (dims[0], dims[1]);
        if labels.len() != n {
            return bad(format!("{} labels for a batch of {n}", labels.len()));
        }
        if let Some(&l) = labels.iter().find(|&&l| l >= c) {
            return bad(format!("label {l} is out of range for {c} classes"));
        }
        let (probs, picked) = softmax_rows_picked(&self.value().contiguous_data(), c, labels);
        let loss = Tensor::scalar(-picked / T::of(n.max(1) as f64));
        let labels: Arc<[usize]> = labels.into();
        Ok(self.tape.record(Op::CrossEntropy(self.index, Box::new((probs, labels))), loss))
    }

    /// Binary cross-entropy on logits against targets in [0, 1] of the same
    /// shape, averaged over all elements (PyTorch's
    /// `binary_cross_entropy_with_logits`): `max(x,0) − x·t + ln(1 + e^−|x|)`.
    /// `dx = (σ(x) − t) / n`.
    ///
    /// # Panics
    /// If the shapes differ.
    #[must_use]
    #[track_caller]
    pub fn bce_with_logits(self, targets: &Tensor<T>) -> Var<'t, T> {
        let x = self.value();
        assert!(
            x.shape() == targets.shape(),
            "bce_with_logits: logits {:?} and targets {:?} differ in shape",
            x.shape(),
            targets.shape()
        );
        let per = x.zip_with(targets, |x, t| softplus(x) - x * t);
        let loss = Tensor::scalar(per.mean_all());
        self.tape.record(Op::BceWithLogits(self.index, Box::new(targets.clone())), loss)
    }

    /// Mean squared error against targets of the same shape. `dx = 2(x − t) / n`.
    ///
    /// # Panics
    /// If the shapes differ.
    #[must_use]
    #[track_caller]
    pub fn mse(self, targets: &Tensor<T>) -> Var<'t, T> {
        let x = self.value();
        assert!(
            x.shape() == targets.shape(),
            "mse: predictions {:?} and targets {:?} differ in shape",
            x.shape(),
            targets.shape()
        );
        let loss = Tensor::scalar(x.zip_with(targets, |p, t| (p - t) * (p - t)).mean_all());
        self.tape.record(Op::Mse(self.index, Box::new(targets.clone())), loss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_rows_are_stable_and_match_log_softmax() {
        // Logits far outside exp's range: the max is subtracted first.
        let x = [1000.0f32, -1000.0, 999.0, -5.0, 3.0, 2.5];
        let (probs, picked) = softmax_rows_picked(&x, 3, &[2, 0]);
        let logp = log_softmax_along(&Tensor::from_vec(x.to_vec(), [2, 3]).unwrap(), 1);
        let want = logp.get(&[0, 2]) + logp.get(&[1, 0]);
        assert!((picked - want).abs() < 1e-5, "{picked} vs {want}");
        for (p, l) in probs.to_vec().iter().zip(logp.to_vec()) {
            assert!((p - l.exp()).abs() < 1e-6, "{p} vs {}", l.exp());
        }
        assert!(probs.to_vec().chunks(3).all(|r| (r.iter().sum::<f32>() - 1.0).abs() < 1e-6));
        // A NaN logit makes its row's loss NaN, never a silent number.
        let (_, picked) = softmax_rows_picked(&[0.0f32, f32::NAN], 2, &[0]);
        assert!(picked.is_nan());
    }
}
