//! # strata-tensor
//!
//! N-dimensional CPU tensors for Strata: `f32` and `f64`, shared copy-on-write
//! storage with strided views, NumPy broadcasting, reductions, and a
//! cache-blocked, SIMD, rayon-parallel matmul.
//!
//! ```
//! use strata_tensor::Tensor;
//! let x = Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]).unwrap();
//! let w = Tensor::<f32>::ones([4, 3]);          // (out, in)
//! let b = Tensor::<f32>::full([4], 0.5);
//! let y = x.matmul(&w.t()).add(&b).relu();     // [2, 4]; b broadcasts over rows
//! assert_eq!(y.to_vec(), vec![6.5, 6.5, 6.5, 6.5, 15.5, 15.5, 15.5, 15.5]);
//! assert_eq!(y.sum_axis(0, false).to_vec(), vec![22.0; 4]);
//! ```
//!
//! ## Errors and panics
//! Following ndarray: a shape mismatch in arithmetic is a bug in the caller, so
//! `add`, `matmul` and friends panic with a message naming the op and both
//! shapes (`matmul: [4, 3] x [4, 2]: inner dimensions 3 and 4 differ`). Each has
//! a `try_` form that returns [`TensorError`] instead, and constructors that
//! take outside data (`from_vec`, `try_reshape`) always return a `Result`.
//!
//! ## Threads and determinism
//! Ops on tensors of at least 128K elements, and products of at least 96³
//! multiply-adds, run on rayon's pool. Work is split into fixed-size pieces,
//! never by thread count, so results are bit-identical on any number of threads.
//! The program's main thread joins rayon's global pool on its first parallel
//! op (unless the program built the pool first, or `STRATA_JOIN_POOL=0`), so
//! that it works beside the pool's threads instead of sleeping while they
//! work: see [`threads`].
#![deny(missing_docs)]

mod error;
mod float;
mod fmt;
mod kernels;
mod layout;
mod ops;
mod pool;
mod random;
pub mod scalar;
mod shape;
mod storage;
mod tensor;
pub mod threads;

pub use error::{OrPanic, TensorError};
pub use float::Float;
pub use kernels::gemm::GemmKernel;
pub use layout::{Layout, Strides};
pub use ops::{ConvParams, Pool2d};
pub use shape::Shape;
pub use tensor::Tensor;
