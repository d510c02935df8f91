//! x86-64 micro-kernels with AVX2+FMA and AVX-512F, chosen at run time with
//! `is_x86_feature_detected!`, so a baseline `cargo build --release` runs them.
//!
//! Each kernel keeps an `MR × NV` grid of vector accumulators in registers:
//! per step of k it loads `NV` vectors of the B strip, broadcasts each of the
//! `MR` values of the A strip, and issues `MR·NV` fused multiply-adds.

use std::arch::x86_64::*;

use super::GemmKernel;

/// The loop every x86 kernel runs, whole tile or edge (`x86_edge`): `MR ×
/// NV` vector accumulators, each the chain of fused multiply-adds over the
/// `kc` steps from zero, A's element `(i, p)` at `a[i*ars + p*acs]`, B's
/// row `p` at `b[p*ldb ..]`, `$unroll` steps of k an iteration (the rest
/// one at a time). One definition, so that an edge element is rounded
/// exactly like an inner one; unrolling never changes the order of a
/// chain. Evaluates to the accumulators; the caller's `unsafe` block
/// vouches for the reads.
macro_rules! fma_tile {
    ($mr:expr, $nv:expr, $lanes:expr, $unroll:expr, $zero:ident, $load:ident, $set1:ident, $fma:ident;
     $kc:ident, $a:ident, $ars:ident, $acs:ident, $b:ident, $ldb:ident) => {{
        let mut acc = [[$zero(); $nv]; $mr];
        let (mut ap, mut bp) = ($a, $b);
        let (acs, ldb): (usize, usize) = ($acs, $ldb);
        // One step of k, `u` steps past `ap`, `bp`.
        macro_rules! step {
            ($u:expr) => {
                let mut bv = [$zero(); $nv];
                for v in 0..$nv {
                    bv[v] = $load(bp.add($u * ldb + v * $lanes));
                }
                for i in 0..$mr {
                    let av = $set1(*ap.add(i * $ars + $u * acs));
                    for v in 0..$nv {
                        acc[i][v] = $fma(av, bv[v], acc[i][v]);
                    }
                }
            };
        }
        for _ in 0..$kc / $unroll {
            for u in 0..$unroll {
                step!(u);
            }
            ap = ap.add($unroll * acs);
            bp = bp.add($unroll * ldb);
        }
        #[allow(clippy::modulo_one)] // `$unroll` is 1 for the AVX-512 kernels
        for _ in 0..$kc % $unroll {
            step!(0);
            ap = ap.add(acs);
            bp = bp.add(ldb);
        }
        acc
    }};
}
pub(super) use fma_tile;

/// Defines one micro-kernel in two forms: `$name` reads A's element
/// `(i, p)` at `a[p*lda + i]` — a packed strip (`lda = MR`) or `MR`
/// columns of a column-major A in place (a transposed view, `dyᵀ`) —
/// and `$rows` at `a[i*lda + p]`, `MR` rows of a row-major A in place, so
/// most products need not pack A at all.
/// `$mr` rows × `$nv` vectors of `$lanes` lanes, `$unroll` steps of k an
/// iteration; `$feat` the target features.
///
/// The AVX2 kernels take two steps of k an iteration: one step is 12
/// multiply-adds against 8 loads and 6–8 integer instructions of address
/// and loop arithmetic, near a Zen 2's dispatch width, and two halve the
/// latter. Paired in one process on a Zen 2 (f32, 1 thread), two steps
/// ran 0–5% faster than one at 64³ … 512³ and on the MNIST layers'
/// products (+4% on `dyᵀ·x`, 256 × 784 × 128, and `dy·W`, 128 × 784 ×
/// 256), where four steps ran 3% slower than one on `dy·W`; f64, in
/// alternating whole processes, 0–7% faster at 64³ … 512³. The AVX-512
/// kernels (24 multiply-adds a step) keep one step, as measured on Zen 5
/// and Intel Xeons; no AVX-512 machine was at hand to try two.
macro_rules! simd_kernel {
    ($name:ident, $rows:ident, $t:ty, $feat:literal, $mr:literal, $nv:literal, $lanes:literal, $unroll:literal,
     $zero:ident, $load:ident, $store:ident, $set1:ident, $fma:ident, $add:ident) => {
        /// # Safety
        /// The CPU has the target features; `a + p*lda + i` is readable for
        /// `i < MR`, `p < kc`; `b + p*ldb + j` is readable for `j < NR`,
        /// `p < kc` (a packed strip has `ldb = NR`); `c` addresses an
        /// `MR × NR` tile with row stride `ldc`.
        #[target_feature(enable = $feat)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $name(kc: usize, a: *const $t, lda: usize, b: *const $t, ldb: usize, c: *mut $t, ldc: usize, accumulate: bool) {
            // SAFETY: the caller's contract, with A's element (i, p) at a + p*lda + i.
            unsafe { simd_kernel!(@body $t, $mr, $nv, $lanes, $unroll, $zero, $load, $store, $set1, $fma, $add;
                kc, a, 1, lda, b, ldb, c, ldc, accumulate) }
        }

        /// # Safety
        /// The CPU has the target features; `a + i*lda + p` is readable for
        /// `i < MR`, `p < kc`; `b + p*ldb + j` is readable for `j < NR`,
        /// `p < kc` (a packed strip has `ldb = NR`); `c` addresses an
        /// `MR × NR` tile with row stride `ldc`.
        #[target_feature(enable = $feat)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $rows(kc: usize, a: *const $t, lda: usize, b: *const $t, ldb: usize, c: *mut $t, ldc: usize, accumulate: bool) {
            // SAFETY: the caller's contract, with A's element (i, p) at a + i*lda + p.
            unsafe { simd_kernel!(@body $t, $mr, $nv, $lanes, $unroll, $zero, $load, $store, $set1, $fma, $add;
                kc, a, lda, 1, b, ldb, c, ldc, accumulate) }
        }
    };
    (@body $t:ty, $mr:literal, $nv:literal, $lanes:literal, $unroll:literal,
     $zero:ident, $load:ident, $store:ident, $set1:ident, $fma:ident, $add:ident;
     $kc:ident, $a:ident, $ars:expr, $acs:expr, $b:ident, $ldb:ident, $c:ident, $ldc:ident, $accumulate:ident) => {{
        const MR: usize = $mr;
        const NV: usize = $nv;
        const L: usize = $lanes;
        let (kc, a, b, ldb, c, ldc, accumulate) = ($kc, $a, $b, $ldb, $c, $ldc, $accumulate);
        let (ars, acs): (usize, usize) = ($ars, $acs);
        // Every pointer offset stays within the lengths the caller
        // guarantees: a[i*ars + p*acs] for p < kc, i < MR; b[p*ldb + v*L ..
        // +L] for v < NV; c[i*ldc + v*L .. +L] for i < MR.
        // Fetch the C tile now so the read-modify-write at the end does
        // not wait on it (its rows are ldc apart and often alias in L1).
        if accumulate {
            for i in 0..MR {
                for v in 0..NV {
                    _mm_prefetch::<_MM_HINT_T0>(c.add(i * ldc + v * L) as *const i8);
                }
            }
        }
        let acc = fma_tile!(MR, NV, L, $unroll, $zero, $load, $set1, $fma; kc, a, ars, acs, b, ldb);
        for i in 0..MR {
            for v in 0..NV {
                let cp = c.add(i * ldc + v * L);
                let r = if accumulate { $add($load(cp), acc[i][v]) } else { acc[i][v] };
                $store(cp, r);
            }
        }
    }};
}

