//! Slice-and-stride kernels: the loops behind the tensor ops. All of the
//! crate's `unsafe` code lives below this module (the SIMD gemm kernels).

pub(crate) mod conv;
pub(crate) mod gemm;
pub(crate) mod reduce;
pub(crate) mod strided;
pub(crate) mod tanh;

/// Below this many output elements an elementwise op or reduction runs on the
/// calling thread: rayon's fork-join costs a few microseconds, which is more
/// than a pass over 100K floats: measured on 2 cores, a parallel add of 64K
/// f32 took 3× as long as a sequential one, and 256K ran 1.6× faster.
pub(crate) const PAR_THRESHOLD: usize = 1 << 17;

/// Whether an op over `len` elements forks onto rayon: at or above
/// [`PAR_THRESHOLD`], with more than one thread to run on (asking lets the
/// main thread join the pool, see [`crate::threads`]).
pub(crate) fn par(len: usize) -> bool {
    len >= PAR_THRESHOLD && crate::threads::current_num_threads() > 1
}

/// Work is split into chunks of this many elements, never by thread count, so
/// results are identical whatever the number of rayon threads.
pub(crate) const CHUNK: usize = 1 << 13;
