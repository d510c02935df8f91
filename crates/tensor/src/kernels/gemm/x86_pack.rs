//! Packing's transpose with AVX2 shuffles, for f32: row-major A strips and
//! transposed-B (`x·Wᵀ`) strips are an interleave of contiguous runs, and
//! done one value at a time it cost as much as a fifth of a 64³ product
//! (12 scalar stores per 12 values of a column). Here eight values of
//! eight runs are loaded as eight vectors, transposed in registers, and
//! stored as eight vectors: one store per column instead of one per value.
//! It only moves values, so the packed strip is bit-identical to the
//! scalar one's.

use std::arch::x86_64::*;

/// `dst[p*w + i] = runs[i][p]` for `i < runs.len() ≤ w`, `p < kc`, with AVX2
/// when this CPU has it; false (nothing written) when it does not.
pub(crate) fn interleave_f32(dst: &mut [f32], w: usize, kc: usize, runs: &[&[f32]]) -> bool {
    if !is_x86_feature_detected!("avx2") {
        return false;
    }
    assert!(runs.len() <= w && dst.len() >= kc * w, "interleave: strip too small");
    assert!(runs.iter().all(|r| r.len() >= kc), "interleave: run shorter than kc");
    // SAFETY: the CPU has AVX2 (checked above); every run holds `kc` values
    // and `dst` holds `kc * w` (asserted), which bounds every access below.
    unsafe { interleave_avx2(dst.as_mut_ptr(), w, kc, runs) };
    true
}

/// # Safety
/// AVX2 is available; `dst` addresses `kc * w` values; every run holds `kc`.
#[target_feature(enable = "avx2")]
unsafe fn interleave_avx2(dst: *mut f32, w: usize, kc: usize, runs: &[&[f32]]) {
    let used = runs.len();
    let full = kc / 8 * 8;
    // SAFETY (whole body): reads are runs[i][p] for p < kc; writes are
    // dst[p*w + i] for p < kc, i < used ≤ w: inside the stated lengths.
    unsafe {
        for p0 in (0..full).step_by(8) {
            let out = dst.add(p0 * w);
            let mut i0 = 0;
            while i0 + 8 <= used {
                let r: [*const f32; 8] = std::array::from_fn(|i| runs[i0 + i].as_ptr().add(p0));
                transpose8(r, out.add(i0), w);
                i0 += 8;
            }
            if i0 + 4 <= used {
                let r: [*const f32; 4] = std::array::from_fn(|i| runs[i0 + i].as_ptr().add(p0));
                transpose4(r, out.add(i0), w);
                i0 += 4;
            }
            for (i, run) in runs.iter().enumerate().skip(i0) {
                for q in 0..8 {
                    *out.add(q * w + i) = *run.as_ptr().add(p0 + q);
                }
            }
        }
        for p in full..kc {
            for (i, run) in runs.iter().enumerate() {
                *dst.add(p * w + i) = *run.as_ptr().add(p);
            }
        }
    }
}

/// Eight values of eight runs → eight columns of eight, at `out + q*w`.
///
/// # Safety
/// AVX2; each `r[i]` addresses 8 values; `out + q*w` addresses 8 for q < 8.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn transpose8(r: [*const f32; 8], out: *mut f32, w: usize) {
    // SAFETY: the caller's contract bounds every load and store.
    unsafe {
        let v: [__m256; 8] = std::array::from_fn(|i| _mm256_loadu_ps(r[i]));
        // Pairs of runs interleaved, then quads, then the 128-bit halves.
        let t0 = _mm256_unpacklo_ps(v[0], v[1]);
        let t1 = _mm256_unpackhi_ps(v[0], v[1]);
        let t2 = _mm256_unpacklo_ps(v[2], v[3]);
        let t3 = _mm256_unpackhi_ps(v[2], v[3]);
        let t4 = _mm256_unpacklo_ps(v[4], v[5]);
        let t5 = _mm256_unpackhi_ps(v[4], v[5]);
        let t6 = _mm256_unpacklo_ps(v[6], v[7]);
        let t7 = _mm256_unpackhi_ps(v[6], v[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        let cols = [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ];
        for (q, c) in cols.into_iter().enumerate() {
            _mm256_storeu_ps(out.add(q * w), c);
        }
    }
}

/// Eight values of four runs → eight columns of four, at `out + q*w`.
///
/// # Safety
/// AVX2; each `r[i]` addresses 8 values; `out + q*w` addresses 4 for q < 8.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn transpose4(r: [*const f32; 4], out: *mut f32, w: usize) {
    // SAFETY: the caller's contract bounds every load and store.
    unsafe {
        let v: [__m256; 4] = std::array::from_fn(|i| _mm256_loadu_ps(r[i]));
        let t0 = _mm256_unpacklo_ps(v[0], v[1]);
        let t1 = _mm256_unpackhi_ps(v[0], v[1]);
        let t2 = _mm256_unpacklo_ps(v[2], v[3]);
        let t3 = _mm256_unpackhi_ps(v[2], v[3]);
        // Column q in the low half, column q + 4 in the high half.
        let u = [
            _mm256_shuffle_ps::<0x44>(t0, t2),
            _mm256_shuffle_ps::<0xEE>(t0, t2),
            _mm256_shuffle_ps::<0x44>(t1, t3),
            _mm256_shuffle_ps::<0xEE>(t1, t3),
        ];
        for (q, c) in u.into_iter().enumerate() {
            _mm_storeu_ps(out.add(q * w), _mm256_castps256_ps128(c));
            _mm_storeu_ps(out.add((q + 4) * w), _mm256_extractf128_ps::<1>(c));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::interleave_f32;

    #[test]
    fn simd_interleave_matches_the_definition_for_every_width_and_tail() {
        for (w, used) in [(6, 6), (6, 4), (12, 12), (12, 4), (12, 7), (16, 16), (32, 32), (32, 10), (3, 3)] {
            for kc in [1, 7, 8, 9, 16, 61, 128] {
                let runs: Vec<Vec<f32>> =
                    (0..used).map(|i| (0..kc + 3).map(|p| (i * 1000 + p) as f32).collect()).collect();
                let views: Vec<&[f32]> = runs.iter().map(Vec::as_slice).collect();
                let mut dst = vec![-1.0f32; kc * w];
                if !interleave_f32(&mut dst, w, kc, &views) {
                    return; // no AVX2 here: the scalar loop runs, and is tested through gemm
                }
                for p in 0..kc {
                    for i in 0..w {
                        let want = if i < used { runs[i][p] } else { -1.0 };
                        assert_eq!(dst[p * w + i], want, "w={w} used={used} kc={kc} p={p} i={i}");
                    }
                }
            }
        }
    }
}
