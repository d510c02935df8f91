//! Edge tiles on x86-64: the `mrows × ncols` tiles at the bottom and right
//! edges of C (`mrows ≤ MR`, `ncols ≤ NR`), computed straight into C with
//! masked loads and stores, where the generic path runs the full kernel
//! into a scratch tile and copies the valid part out.
//!
//! The MNIST layers' batch of 128 rows ends in an 8-row strip (10 × 12 + 8)
//! and a 784-wide weight gradient in a 16-column strip (24 × 32 + 16): a full
//! 12 × 32 kernel on them does a third to two thirds more work than the
//! tile needs, and the scratch copy costs as much again. Here a strip runs
//! the narrowest kernel that covers it: 4, 8 or 12 rows (AVX-512; 2, 4 or 6
//! on AVX2) and one or two vectors of columns. Every element is the same
//! chain of fused multiply-adds over `k`, from zero, added to C at the end,
//! as in the full kernel (both run `fma_tile!`), so an edge element is
//! rounded exactly like an inner one.

use std::arch::x86_64::*;

use super::x86::fma_tile;

/// Defines `$name`, the edge kernel of one instruction set and float type,
/// with the signature of [`super::EdgeKernel`], and `$body`, the kernel it
/// dispatches to. `$steps` are the row counts it compiles, ascending, the
/// last the full kernel's `MR`: a tile runs the first that covers its rows.
macro_rules! edge_kernel {
    ($name:ident, $body:ident, $t:ty, $feat:literal, $lanes:literal, $unroll:literal, $mask:ty, [$($steps:literal),+],
     $zero:ident, $loadu:ident, $set1:ident, $fma:ident, $add:ident,
     $mask_of:ident, $load_masked:ident, $store_masked:ident) => {
        /// # Safety
        /// The CPU has the target features; `a + i*lda + p` (when `rows`) or
        /// `a + p*lda + i` (otherwise) is readable for `p < kc` and `i`
        /// below `mrows` rounded up to the next kernel row count (a packed
        /// strip's zero-padded rows, so `mrows` is the full row count when
        /// A is read in place by rows); `b + p*ldb + j` is readable for `p <
        /// kc` and `j` below `ncols` rounded up to whole vectors; `c`
        /// addresses an `mrows × ncols` tile with row stride `ldc`.
        #[target_feature(enable = $feat)]
        #[allow(clippy::too_many_arguments)]
        pub(super) unsafe fn $name(
            mrows: usize,
            ncols: usize,
            kc: usize,
            a: *const $t,
            lda: usize,
            rows: bool,
            b: *const $t,
            ldb: usize,
            c: *mut $t,
            ldc: usize,
            accumulate: bool,
        ) {
            let nv = ncols.div_ceil($lanes);
            let last: $mask = $mask_of(ncols - (nv - 1) * $lanes);
            // SAFETY (every arm): the caller's contract, for the rows this
            // arm's kernel reads (mrows rounded up to its row count).
            unsafe {
                $(
                    if mrows <= $steps {
                        return match (nv, rows) {
                            (1, false) => $body::<$steps, 1, false>(mrows, kc, a, lda, b, ldb, c, ldc, accumulate, last),
                            (1, true) => $body::<$steps, 1, true>(mrows, kc, a, lda, b, ldb, c, ldc, accumulate, last),
                            (_, false) => $body::<$steps, 2, false>(mrows, kc, a, lda, b, ldb, c, ldc, accumulate, last),
                            (_, true) => $body::<$steps, 2, true>(mrows, kc, a, lda, b, ldb, c, ldc, accumulate, last),
                        };
                    }
                )+
            }
            unreachable!("an edge tile has at most MR rows");
        }

        /// `MR` rows by `NV` vectors, the last masked by `last`; the first
        /// `mrows` rows are written. A's element `(i, p)` is at
        /// `a[i*lda + p]` when `ROWS`, else at `a[p*lda + i]`.
        ///
        /// # Safety
        /// As for the dispatching function, with `MR` rows readable.
        #[target_feature(enable = $feat)]
        #[allow(clippy::too_many_arguments)]
        #[inline]
        unsafe fn $body<const MR: usize, const NV: usize, const ROWS: bool>(
            mrows: usize,
            kc: usize,
            a: *const $t,
            lda: usize,
            b: *const $t,
            ldb: usize,
            c: *mut $t,
            ldc: usize,
            accumulate: bool,
            last: $mask,
        ) {
            const L: usize = $lanes;
            let (ars, acs) = if ROWS { (lda, 1) } else { (1, lda) };
            // SAFETY: every offset stays inside what the caller guarantees:
            // a[i*ars + p*acs] for i < MR, p < kc; b[p*ldb + v*L .. +L] for
            // v < NV; c[i*ldc + v*L ..] for i < mrows, through the mask on
            // the last vector.
            unsafe {
                let acc = fma_tile!(MR, NV, L, $unroll, $zero, $loadu, $set1, $fma; kc, a, ars, acs, b, ldb);
                let full: $mask = $mask_of(L);
                for (i, acc) in acc.iter().enumerate().take(mrows) {
                    for (v, &acc) in acc.iter().enumerate() {
                        let mask = if v + 1 == NV { last } else { full };
                        let cp = c.add(i * ldc + v * L);
                        let r = if accumulate { $add($load_masked(cp, mask), acc) } else { acc };
                        $store_masked(cp, mask, r);
                    }
                }
            }
        }
    };
}

