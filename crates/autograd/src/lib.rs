//! # strata-autograd
//!
//! Reverse-mode automatic differentiation on a tape (a Wengert list).
//!
//! ```
//! use strata_autograd::Tape;
//! use strata_tensor::Tensor;
//!
//! let tape = Tape::new();                                   // Tape<f32>, one per forward pass
//! let x = tape.constant(Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]).unwrap());
//! let w = tape.leaf(Tensor::from_vec(vec![0.5f32, -0.5, 0.25, 1.0], [2, 2]).unwrap());
//! let b = tape.leaf(Tensor::zeros([2]));
//! let logits = x.matmul(w.t()).add(b).relu();               // each op pushes one node
//! let loss = logits.cross_entropy(&[0, 1]);
//! let grads = loss.backward();                              // one reverse sweep
//! assert_eq!(grads.wrt(&w).unwrap().dims(), &[2, 2]);
//! assert!(grads.wrt(&x).is_none());                         // constants get no gradient
//! ```
//!
//! - [`Var`] is a `Copy` handle (tape + index); ops are its methods and
//!   `+ - * /`, unary `-` work on it.
//! - Only nodes downstream of a leaf are visited by backward; a var used
//!   several times gets the sum of its contributions; the gradient of a
//!   broadcast operand is summed back to its shape.
//! - Every activation is an [`Activation`] with its derivative beside it.
//! - Softmax cross-entropy, BCE with logits and MSE are fused and stable.
//! - [`CustomOp`] + [`Tape::apply`] add differentiable ops from other crates.
//! - [`gradcheck`] compares backward with central differences; the
//!   `proptest` feature adds `strategy` for property tests of gradients.
//! - [`Tape::with_anomaly_detection`] names the first op that made a NaN/Inf.
//!
//! Higher-order gradients are not implemented yet; each backward arm is
//! written with tensor ops that have recorded counterparts, so a later
//! `create_graph` mode can replay them on a tape.
#![deny(missing_docs)]

mod activation;
mod anomaly;
mod backward;
mod custom;
mod error;
mod gradcheck;
mod grads;
mod graph;
mod higher;
mod op;
mod ops;
mod ops_support;
mod recycle;
#[cfg(feature = "proptest")]
pub mod strategy;
mod tape;
mod unary;
mod var;

pub use activation::{Activation, GeluApprox, SELU_ALPHA, SELU_SCALE};
pub use anomaly::{Anomaly, Phase};
pub use custom::CustomOp;
pub use error::{AutogradError, GradCheckError};
pub use gradcheck::{gradcheck, gradcheck_with, GradCheck};
pub use grads::{Grads, HasGrad};
pub use higher::{hessian, hvp, jacobian};
pub use tape::Tape;
pub use var::Var;
