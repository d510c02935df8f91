//! The portable micro-kernel: plain Rust that LLVM vectorises for the target's
//! baseline (SSE2 on x86-64). Used for CPUs without AVX2 and as the reference
//! the SIMD kernels are tested against.

use super::GemmKernel;
use crate::float::Float;

/// f32: a 4 × 8 tile (eight SSE registers of accumulators).
pub(super) const F32: GemmKernel<f32> =
    GemmKernel { name: "portable", mr: 4, nr: 8, kc: 256, nc: 512, run: run::<f32, 4, 8> };

/// f64: a 4 × 4 tile.
pub(super) const F64: GemmKernel<f64> =
    GemmKernel { name: "portable", mr: 4, nr: 4, kc: 256, nc: 256, run: run::<f64, 4, 4> };

/// # Safety
/// `a`, `b` hold `kc*MR`, `kc*NR` values; `c` addresses an `MR × NR` tile
/// with row stride `ldc`.
unsafe fn run<T: Float, const MR: usize, const NR: usize>(
    kc: usize,
    a: *const T,
    b: *const T,
    c: *mut T,
    ldc: usize,
    accumulate: bool,
) {
    // SAFETY: the caller guarantees the lengths in the contract above.
    let (a, b) = unsafe { (std::slice::from_raw_parts(a, kc * MR), std::slice::from_raw_parts(b, kc * NR)) };
    let mut acc = [[T::zero(); NR]; MR];
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for i in 0..MR {
            for j in 0..NR {
                acc[i][j] += ap[i] * bp[j];
            }
        }
    }
    for (i, row) in acc.iter().enumerate() {
        // SAFETY: row i of the tile lies at c + i*ldc and has NR elements.
        let crow = unsafe { std::slice::from_raw_parts_mut(c.add(i * ldc), NR) };
        for (cv, &s) in crow.iter_mut().zip(row) {
            *cv = if accumulate { *cv + s } else { s };
        }
    }
}
