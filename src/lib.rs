//! # Strata
//!
//! A small reverse-mode autodiff framework for building, checking and
//! inspecting neural networks in plain Rust on the CPU. This facade re-exports
//! the workspace's crates:
//!
//! - [`tensor`]: n-dimensional tensors, broadcasting, reductions, fast matmul.
#![deny(missing_docs)]

pub use strata_tensor as tensor;

/// The names most programs need, in one `use strata::prelude::*;`.
pub mod prelude {
    pub use strata_tensor::{Float, Shape, Tensor, TensorError};
}
