//! The crate's error types.

use strata_tensor::TensorError;

/// Misuse that depends on run-time data, reported instead of a wrong answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AutogradError {
    /// A var from another tape was looked up in these gradients.
    #[error("grads.wrt: the Var (node {node}) belongs to another tape than these gradients")]
    ForeignVar {
        /// The var's node index on its own tape.
        node: usize,
    },
    /// The two vars of a binary op were recorded on different tapes.
    #[error("{op}: the two Vars come from different tapes")]
    DifferentTapes {
        /// The op.
        op: &'static str,
    },
    /// A tensor op refused its operands' shapes (the message names the op and the shapes).
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// Graph-mode backward reached an op that cannot express its
    /// derivative as recorded ops: a custom op without
    /// [`CustomOp::backward_graph`](crate::CustomOp::backward_graph).
    #[error("grad_graph: op `{op}` (node {node}) has no differentiable backward; implement CustomOp::backward_graph to differentiate through it twice")]
    NotTwiceDifferentiable {
        /// The op's name.
        op: String,
        /// Its node on the tape.
        node: usize,
    },
    /// A var to differentiate with respect to does not depend on any leaf
    /// that takes gradients (a constant, or recorded under `no_grad`).
    #[error("grad_graph: input {position} (node {node}) does not require a gradient (make it with tape.leaf)")]
    NoGradient {
        /// Its position in the `wrt` slice.
        position: usize,
        /// Its node on the tape.
        node: usize,
    },
    /// Labels that do not fit the logits.
    #[error("{op}: {reason}")]
    Labels {
        /// The loss.
        op: &'static str,
        /// What is wrong (`label 12 is out of range for 10 classes`).
        reason: String,
    },
}

/// A gradient check failed: the analytic gradient of one element differs from
/// the central finite difference by more than the tolerance.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "gradcheck: input {input} element {index:?}: analytic {analytic:.6e} vs numeric {numeric:.6e} \
     (error {error:.3e} > tolerance {tolerance:.3e})"
)]
pub struct GradCheckError {
    /// Which input (position in the inputs slice).
    pub input: usize,
    /// The element's multi-index.
    pub index: Vec<usize>,
    /// Backward's value.
    pub analytic: f64,
    /// The finite difference's value.
    pub numeric: f64,
    /// `|analytic − numeric|`.
    pub error: f64,
    /// `atol + rtol·|numeric|` for this element.
    pub tolerance: f64,
}
