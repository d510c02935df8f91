//! [`Param`]: a trainable tensor with a stable id, and [`ParamTape`], which puts
//! one on a tape without copying it.

use std::sync::atomic::{AtomicU64, Ordering};

use strata_autograd::{Grads, HasGrad, Tape, Var};
use strata_tensor::{Float, Tensor};

static NEXT_PARAM_ID: AtomicU64 = AtomicU64::new(1);

/// A trainable tensor. The id stays with the parameter for its whole life, so
/// gradients (`grads.of(&layer.weight)`, [`Grads::of`]) and optimizer state
/// find it without holding a `Var`.
///
/// A clone keeps the id: a cloned module's parameters are the *same*
/// parameters as far as gradients and optimizer state go (one optimizer
/// stepping both would treat them as one). For an independent copy with new
/// ids, build the module anew and [`set`](Self::set) its values, or use
/// [`Param::new`] on `value().clone()`.
#[derive(Clone, Debug)]
pub struct Param<T: Float = f32> {
    value: Tensor<T>,
    id: u64,
    frozen: bool,
}

impl<T: Float> Param<T> {
    /// A new trainable parameter with a fresh id.
    #[must_use]
    pub fn new(value: Tensor<T>) -> Self {
        Param { value, id: NEXT_PARAM_ID.fetch_add(1, Ordering::Relaxed), frozen: false }
    }

    /// The current value (a cheap, shared clone is `value().clone()`).
    #[must_use]
    pub fn value(&self) -> &Tensor<T> {
        &self.value
    }

    /// The value for in-place updates (copy-on-write if a tape still holds it).
    pub fn value_mut(&mut self) -> &mut Tensor<T> {
        &mut self.value
    }

    /// Replaces the value.
    ///
    /// # Panics
    /// If the new value's shape differs: a parameter's shape is part of its model.
    #[track_caller]
    pub fn set(&mut self, value: Tensor<T>) {
        assert!(
            value.shape() == self.value.shape(),
            "Param::set: new shape {:?} differs from the parameter's {:?}",
            value.shape(),
            self.value.shape()
        );
        self.value = value;
    }

    /// The stable id (the tag of its leaf on a tape).
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// True if the parameter is frozen: it goes on tapes as a constant (no
    /// gradient is computed for it) and optimizers leave it alone.
    #[must_use]
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Freezes or unfreezes the parameter.
    pub fn set_frozen(&mut self, frozen: bool) {
        self.frozen = frozen;
    }

    /// Number of elements.
    #[must_use]
    pub fn numel(&self) -> usize {
        self.value.numel()
    }
}

/// Puts parameters on a tape: `tape.param(&p)`.
pub trait ParamTape<T: Float> {
    /// A leaf tagged with the parameter's id (a constant if it is frozen). The
    /// tensor's storage is shared, not copied.
    fn param(&self, p: &Param<T>) -> Var<'_, T>;
}

impl<T: Float> ParamTape<T> for Tape<T> {
    fn param(&self, p: &Param<T>) -> Var<'_, T> {
        if p.frozen {
            self.constant(p.value.clone())
        } else {
            self.leaf_tagged(p.value.clone(), p.id)
        }
    }
}

/// `grads.of(&param)`: the gradient of the leaf this parameter was put on the
/// tape as (summed if it was put there more than once).
impl<T: Float> HasGrad<T> for Param<T> {
    fn grad_in<'g>(&self, grads: &'g Grads<T>) -> Option<&'g Tensor<T>> {
        grads.by_tag(self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_kept_by_clones() {
        let a = Param::new(Tensor::<f32>::zeros([2]));
        let b = Param::new(Tensor::<f32>::zeros([2]));
        assert_ne!(a.id(), b.id());
        assert_eq!(a.clone().id(), a.id());
    }

    #[test]
    fn frozen_params_get_no_gradient() {
        let mut p = Param::new(Tensor::<f64>::ones([3]));
        let tape = Tape::new();
        let g = tape.param(&p).sum().backward();
        assert!(g.by_tag(p.id()).is_some());
        p.set_frozen(true);
        let tape = Tape::new();
        let v = tape.param(&p);
        assert!(!v.requires_grad());
    }

    #[test]
    #[should_panic(expected = "Param::set: new shape [3] differs from the parameter's [2]")]
    fn set_checks_the_shape() {
        Param::new(Tensor::<f32>::zeros([2])).set(Tensor::zeros([3]));
    }
}
