//! The crate's error type.
//!
//! Only data-dependent operations return it (`from_vec`, `reshape`, and the
//! `try_` forms of the binary ops and matmul); the plain forms panic with the
//! same message, because a shape mismatch in arithmetic is a bug in the caller.

use crate::shape::Shape;

/// What went wrong in a tensor operation. Each variant names the operation and
/// the shapes involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TensorError {
    /// The number of values does not match the shape's element count.
    #[error("{op}: {len} values cannot fill shape {shape:?} ({} elements)", shape.numel())]
    Length {
        /// The operation.
        op: &'static str,
        /// How many values were given.
        len: usize,
        /// The shape asked for.
        shape: Shape,
    },
    /// Two shapes are not broadcast-compatible.
    #[error("{op}: shapes {lhs:?} and {rhs:?} cannot be broadcast together")]
    Broadcast {
        /// The operation.
        op: &'static str,
        /// Left operand's shape.
        lhs: Shape,
        /// Right operand's shape.
        rhs: Shape,
    },
    /// Two shapes do not fit the operation (matmul inner dimensions, concat, ...).
    #[error("{op}: {lhs:?} x {rhs:?}: {reason}")]
    Mismatch {
        /// The operation.
        op: &'static str,
        /// Left operand's shape.
        lhs: Shape,
        /// Right operand's shape.
        rhs: Shape,
        /// Why they do not fit.
        reason: String,
    },
    /// A reshape asked for a different number of elements.
    #[error("reshape: cannot reshape {from:?} ({} elements) into {to:?} ({} elements)", from.numel(), to.numel())]
    Reshape {
        /// The tensor's shape.
        from: Shape,
        /// The requested shape.
        to: Shape,
    },
    /// An argument is outside what the operation accepts (an index out of range, ...).
    #[error("{op}: {reason}")]
    Invalid {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
}
