//! The portable micro-kernel: plain Rust that LLVM vectorises for the target's
//! baseline (SSE2 on x86-64). Used for CPUs without AVX2 and as the reference
//! the SIMD kernels are tested against.

use super::GemmKernel;
use crate::float::Float;

/// f32: a 4 × 8 tile (eight SSE registers of accumulators).
pub(super) const F32: GemmKernel<f32> = kernel::<f32, 4, 8>(512);

/// f64: a 4 × 4 tile.
pub(super) const F64: GemmKernel<f64> = kernel::<f64, 4, 4>(256);

/// The portable kernel for an `MR × NR` tile and `nc` columns per B panel.
const fn kernel<T: Float, const MR: usize, const NR: usize>(nc: usize) -> GemmKernel<T> {
    GemmKernel {
        name: "portable",
        mr: MR,
        nr: NR,
        kc: 256,
        nc,
        group_wide: false,
        run: run::<T, MR, NR>,
        run_rows: run_rows::<T, MR, NR>,
        edge: None,
    }
}

/// # Safety
/// `a + p*lda + i` is readable for `i < MR`, `p < kc`; `b + p*ldb + j` for
/// `j < NR`, `p < kc`; `c` addresses an `MR × NR` tile with row stride `ldc`.
#[allow(clippy::too_many_arguments)]
unsafe fn run<T: Float, const MR: usize, const NR: usize>(
    kc: usize,
    a: *const T,
    lda: usize,
    b: *const T,
    ldb: usize,
    c: *mut T,
    ldc: usize,
    accumulate: bool,
) {
    // SAFETY: the caller's contract: A's element (i, p) at a + p*lda + i.
    unsafe { strided::<T, MR, NR>(kc, a, 1, lda, b, ldb, c, ldc, accumulate) }
}

/// # Safety
/// `a + i*lda + p` is readable for `i < MR`, `p < kc`; `b + p*ldb + j` for
/// `j < NR`, `p < kc`; `c` addresses an `MR × NR` tile with row stride `ldc`.
#[allow(clippy::too_many_arguments)]
unsafe fn run_rows<T: Float, const MR: usize, const NR: usize>(
    kc: usize,
    a: *const T,
    lda: usize,
    b: *const T,
    ldb: usize,
    c: *mut T,
    ldc: usize,
    accumulate: bool,
) {
    // SAFETY: the caller's contract: A's element (i, p) at a + i*lda + p.
    unsafe { strided::<T, MR, NR>(kc, a, lda, 1, b, ldb, c, ldc, accumulate) }
}

/// # Safety
/// `a + i*ars + p*acs` is readable for `i < MR`, `p < kc`; `b + p*ldb + j`
/// for `j < NR`, `p < kc`; `c` addresses an `MR × NR` tile with row stride
/// `ldc`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn strided<T: Float, const MR: usize, const NR: usize>(
    kc: usize,
    a: *const T,
    ars: usize,
    acs: usize,
    b: *const T,
    ldb: usize,
    c: *mut T,
    ldc: usize,
    accumulate: bool,
) {
    let mut acc = [[T::zero(); NR]; MR];
    for p in 0..kc {
        // SAFETY: the caller guarantees NR values at b + p*ldb for p < kc.
        let bp = unsafe { std::slice::from_raw_parts(b.add(p * ldb), NR) };
        // SAFETY: i < MR and p < kc, inside the caller's bounds.
        let ap: [T; MR] = std::array::from_fn(|i| unsafe { *a.add(i * ars + p * acs) });
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
