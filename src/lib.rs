//! # Strata
//!
//! A small reverse-mode autodiff framework for building, checking and
//! inspecting neural networks in plain Rust on the CPU. This facade re-exports
//! the workspace's crates:
//!
//! - [`tensor`]: n-dimensional tensors, broadcasting, reductions, fast matmul;
//! - [`autograd`]: the tape, every op and activation, fused losses, gradcheck;
//! - [`nn`]: hidden layers, models, initialisers, optimizers, checkpoints,
//!   data and layer diagnostics.
//!
//! ```
//! use strata::prelude::*;
//!
//! let tape = Tape::<f64>::new();
//! let w = tape.leaf(Tensor::from_vec(vec![0.5, -0.25], [1, 2]).unwrap());
//! let x = tape.constant(Tensor::from_vec(vec![1.0, 2.0], [1, 2]).unwrap());
//! let y = x.matmul(w.t()).tanh().sum();
//! let grads = y.backward();
//! assert_eq!(grads.wrt(&w).unwrap().dims(), &[1, 2]);
//! ```
#![deny(missing_docs)]

pub use strata_autograd as autograd;
pub use strata_derive as derive;
pub use strata_nn as nn;
pub use strata_tensor as tensor;

/// Data-parallel training over MPI (feature `distributed`; needs Open MPI).
#[cfg(feature = "distributed")]
pub use strata_distributed as distributed;

/// The `rand` crate Strata's seeded constructors take their generators from
/// (`strata::rand::{rngs::StdRng, SeedableRng}`), so a program needs no
/// `rand` dependency of its own, and no version that could differ.
pub use rand;

/// The `proptest` crate the gradient strategies
/// ([`autograd::strategy`]) are written for (feature `proptest`, on by default).
#[cfg(feature = "proptest")]
pub use proptest;

/// The names most programs need, in one `use strata::prelude::*;`.
pub mod prelude {
    pub use strata_autograd::{
        gradcheck, hessian, hvp, jacobian, Activation, AutogradError, CustomOp, GeluApprox, GradCheck, Grads, HasGrad,
        Tape, Var,
    };
    pub use strata_nn::data::{Dataset, Split};
    pub use strata_nn::diagnostics::{LayerReport, Trace};
    pub use strata_nn::loss::Reduction;
    pub use strata_nn::optim::{Adagrad, Adam, AdamW, GradAccumulator, LrSchedule, Optimizer, RmsProp, Sgd};
    pub use strata_nn::{
        accuracy, checkpoint, gradcheck_module, hvp_params, loss, param_grads_graph, AvgPool2d, BatchNorm1d,
        BatchNorm2d, Conv2d, Dense, Dropout, Flatten, Init, LayerNorm, Linear, MaxPool2d, Mlp, Module, Param,
        ParamTape, Sequential,
    };
    pub use strata_tensor::{ConvParams, Float, Pool2d, Shape, Tensor, TensorError};
}

/// The README's code blocks, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
