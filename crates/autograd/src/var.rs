//! [`Var`]: a small `Copy` handle to a value on a tape. Ops are its methods
//! (in `ops/`); `+ - * /` and unary `-` work on it too.

use std::fmt;

use strata_tensor::{Float, OrPanic, Shape, Tensor, TensorError};

use crate::backward;
use crate::error::AutogradError;
use crate::grads::Grads;
use crate::op::Op;
use crate::tape::Tape;

/// A value recorded on a [`Tape`]: the tape and the node's position.
pub struct Var<'t, T: Float = f32> {
    pub(crate) tape: &'t Tape<T>,
    pub(crate) index: usize,
}

impl<T: Float> Clone for Var<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Float> Copy for Var<'_, T> {}

impl<T: Float> fmt::Debug for Var<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Var(node {}, {:?})", self.index, self.value())
    }
}

impl<'t, T: Float> Var<'t, T> {
    pub(crate) fn new(tape: &'t Tape<T>, index: usize) -> Self {
        Var { tape, index }
    }

    pub(crate) fn tape_id(&self) -> u64 {
        self.tape.id
    }

    /// The tape this var lives on.
    #[must_use]
    pub fn tape(&self) -> &'t Tape<T> {
        self.tape
    }

    /// Position on the tape.
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// The value (a cheap shared handle, not a copy of the data).
    #[must_use]
    pub fn value(&self) -> Tensor<T> {
        self.tape.nodes.borrow().values[self.index].clone()
    }

    /// The value's shape.
    #[must_use]
    pub fn shape(&self) -> Shape {
        self.tape.nodes.borrow().values[self.index].shape().clone()
    }

    /// The value's number of dimensions.
    #[must_use]
    pub fn rank(&self) -> usize {
        self.tape.nodes.borrow().values[self.index].rank()
    }

    /// The value's dimensions.
    #[must_use]
    pub fn dims(&self) -> Vec<usize> {
        self.tape.nodes.borrow().values[self.index].dims().to_vec()
    }

    /// The single value of a one-element var (a loss).
    ///
    /// # Panics
    /// If the value has more than one element.
    #[must_use]
    #[track_caller]
    pub fn item(&self) -> T {
        self.tape.nodes.borrow().values[self.index].item()
    }

    /// True if some leaf is upstream of this var.
    #[must_use]
    pub fn requires_grad(&self) -> bool {
        self.tape.nodes.borrow().needs_grad[self.index]
    }

    /// Gradients of this one-element var (a loss) with respect to every leaf
    /// it depends on.
    ///
    /// # Panics
    /// If the value has more than one element; use
    /// [`backward_with`](Self::backward_with) then.
    #[must_use]
    #[track_caller]
    pub fn backward(&self) -> Grads<T> {
        let value = self.value();
        assert!(
            value.numel() == 1,
            "backward: the output has shape {:?}; backward() needs one element (use backward_with(seed))",
            value.shape()
        );
        self.backward_with(Tensor::ones(value.shape().clone()))
    }

    /// Gradients of `Σ seed ⊙ self` (a vector-Jacobian product) with respect
    /// to every leaf.
    ///
    /// Backward reads the tape and changes nothing on it, so it may be called
    /// any number of times on one tape, from any var: a Jacobian is one call
    /// per output row, with a one-hot seed each time.
    ///
    /// ```
    /// use strata_autograd::Tape;
    /// use strata_tensor::Tensor;
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.leaf(Tensor::from_vec(vec![1.0, 2.0], [2]).unwrap());
    /// let y = x * x;                                   // y_i = x_i², J = diag(2x)
    /// let rows: Vec<Vec<f64>> = (0..2)
    ///     .map(|i| {
    ///         let seed = Tensor::from_fn([2], |j| if j[0] == i { 1.0 } else { 0.0 });
    ///         y.backward_with(seed).wrt(&x).unwrap().to_vec()
    ///     })
    ///     .collect();
    /// assert_eq!(rows, [[2.0, 0.0], [0.0, 4.0]]);
    /// ```
    ///
    /// # Panics
    /// If `seed` does not have this var's shape.
    #[must_use]
    #[track_caller]
    pub fn backward_with(&self, seed: Tensor<T>) -> Grads<T> {
        let shape = self.shape();
        assert!(
            seed.shape() == &shape,
            "backward_with: seed shape {:?} differs from the output's {:?}",
            seed.shape(),
            shape
        );
        backward::run(self.tape, self.index, seed)
    }

    /// The gradients of this scalar with respect to `wrt`, as vars on the
    /// same tape: graph-mode backward (PyTorch's `autograd.grad(…,
    /// create_graph=True)`, JAX's `grad` of `grad`). The gradients are
    /// recorded ops, so they can be differentiated again, any number of
    /// times, or put into a loss that is trained with the ordinary
    /// [`backward`](Self::backward) (a gradient penalty).
    ///
    /// A var of `wrt` that this one does not depend on gets zeros.
    ///
    /// ```
    /// use strata_autograd::Tape;
    /// use strata_tensor::Tensor;
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.leaf(Tensor::from_vec(vec![0.5], [1]).unwrap());
    /// let y = x.sigmoid().sum();
    /// let [dy] = y.grad_graph(&[x]).unwrap()[..] else { unreachable!() };
    /// let [d2y] = dy.sum().grad_graph(&[x]).unwrap()[..] else { unreachable!() };
    /// let s = 1.0 / (1.0 + (-0.5f64).exp());
    /// assert!((d2y.value().to_vec()[0] - s * (1.0 - s) * (1.0 - 2.0 * s)).abs() < 1e-15);
    /// ```
    ///
    /// # Errors
    /// [`AutogradError::NoGradient`] if a var of `wrt` takes no gradient (a
    /// constant); [`AutogradError::ForeignVar`] if it is on another tape;
    /// [`AutogradError::NotTwiceDifferentiable`] naming a custom op on the
    /// way that has no [`CustomOp::backward_graph`](crate::CustomOp::backward_graph).
    ///
    /// # Panics
    /// If this var has more than one element (use [`grad_graph_with`](Self::grad_graph_with)).
    pub fn grad_graph(&self, wrt: &[Var<'t, T>]) -> Result<Vec<Var<'t, T>>, AutogradError> {
        let shape = self.shape();
        assert!(
            shape.numel() == 1,
            "grad_graph: the output has shape {shape:?}; grad_graph needs one element (use grad_graph_with(seed))"
        );
        let seed = self.tape.constant(Tensor::ones(shape));
        crate::graph::grad_graph(*self, seed, wrt)
    }

    /// [`grad_graph`](Self::grad_graph) of `Σ seed ⊙ self` (a
    /// vector-Jacobian product); `seed` may itself be a var, and the result
    /// is then differentiable with respect to it too.
    ///
    /// # Errors
    /// As [`grad_graph`](Self::grad_graph).
    ///
    /// # Panics
    /// If `seed`'s shape differs from this var's.
    pub fn grad_graph_with(&self, seed: Var<'t, T>, wrt: &[Var<'t, T>]) -> Result<Vec<Var<'t, T>>, AutogradError> {
        assert!(
            seed.dims() == self.dims(),
            "grad_graph_with: seed shape {:?} differs from the output's {:?}",
            seed.dims(),
            self.dims()
        );
        crate::graph::grad_graph(*self, seed, wrt)
    }

    /// [`grad_graph`](Self::grad_graph) with respect to tagged leaves
    /// ([`Tape::leaf_tagged`]; a model's parameters are put on tapes this
    /// way): for each tag, the sum of the gradients of every leaf with that
    /// tag (a parameter used twice is one parameter), or `None` if no leaf
    /// on the tape has it.
    ///
    /// # Errors
    /// As [`grad_graph`](Self::grad_graph).
    ///
    /// # Panics
    /// If this var has more than one element.
    pub fn grad_graph_tagged(&self, tags: &[u64]) -> Result<Vec<Option<Var<'t, T>>>, AutogradError> {
        let leaves: Vec<(usize, u64)> = {
            let nodes = self.tape.nodes.borrow();
            (0..=self.index)
                .filter_map(|i| match nodes.ops[i] {
                    Op::Leaf(Some(tag)) if nodes.needs_grad[i] && tags.contains(&tag) => Some((i, tag)),
                    _ => None,
                })
                .collect()
        };
        let vars: Vec<Var<'t, T>> = leaves.iter().map(|&(i, _)| Var::new(self.tape, i)).collect();
        let grads = if vars.is_empty() { Vec::new() } else { self.grad_graph(&vars)? };
        Ok(tags
            .iter()
            .map(|tag| leaves.iter().zip(&grads).filter(|((_, t), _)| t == tag).map(|(_, g)| *g).reduce(|a, b| a + b))
            .collect())
    }

    /// Checks two vars share a tape.
    #[track_caller]
    pub(crate) fn same_tape(&self, other: &Var<'_, T>, op: &str) {
        assert!(self.tape.id == other.tape.id, "{op}: the two Vars come from different tapes");
    }

    /// Records a unary op computed from this var's value.
    pub(crate) fn unary(self, op: Op<T>, f: impl FnOnce(&Tensor<T>) -> Tensor<T>) -> Var<'t, T> {
        let out = f(&self.tape.nodes.borrow().values[self.index]);
        self.tape.record(op, out)
    }

    /// Records a binary op computed from both values; panics (at the
    /// caller's line) with the computation's error or a tape mismatch. The
    /// panicking forms of the ops use this rather than the `try_` forms
    /// followed by an unwrap: building a `Result<Var, AutogradError>` on
    /// every op cost the tape chain benchmark 12%.
    #[track_caller]
    #[inline]
    pub(crate) fn binary(
        self,
        other: Var<'_, T>,
        name: &'static str,
        op: Op<T>,
        f: impl FnOnce(&Tensor<T>, &Tensor<T>) -> Result<Tensor<T>, TensorError>,
    ) -> Var<'t, T> {
        self.same_tape(&other, name);
        let out = {
            let nodes = self.tape.nodes.borrow();
            f(&nodes.values[self.index], &nodes.values[other.index])
        };
        self.tape.record(op, out.or_panic())
    }

    /// Records a binary op computed from both values, or returns the error
    /// the computation (or a tape mismatch) gave; nothing is recorded then.
    pub(crate) fn try_binary(
        self,
        other: Var<'_, T>,
        name: &'static str,
        op: Op<T>,
        f: impl FnOnce(&Tensor<T>, &Tensor<T>) -> Result<Tensor<T>, TensorError>,
    ) -> Result<Var<'t, T>, AutogradError> {
        if self.tape.id != other.tape.id {
            return Err(AutogradError::DifferentTapes { op: name });
        }
        let out = {
            let nodes = self.tape.nodes.borrow();
            f(&nodes.values[self.index], &nodes.values[other.index])?
        };
        Ok(self.tape.record(op, out))
    }
}
