//! One-row products' dot products (see [`super::gemv`]) with explicit
//! AVX-512F and AVX2 vectors.
//!
//! The portable loops in `gemv` are written so that LLVM can vectorise
//! them, and in Strata's own release profile (fat LTO) it does; but a
//! program that depends on Strata builds it with its own profile, and with
//! Cargo's default one (no LTO, 16 codegen units) the sixteen running sums
//! stayed in memory, one scalar at a time: batch-1 inference of the MNIST
//! network took 102–108 µs in such a program, against 8.5–10 µs with these
//! kernels (Zen 5, 1 thread). Intrinsics do not depend on what the
//! optimiser decides.
//!
//! Each dot product is summed exactly as `gemv::dot` sums it: sixteen
//! lanes, lane `l` adding `x[p]·w[p]` for `p ≡ l (mod 16)` with the product
//! rounded before the sum (no fused multiply-add), then the lanes added
//! pairwise (`l + 8`, `l + 4`, `l + 2`, `l + 1`), then the tail of fewer
//! than sixteen values in order. So the bits are the portable loops',
//! whichever of the three runs.

use std::arch::x86_64::*;

use super::gemv::tail_dot;

/// Defines the safe entry for one type: `$avx512` or `$avx2` as the
/// matmul kernel `kernel` names, if the CPU has its features.
macro_rules! dot_rows {
    ($(#[$doc:meta])* $name:ident, $t:ty, $avx512:ident, $avx2:ident) => {
        $(#[$doc])*
        pub(crate) fn $name(kernel: &str, x: &[$t], w: &[$t], stride: usize, out: &mut [$t], acc: bool) -> bool {
            check(x.len(), w.len(), stride, out.len());
            match kernel {
                "avx512f" if is_x86_feature_detected!("avx512f") => {
                    // SAFETY: the CPU has AVX-512F (checked in the guard);
                    // `check` asserted that every row read lies inside `w`.
                    unsafe { $avx512(x, w, stride, out, acc) };
                }
                "avx2+fma" if is_x86_feature_detected!("avx2") => {
                    // SAFETY: as above, with AVX2.
                    unsafe { $avx2(x, w, stride, out, acc) };
                }
                _ => return false,
            }
            true
        }
    };
}

dot_rows!(
    /// `out[j] ← [out[j] +] x · w[j·stride ..][..x.len()]` with the vectors
    /// of the matmul kernel named `kernel` (`"avx512f"` or `"avx2+fma"`, as
    /// `STRATA_GEMM_KERNEL` may force); false, with nothing written, for any
    /// other kernel (the portable loops then run).
    dot_rows_f32, f32, dots_f32_avx512, dots_f32_avx2
);
dot_rows!(
    /// [`dot_rows_f32`] for f64.
    dot_rows_f64, f64, dots_f64_avx512, dots_f64_avx2
);

/// Row `n - 1` (the last) ends inside `w`.
fn check(k: usize, len: usize, stride: usize, n: usize) {
    assert!(n == 0 || (n - 1) * stride + k <= len, "gemv: {n} rows of {k} values {stride} apart in {len} values");
}

/// Defines one kernel: `$r` rows at a time, each summed in `$v` vectors of
/// `$lanes` lanes (16 lanes in all), `$finish` adding a row's vectors
/// pairwise down to one value.
macro_rules! dots {
    ($name:ident, $t:ty, $feat:literal, $v:literal, $lanes:literal, $r:literal,
     $zero:ident, $load:ident, $add:ident, $mul:ident, $finish:ident) => {
        /// # Safety
        /// The CPU has the target features; `w` holds every row
        /// (`(out.len() - 1) * stride + x.len()` values).
        #[target_feature(enable = $feat)]
        unsafe fn $name(x: &[$t], w: &[$t], stride: usize, out: &mut [$t], acc: bool) {
            let (k, n) = (x.len(), out.len());
            let body = k / 16 * 16;
            let (xp, wp) = (x.as_ptr(), w.as_ptr());
            let mut j = 0;
            // SAFETY (both groups): the vector loads read x[p + q·L ..][..L]
            // and w[(j + r)·stride + p + q·L ..][..L] with p + 16 ≤ body ≤ k
            // and j + r < n, inside the lengths the caller guarantees.
            while j + $r <= n {
                unsafe { dots!(@group $r, $v, $lanes, $zero, $load, $add, $mul, $finish; x, w, xp, wp, stride, out, acc, j, k, body) };
                j += $r;
            }
            while j < n {
                unsafe { dots!(@group 1, $v, $lanes, $zero, $load, $add, $mul, $finish; x, w, xp, wp, stride, out, acc, j, k, body) };
                j += 1;
            }
        }
    };
    (@group $r:literal, $v:literal, $lanes:literal, $zero:ident, $load:ident, $add:ident, $mul:ident, $finish:ident;
     $x:ident, $w:ident, $xp:ident, $wp:ident, $stride:ident, $out:ident, $acc:ident, $j:ident, $k:ident, $body:ident) => {{
        let mut sums = [[$zero(); $v]; $r];
        let mut p = 0;
        while p < $body {
            for q in 0..$v {
                let xv = $load($xp.add(p + q * $lanes));
                for (r, s) in sums.iter_mut().enumerate() {
                    let wv = $load($wp.add(($j + r) * $stride + p + q * $lanes));
                    s[q] = $add(s[q], $mul(xv, wv));
                }
            }
            p += 16;
        }
        for (r, s) in sums.iter().enumerate() {
            let row = &$w[($j + r) * $stride..][..$k];
            let d = $finish(*s) + tail_dot(&$x[$body..], &row[$body..]);
            let o = &mut $out[$j + r];
            *o = if $acc { *o + d } else { d };
        }
    }};
}

dots!(
    dots_f32_avx512,
    f32,
    "avx512f",
    1,
    16,
    8,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_add_ps,
    _mm512_mul_ps,
    finish_f32_avx512
);
dots!(
    dots_f32_avx2,
    f32,
    "avx2",
    2,
    8,
    4,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_add_ps,
    _mm256_mul_ps,
    finish_f32_avx2
);
dots!(
    dots_f64_avx512,
    f64,
    "avx512f",
    2,
    8,
    4,
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    _mm512_add_pd,
    _mm512_mul_pd,
    finish_f64_avx512
);
dots!(
    dots_f64_avx2,
    f64,
    "avx2",
    4,
    4,
    2,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_add_pd,
    _mm256_mul_pd,
    finish_f64_avx2
);

/// Lanes 0–3 of eight f32 lanes (as `l + 4`, `l + 2`, `l + 1`) to one value.
#[inline]
#[target_feature(enable = "avx2")]
fn finish_f32_8(v: __m256) -> f32 {
    let h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps::<1>(h, h)))
}

#[inline]
#[target_feature(enable = "avx512f")]
fn finish_f32_avx512(s: [__m512; 1]) -> f32 {
    let v = s[0];
    let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)));
    finish_f32_8(_mm256_add_ps(_mm512_castps512_ps256(v), hi))
}

#[inline]
#[target_feature(enable = "avx2")]
fn finish_f32_avx2(s: [__m256; 2]) -> f32 {
    finish_f32_8(_mm256_add_ps(s[0], s[1]))
}

/// Four f64 lanes (as `l + 2`, `l + 1`) to one value.
#[inline]
#[target_feature(enable = "avx2")]
fn finish_f64_4(v: __m256d) -> f64 {
    let h = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
    _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)))
}

#[inline]
#[target_feature(enable = "avx512f")]
fn finish_f64_avx512(s: [__m512d; 2]) -> f64 {
    let v = _mm512_add_pd(s[0], s[1]);
    finish_f64_4(_mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd::<1>(v)))
}

#[inline]
#[target_feature(enable = "avx2")]
fn finish_f64_avx2(s: [__m256d; 4]) -> f64 {
    finish_f64_4(_mm256_add_pd(_mm256_add_pd(s[0], s[2]), _mm256_add_pd(s[1], s[3])))
}
