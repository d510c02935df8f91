//! `impl Var` by concern: arithmetic (with the operator traits), shape
//! ops and reductions, activations, and softmax with the fused losses.

mod activation;
mod arith;
mod conv;
mod loss;
mod pool;
mod shape;
