//! [`Grads`]: what one backward pass computed, looked up by var or by tag.

use std::collections::HashMap;

use strata_tensor::{Float, Tensor};

use crate::anomaly::Anomaly;
use crate::error::AutogradError;
use crate::var::Var;

/// The gradients of one backward pass with respect to the tape's leaves.
pub struct Grads<T: Float> {
    tape_id: u64,
    grads: Vec<Option<Tensor<T>>>,
    tags: HashMap<u64, usize>,
    anomaly: Option<Anomaly>,
}

impl<T: Float> Grads<T> {
    pub(crate) fn new(
        tape_id: u64,
        grads: Vec<Option<Tensor<T>>>,
        tags: HashMap<u64, usize>,
        anomaly: Option<Anomaly>,
    ) -> Self {
        Grads { tape_id, grads, tags, anomaly }
    }

    /// The gradient with respect to a leaf, or `None` if the output does not
    /// depend on it (or it is neither a leaf nor marked with [`Tape::retain_grad`](crate::Tape::retain_grad):
    /// intermediate gradients are freed as
    /// soon as they are used, as in PyTorch).
    ///
    /// # Panics
    /// If `var` belongs to another tape; [`try_wrt`](Self::try_wrt) returns an error instead.
    #[must_use]
    #[track_caller]
    pub fn wrt(&self, var: &Var<'_, T>) -> Option<&Tensor<T>> {
        self.try_wrt(var).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`wrt`](Self::wrt) that returns an error for a var of another tape.
    ///
    /// # Errors
    /// [`AutogradError::ForeignVar`] if `var` was not recorded on the tape these
    /// gradients came from.
    pub fn try_wrt(&self, var: &Var<'_, T>) -> Result<Option<&Tensor<T>>, AutogradError> {
        if var.tape_id() != self.tape_id {
            return Err(AutogradError::ForeignVar { node: var.index() });
        }
        Ok(self.grads.get(var.index()).and_then(Option::as_ref))
    }

    /// The gradient of the leaf recorded with [`Tape::leaf_tagged`](crate::Tape::leaf_tagged)
    /// and this tag, if the output depends on it.
    #[must_use]
    pub fn by_tag(&self, tag: u64) -> Option<&Tensor<T>> {
        self.tags.get(&tag).and_then(|&i| self.grads[i].as_ref())
    }

    /// The first op whose backward produced NaN/Inf (anomaly detection only;
    /// forward anomalies are on [`Tape::anomaly`](crate::Tape::anomaly)).
    #[must_use]
    pub fn anomaly(&self) -> Option<&Anomaly> {
        self.anomaly.as_ref()
    }

    /// `√Σ g²` over every leaf gradient (for clipping by global norm).
    #[must_use]
    pub fn global_norm(&self) -> T {
        self.grads.iter().flatten().map(|g| g.square().sum_all()).fold(T::zero(), |a, b| a + b).sqrt()
    }
}
