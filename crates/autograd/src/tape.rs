//! [`Tape`]: the Wengert list one forward pass records.
//!
//! Nodes are appended in execution order, so backward is a reverse sweep with
//! no topological sort. The tape owns every intermediate value and is dropped,
//! with all of them, when the pass is over; models hold parameters, never nodes.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};

use strata_tensor::{Float, Tensor};

use crate::anomaly::{Anomaly, Phase};
use crate::custom::CustomOp;
use crate::op::Op;
use crate::recycle;
use crate::var::Var;

static NEXT_TAPE_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Node buffers of dropped tapes, for the next tape on this thread.
    static NODE_BUFFERS: recycle::Bin = const { RefCell::new(Vec::new()) };
}

/// Buffers larger than this many nodes are freed, not kept.
const MAX_RECYCLED_NODES: usize = 1 << 16;

/// An empty node buffer, recycled when one of the right type is at hand.
fn recycled_nodes<T: Float>() -> Nodes<T> {
    recycle::take::<Nodes<T>>(&NODE_BUFFERS).unwrap_or_else(|| Nodes::with_capacity(64))
}

impl<T: Float> Drop for Tape<T> {
    fn drop(&mut self) {
        let mut nodes = std::mem::take(self.nodes.get_mut());
        nodes.clear();
        if nodes.capacity() <= MAX_RECYCLED_NODES {
            recycle::keep(&NODE_BUFFERS, nodes);
        }
    }
}

/// The recorded nodes, one field per column: node `i` is `ops[i]`, the value
/// it made `values[i]`, and whether some leaf is upstream (so backward must
/// visit it) `needs_grad[i]`.
///
/// Columns rather than a `Vec` of node structs: a ~150-byte node was built
/// and then copied into the buffer with a `memcpy` call on every recorded op
/// (6-7% of the samples of the XOR training step); the separate pushes are
/// plain moves. Measured gain, paired wall time: 1.5% (XOR), 3% (tape chain).
#[derive(Default)]
pub(crate) struct Nodes<T: Float> {
    pub(crate) ops: Vec<Op<T>>,
    pub(crate) values: Vec<Tensor<T>>,
    pub(crate) needs_grad: Vec<bool>,
}

impl<T: Float> Nodes<T> {
    fn with_capacity(n: usize) -> Self {
        Nodes { ops: Vec::with_capacity(n), values: Vec::with_capacity(n), needs_grad: Vec::with_capacity(n) }
    }

    /// Number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    fn clear(&mut self) {
        self.ops.clear();
        self.values.clear();
        self.needs_grad.clear();
    }

    fn capacity(&self) -> usize {
        self.values.capacity()
    }
}

/// A tape recording one forward pass (`Tape<f32>` unless said otherwise).
///
/// ```
/// use strata_autograd::Tape;
/// use strata_tensor::Tensor;
///
/// let tape = Tape::new();
/// let x = tape.leaf(Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3]).unwrap());
/// let y = (x * x).sum();                       // y = Σ x²
/// let grads = y.backward();
/// assert_eq!(grads.wrt(&x).unwrap().to_vec(), vec![2.0, 4.0, 6.0]);   // dy/dx = 2x
/// ```
pub struct Tape<T: Float = f32> {
    pub(crate) id: u64,
    pub(crate) nodes: RefCell<Nodes<T>>,
    anomaly_detection: bool,
    pub(crate) anomaly: RefCell<Option<Anomaly>>,
    grad_enabled: Cell<bool>,
    /// Non-leaf nodes whose gradient backward keeps (see [`Tape::retain_grad`]).
    pub(crate) retained: RefCell<Vec<usize>>,
}

impl<T: Float> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float> Tape<T> {
    /// An empty tape.
    #[must_use]
    pub fn new() -> Self {
        Tape {
            id: NEXT_TAPE_ID.fetch_add(1, Ordering::Relaxed),
            nodes: RefCell::new(recycled_nodes()),
            anomaly_detection: false,
            anomaly: RefCell::new(None),
            grad_enabled: Cell::new(true),
            retained: RefCell::new(Vec::new()),
        }
    }

    /// An empty tape that checks every forward output and every gradient for
    /// NaN/Inf and remembers the first op that produced one
    /// ([`Tape::anomaly`], [`Grads::anomaly`](crate::Grads::anomaly)). Costs one
    /// extra pass over each value.
    #[must_use]
    pub fn with_anomaly_detection() -> Self {
        let mut tape = Self::new();
        tape.anomaly_detection = true;
        tape
    }