simd_kernel!(
    f32_avx2,
    f32_avx2_rows,
    f32,
    "avx2,fma",
    6,
    2,
    8,
    2,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    _mm256_add_ps
);
simd_kernel!(
    f32_avx512,
    f32_avx512_rows,
    f32,
    "avx512f",
    12,
    2,
    16,
    1,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_add_ps
);
simd_kernel!(
    f64_avx2,
    f64_avx2_rows,
    f64,
    "avx2,fma",
    6,
    2,
    4,
    2,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_set1_pd,
    _mm256_fmadd_pd,
    _mm256_add_pd
);
simd_kernel!(
    f64_avx512,
    f64_avx512_rows,
    f64,
    "avx512f",
    12,
    2,
    8,
    1,
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    _mm512_storeu_pd,
    _mm512_set1_pd,
    _mm512_fmadd_pd,
    _mm512_add_pd
);

/// The f32 kernels' slice of k: the same for both, so that AVX2 and AVX-512
/// round every product alike (each slice's sum is added to C in turn).
/// Slices of 512 (balanced, see `blocked`) against 128, paired in one
/// process on Zen 5: AVX-512 1 thread +3–10% at n = 256 … 2,048, 2 threads
/// +5–11%; AVX2 +2–7% and +5–6%; the MNIST step's products 1.5% (1 thread)
/// and 4.6% (2 threads) faster. Fewer slices mean fewer passes over C,
/// and the B strip (512 × NR) need not stay in L1: each step of k loads NR
/// values of it against MR broadcasts and MR·NR/L fused multiply-adds.
const F32_KC: usize = 512;

/// The f32 kernels this CPU supports, worst first.
pub(super) fn f32_kernels() -> Vec<GemmKernel<f32>> {
    let mut ks = Vec::new();
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        ks.push(GemmKernel {
            name: "avx2+fma",
            mr: 6,
            nr: 16,
            kc: F32_KC,
            nc: super::panel_columns(F32_KC, 4, 16),
            group_wide: true,
            run: f32_avx2,
            run_rows: f32_avx2_rows,
            edge: Some(super::x86_edge::f32_avx2_edge),
        });
    }
    if is_x86_feature_detected!("avx512f") {
        ks.push(GemmKernel {
            name: "avx512f",
            mr: 12,
            nr: 32,
            kc: F32_KC,
            nc: super::panel_columns(F32_KC, 4, 32),
            group_wide: false,
            run: f32_avx512,
            run_rows: f32_avx512_rows,
            edge: Some(super::x86_edge::f32_avx512_edge),
        });
    }
    ks
}

/// The f64 kernels this CPU supports, worst first.
pub(super) fn f64_kernels() -> Vec<GemmKernel<f64>> {
    let mut ks = Vec::new();
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        ks.push(GemmKernel {
            name: "avx2+fma",
            mr: 6,
            nr: 8,
            kc: 128,
            nc: 256,
            group_wide: false,
            run: f64_avx2,
            run_rows: f64_avx2_rows,
            edge: Some(super::x86_edge::f64_avx2_edge),
        });
    }
    if is_x86_feature_detected!("avx512f") {
        ks.push(GemmKernel {
            name: "avx512f",
            mr: 12,
            nr: 16,
            kc: 128,
            nc: 256,
            group_wide: false,
            run: f64_avx512,
            run_rows: f64_avx512_rows,
            edge: Some(super::x86_edge::f64_avx512_edge),
        });
    }
    ks
}
