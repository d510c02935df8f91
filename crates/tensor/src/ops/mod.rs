//! `impl Tensor` split by concern: elementwise maps and broadcasting binary
//! ops, the `std::ops` operator traits, reductions, movement (views, gathers,
//! concatenation) and matmul.

mod arith;
mod elementwise;
mod linear;
mod matmul;
mod movement;
mod reduce;
