//! `impl Tensor` split by concern: elementwise maps and broadcasting binary
//! ops, the `std::ops` operator traits, reductions, movement (views, gathers,
//! concatenation), matmul and convolution.

mod arith;
mod conv;
mod elementwise;
mod linear;
mod matmul;
mod movement;
mod pool;
mod reduce;
pub use conv::ConvParams;
pub use pool::Pool2d;
