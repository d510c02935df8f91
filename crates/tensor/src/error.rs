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
    #[error("{op}: {len} values cannot fill shape {shape:?} ({})", describe_count(shape))]
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
    #[error("reshape: cannot reshape {from:?} ({}) into {to:?} ({})", describe_count(from), describe_count(to))]
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

/// "12 elements", or "sizes overflow" for a shape whose sizes do (the
/// message must not overflow computing itself).
fn describe_count(shape: &Shape) -> String {
    match shape.checked_numel() {
        Some(n) => format!("{n} elements"),
        None => "sizes overflow".to_string(),
    }
}

/// `Result::unwrap` for the panicking forms of ops: the message is the
/// error's own (it names the op and the shapes), and the location is the
/// caller's. (`unwrap_or_else(|e| panic!(..))` would report the closure's
/// line inside this crate: `#[track_caller]` does not reach into closures.)
#[doc(hidden)]
pub trait OrPanic<T> {
    /// The value, or a panic with the error's message at the caller's line.
    fn or_panic(self) -> T;
}

impl<T, E: std::fmt::Display> OrPanic<T> for Result<T, E> {
    #[track_caller]
    #[inline(always)]
    fn or_panic(self) -> T {
        match self {
            Ok(v) => v,
            Err(e) => op_failed(&e),
        }
    }
}

/// The panic of [`OrPanic::or_panic`], out of line: the hot path keeps only
/// the match, and one copy of the formatting serves every error type.
#[cold]
#[inline(never)]
#[track_caller]
fn op_failed(e: &dyn std::fmt::Display) -> ! {
    panic!("{e}")
}