/// The masks and masked moves each instruction set's edge kernel uses:
/// `$mask_of(n)` selects the first `n` lanes of a vector.
macro_rules! masked_moves {
    ($feat:literal, $t:ty, $v:ty, $mask:ty, $mask_of:ident, $load:ident, $store:ident,
     |$n:ident| $make:expr, |$lp:ident, $lm:ident| $ld:expr, |$sp:ident, $sm:ident, $sv:ident| $st:expr) => {
        #[target_feature(enable = $feat)]
        #[inline]
        fn $mask_of($n: usize) -> $mask {
            $make
        }
        /// # Safety
        /// The lanes `$lm` selects are readable at `$lp`.
        #[target_feature(enable = $feat)]
        #[inline]
        unsafe fn $load($lp: *const $t, $lm: $mask) -> $v {
            // SAFETY: the caller's contract.
            unsafe { $ld }
        }
        /// # Safety
        /// The lanes `$sm` selects are writable at `$sp`.
        #[target_feature(enable = $feat)]
        #[inline]
        unsafe fn $store($sp: *mut $t, $sm: $mask, $sv: $v) {
            // SAFETY: the caller's contract.
            unsafe { $st }
        }
    };
}

/// The sign bits that select the first `n` of 8 (`f32`) or 4 (`f64`) AVX2
/// lanes: a window of eight `i32` starting `8 - n` values in (`8 - 2n` for
/// `f64`, whose lanes are two `i32` each).
const LANE_SIGNS: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

masked_moves!(
    "avx512f",
    f32,
    __m512,
    __mmask16,
    mask16,
    load16,
    store16,
    |n| ((1u32 << n) - 1) as __mmask16,
    |p, m| _mm512_maskz_loadu_ps(m, p),
    |p, m, v| _mm512_mask_storeu_ps(p, m, v)
);
masked_moves!(
    "avx512f",
    f64,
    __m512d,
    __mmask8,
    mask8,
    load8,
    store8,
    |n| ((1u32 << n) - 1) as __mmask8,
    |p, m| _mm512_maskz_loadu_pd(m, p),
    |p, m, v| _mm512_mask_storeu_pd(p, m, v)
);
// SAFETY (both masks below): n ≤ 8 lanes of f32 (4 of f64, two i32 each),
// so the eight i32 from 8 - n (8 - 2n) are inside LANE_SIGNS.
masked_moves!(
    "avx2,fma",
    f32,
    __m256,
    __m256i,
    mask_ps,
    load_ps,
    store_ps,
    |n| unsafe { _mm256_loadu_si256(LANE_SIGNS.as_ptr().add(8 - n).cast()) },
    |p, m| _mm256_maskload_ps(p, m),
    |p, m, v| _mm256_maskstore_ps(p, m, v)
);
masked_moves!(
    "avx2,fma",
    f64,
    __m256d,
    __m256i,
    mask_pd,
    load_pd,
    store_pd,
    |n| unsafe { _mm256_loadu_si256(LANE_SIGNS.as_ptr().add(8 - 2 * n).cast()) },
    |p, m| _mm256_maskload_pd(p, m),
    |p, m, v| _mm256_maskstore_pd(p, m, v)
);

edge_kernel!(
    f32_avx512_edge,
    f32_avx512_edge_body,
    f32,
    "avx512f",
    16,
    1,
    __mmask16,
    [4, 8, 12],
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_add_ps,
    mask16,
    load16,
    store16
);
edge_kernel!(
    f64_avx512_edge,
    f64_avx512_edge_body,
    f64,
    "avx512f",
    8,
    1,
    __mmask8,
    [4, 8, 12],
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    _mm512_set1_pd,
    _mm512_fmadd_pd,
    _mm512_add_pd,
    mask8,
    load8,
    store8
);
edge_kernel!(
    f32_avx2_edge,
    f32_avx2_edge_body,
    f32,
    "avx2,fma",
    8,
    2,
    __m256i,
    [2, 4, 6],
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    mask_ps,
    load_ps,
    store_ps
);
edge_kernel!(
    f64_avx2_edge,
    f64_avx2_edge_body,
    f64,
    "avx2,fma",
    4,
    2,
    __m256i,
    [2, 4, 6],
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_set1_pd,
    _mm256_fmadd_pd,
    _mm256_add_pd,
    mask_pd,
    load_pd,
    store_pd
);
