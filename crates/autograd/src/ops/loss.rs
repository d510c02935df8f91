//! Softmax, log-softmax and the fused, numerically stable losses. The losses'
//! gradients are computed in closed form, not through composed ops.

use std::sync::Arc;

use strata_tensor::{Float, Tensor};

use crate::op::Op;
use crate::var::Var;
use strata_tensor::scalar::softplus;

/// Softmax over the last axis of a tensor, stable (the row max is subtracted).
pub(crate) fn softmax_last<T: Float>(x: &Tensor<T>) -> Tensor<T> {
    let e = x.sub(&x.max_axis(-1, true)).exp();
    e.div(&e.sum_axis(-1, true))
}

/// Log-softmax over the last axis: `x − max − ln Σ e^(x − max)`.
pub(crate) fn log_softmax_last<T: Float>(x: &Tensor<T>) -> Tensor<T> {
    let shifted = x.sub(&x.max_axis(-1, true));
    let lse = shifted.exp().sum_axis(-1, true).ln();
    shifted.sub(&lse)
}

impl<'t, T: Float> Var<'t, T> {
    /// Softmax over the last axis. `dx = y ⊙ (g − Σ g⊙y)`.
    ///
    /// # Panics
    /// If the var is 0-dimensional.
    #[must_use]
    #[track_caller]
    pub fn softmax(self) -> Var<'t, T> {
        assert!(!self.dims().is_empty(), "softmax: needs at least one dimension");
        self.unary(Op::Softmax(self.index), softmax_last)
    }

    /// Log-softmax over the last axis. `dx = g − softmax(x)·Σ g`.
    ///
    /// # Panics
    /// If the var is 0-dimensional.
    #[must_use]
    #[track_caller]
    pub fn log_softmax(self) -> Var<'t, T> {
        assert!(!self.dims().is_empty(), "log_softmax: needs at least one dimension");
        self.unary(Op::LogSoftmax(self.index), log_softmax_last)
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
        let dims = self.dims();
        assert!(dims.len() == 2, "cross_entropy: logits must be [batch, classes], got {dims:?}");
        let (n, c) = (dims[0], dims[1]);
        assert!(labels.len() == n, "cross_entropy: {} labels for a batch of {n}", labels.len());
        if let Some(&bad) = labels.iter().find(|&&l| l >= c) {
            panic!("cross_entropy: label {bad} is out of range for {c} classes");
        }
        let logp = log_softmax_last(&self.value());
        let picked: T = labels.iter().enumerate().map(|(i, &l)| logp.get(&[i, l])).fold(T::zero(), |a, b| a + b);
        let loss = Tensor::scalar(-picked / T::of(n.max(1) as f64));
        let labels: Arc<[usize]> = labels.into();
        self.tape.record(Op::CrossEntropy(self.index, Box::new((logp.exp(), labels))), loss)
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
