//! [`Grads`]: what one backward pass computed, looked up by var or by tag.

use std::cell::RefCell;

use strata_tensor::{Float, OrPanic, Tensor};

use crate::anomaly::Anomaly;
use crate::error::AutogradError;
use crate::recycle;
use crate::var::Var;

/// The gradients of one backward pass with respect to the tape's leaves.
pub struct Grads<T: Float> {
    tape_id: u64,
    grads: Vec<Option<Tensor<T>>>,
    /// Tagged leaves, sorted by tag: a node's gradient, or the sum over
    /// several leaves that carry one tag (a parameter put on the tape twice).
    tags: Vec<(u64, TagGrad<T>)>,
    anomaly: Option<Anomaly>,
}

enum TagGrad<T: Float> {
    Node(usize),
    Sum(Tensor<T>),
}

thread_local! {
    /// Gradient slot vectors of dropped [`Grads`], for the next backward
    /// pass on this thread: one slot per tape node (`Option<Tensor>` is over
    /// a hundred bytes), so a fresh one is a large allocation each step,
    /// and glibc consolidates its small free lists to serve it.
    static SLOTS: recycle::Bin = const { RefCell::new(Vec::new()) };
}

/// Slot vectors longer than this are freed, not kept.
const MAX_RECYCLED_SLOTS: usize = 1 << 16;

/// `n` empty gradient slots, in a recycled vector when one is at hand.
pub(crate) fn empty_slots<T: Float>(n: usize) -> Vec<Option<Tensor<T>>> {
    let mut v = recycle::take::<Vec<Option<Tensor<T>>>>(&SLOTS).unwrap_or_default();
    v.clear();
    v.resize_with(n, || None);
    v
}

impl<T: Float> Drop for Grads<T> {
    fn drop(&mut self) {
        let mut slots = std::mem::take(&mut self.grads);
        if slots.capacity() == 0 || slots.capacity() > MAX_RECYCLED_SLOTS {
            return;
        }
        // Free the gradients now, keep the vector.
        slots.clear();
        recycle::keep(&SLOTS, slots);
    }
}

impl<T: Float> Grads<T> {
    /// `tagged` lists each tagged leaf as `(tag, node)`, in any order.
    pub(crate) fn new(
        tape_id: u64,
        grads: Vec<Option<Tensor<T>>>,
        mut tagged: Vec<(u64, usize)>,
        anomaly: Option<Anomaly>,
    ) -> Self {
        tagged.sort_unstable();
        let mut tags: Vec<(u64, TagGrad<T>)> = Vec::with_capacity(tagged.len());
        for run in tagged.chunk_by(|a, b| a.0 == b.0) {
            let entry = if run.len() == 1 {
                TagGrad::Node(run[0].1)
            } else {
                // One parameter, several leaves: its gradient is the sum of theirs.
                let mut sum: Option<Tensor<T>> = None;
                for &(_, i) in run {
                    if let Some(g) = &grads[i] {
                        sum = Some(match sum {
                            None => g.clone(),
                            Some(s) => s.add(g),
                        });
                    }
                }
                match sum {
                    Some(s) => TagGrad::Sum(s),
                    None => TagGrad::Node(run[0].1),
                }
            };
            tags.push((run[0].0, entry));
        }
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
        self.try_wrt(var).or_panic()
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

    /// The gradient of `x`: a leaf [`Var`] of this tape, or anything else
    /// that knows how to find its gradient ([`HasGrad`]; a `strata-nn`
    /// parameter is one: `grads.of(&layer.weight)`). `None` if the output does
    /// not depend on it.
    ///
    /// # Panics
    /// If `x` is a var of another tape.
    #[must_use]
    #[track_caller]
    pub fn of<'g>(&'g self, x: &impl HasGrad<T>) -> Option<&'g Tensor<T>> {
        x.grad_in(self)
    }

    /// The gradient of the leaf recorded with [`Tape::leaf_tagged`](crate::Tape::leaf_tagged)
    /// and this tag, if the output depends on it. If several leaves carry the
    /// tag (one parameter put on the tape twice, as when a layer is applied
    /// twice), this is the sum of their gradients.
    #[must_use]
    pub fn by_tag(&self, tag: u64) -> Option<&Tensor<T>> {
        let at = self.tags.binary_search_by_key(&tag, |(t, _)| *t).ok()?;
        match &self.tags[at].1 {
            TagGrad::Node(i) => self.grads[*i].as_ref(),
            TagGrad::Sum(s) => Some(s),
        }
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

/// Something whose gradient a [`Grads`] can look up: a [`Var`] (by node), or a
/// model parameter (by the tag it was put on the tape with). Used by
/// [`Grads::of`].
pub trait HasGrad<T: Float> {
    /// This value's gradient in `grads`, if the output depends on it.
    fn grad_in<'g>(&self, grads: &'g Grads<T>) -> Option<&'g Tensor<T>>;
}

impl<T: Float> HasGrad<T> for Var<'_, T> {
    #[track_caller]
    fn grad_in<'g>(&self, grads: &'g Grads<T>) -> Option<&'g Tensor<T>> {
        grads.wrt(self)
    }
}

#[cfg(test)]
mod tests {
    use strata_tensor::Tensor;

    use crate::Tape;

    #[test]
    fn recycled_slots_hold_no_gradient_of_an_earlier_pass() {
        // A long pass whose every node gets a gradient...
        {
            let tape = Tape::<f64>::new();
            let mut h = tape.leaf(Tensor::from_vec(vec![1.0, 2.0], [2]).unwrap());
            for _ in 0..50 {
                h = h.mul_scalar(1.5).add_scalar(0.1);
            }
            drop(h.sum().backward());
        }
        // ...then a short one on a new tape, where the second leaf is unused:
        // its slot, reused from the first pass, must read as no gradient.
        let tape = Tape::<f64>::new();
        let a = tape.leaf(Tensor::from_vec(vec![3.0, 4.0], [2]).unwrap());
        let unused = tape.leaf(Tensor::from_vec(vec![5.0, 6.0], [2]).unwrap());
        let grads = a.mul(a).sum().backward();
        assert_eq!(grads.wrt(&a).unwrap().to_vec(), vec![6.0, 8.0]);
        assert!(grads.wrt(&unused).is_none());
    }
}