    /// A value whose gradient is wanted.
    pub fn leaf(&self, value: Tensor<T>) -> Var<'_, T> {
        self.push(Op::Leaf(None), value, true)
    }

    /// A leaf carrying a caller's tag (a parameter id), so its gradient can be
    /// found with [`Grads::by_tag`](crate::Grads::by_tag) without keeping the `Var`.
    pub fn leaf_tagged(&self, value: Tensor<T>, tag: u64) -> Var<'_, T> {
        self.push(Op::Leaf(Some(tag)), value, true)
    }

    /// A value with no gradient (inputs, targets, frozen weights).
    pub fn constant(&self, value: Tensor<T>) -> Var<'_, T> {
        self.push(Op::Constant, value, false)
    }

    /// Records a user-defined differentiable op on `inputs`. The tape keeps
    /// the op (for its backward), so it is taken by value: pass a fresh
    /// value, or a clone of one a layer holds (`self.op.clone()`); an op
    /// is usually a few parameters, and nothing requires it to be `Clone`.
    ///
    /// # Panics
    /// If an input comes from another tape.
    #[track_caller]
    pub fn apply<O: CustomOp<T>>(&self, op: O, inputs: &[Var<'_, T>]) -> Var<'_, T> {
        let values: Vec<Tensor<T>> = inputs.iter().map(|v| self.value_of(*v)).collect();
        let refs: Vec<&Tensor<T>> = values.iter().collect();
        let out = op.forward(&refs);
        let ids: Box<[usize]> = inputs.iter().map(|v| v.index).collect();
        self.record(Op::Custom(std::rc::Rc::new(op), ids), out)
    }

    /// Runs `f` with recording of gradients switched off: every op it records
    /// is a constant, as under PyTorch's `no_grad`.
    pub fn no_grad<R>(&self, f: impl FnOnce() -> R) -> R {
        let before = self.grad_enabled.replace(false);
        let r = f();
        self.grad_enabled.set(before);
        r
    }

    /// Asks backward to keep the gradient of an intermediate var (PyTorch's
    /// `retain_grad`), so [`Grads::wrt`](crate::Grads::wrt) returns it. Layer
    /// diagnostics use it for the gradient reaching each hidden layer's output.
    ///
    /// # Panics
    /// If `v` comes from another tape.
    #[track_caller]
    pub fn retain_grad(&self, v: Var<'_, T>) {
        assert!(v.tape_id() == self.id, "retain_grad: a Var of another tape was used on this tape");
        self.retained.borrow_mut().push(v.index);
    }

    /// Number of recorded nodes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.borrow().len()
    }

    /// True if nothing is recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first NaN/Inf a forward output had (anomaly detection only).
    #[must_use]
    pub fn anomaly(&self) -> Option<Anomaly> {
        self.anomaly.borrow().clone()
    }

    pub(crate) fn anomaly_detection(&self) -> bool {
        self.anomaly_detection
    }

    /// The value of a var of this tape.
    #[track_caller]
    pub(crate) fn value_of(&self, v: Var<'_, T>) -> Tensor<T> {
        assert!(v.tape_id() == self.id, "a Var of another tape was used on this tape");
        self.nodes.borrow().values[v.index].clone()
    }

    /// Appends an op node; it needs a gradient if any parent does.
    pub(crate) fn record(&self, op: Op<T>, value: Tensor<T>) -> Var<'_, T> {
        let needs = if self.grad_enabled.get() {
            let nodes = self.nodes.borrow();
            let mut needs = false;
            op.for_each_parent(|p| needs |= nodes.needs_grad[p]);
            needs
        } else {
            false
        };
        self.push(op, value, needs)
    }

    fn push(&self, op: Op<T>, value: Tensor<T>, needs_grad: bool) -> Var<'_, T> {
        let needs_grad = needs_grad && self.grad_enabled.get();
        if self.anomaly_detection && self.anomaly.borrow().is_none() && value.has_non_finite() {
            let index = self.len();
            *self.anomaly.borrow_mut() = Some(Anomaly { op: op.name(), node: index, phase: Phase::Forward });
        }
        let mut nodes = self.nodes.borrow_mut();
        nodes.ops.push(op);
        nodes.values.push(value);
        nodes.needs_grad.push(needs_grad);
        Var::new(self, nodes.len() - 1)
    }
}
