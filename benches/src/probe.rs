//! What this core can do at best, measured here, so the speed targets that
//! are fractions of the hardware ("90% of the FMA peak", "bound by reading
//! the weights") are judged against this machine and not a data sheet:
//!
//! - [`fma_peak`]: f32 GFLOP/s of one core issuing nothing but fused
//!   multiply-adds, twelve independent chains (more than an FMA's latency
//!   times the units that run them, on every x86 core we measure), in
//!   AVX-512 and AVX2 vectors. Zen 4 runs a 512-bit FMA as two 256-bit
//!   halves, so both give the same figure there; Zen 5 and Intel's server
//!   cores double it with AVX-512.
//! - [`read_rate`]: GB/s of one core summing a buffer it reads again and
//!   again: a buffer that fits the L2 measures the L2's streaming rate,
//!   one past it the L3's. Batch-1 inference reads every weight once a
//!   call, so its time is at least the weights' bytes over this rate.
//!
//! Printed by `matmul_peer peak` and `matmul_peer stream`.

use std::time::Instant;

/// Independent accumulator chains in [`fma_peak`]'s loop.
const CHAINS: usize = 12;

/// The best of three runs of `f` (seconds it took, from a fresh start).
fn best_of_three(mut f: impl FnMut() -> f64) -> f64 {
    (0..3).map(|_| f()).fold(f64::INFINITY, f64::min)
}

/// This core's f32 fused-multiply-add peak, in GFLOP/s, as `(AVX-512,
/// AVX2)`; `None` for an instruction set the CPU lacks (or off x86-64).
#[must_use]
pub fn fma_peak() -> (Option<f64>, Option<f64>) {
    #[cfg(target_arch = "x86_64")]
    {
        let iters = 20_000_000;
        let rate = |lanes: usize, run: &dyn Fn(usize) -> f32| {
            let secs = best_of_three(|| {
                let start = Instant::now();
                std::hint::black_box(run(iters));
                start.elapsed().as_secs_f64()
            });
            (iters * CHAINS * lanes * 2) as f64 / secs / 1e9
        };
        let avx512 = is_x86_feature_detected!("avx512f").then(|| {
            // SAFETY: the CPU has AVX-512F (checked on this line).
            rate(16, &|n| unsafe { x86::fma_chains_avx512(n) })
        });
        let avx2 = (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")).then(|| {
            // SAFETY: the CPU has AVX2 and FMA (checked on this line).
            rate(8, &|n| unsafe { x86::fma_chains_avx2(n) })
        });
        (avx512, avx2)
    }
    #[cfg(not(target_arch = "x86_64"))]
    (None, None)
}

/// GB/s at which one core reads a buffer of `bytes` (rounded down to whole
/// 64-byte lines, at least eight) that it has just read, summing it in
/// eight independent vector chains (AVX-512, else AVX2, else plain
/// loops): the streaming rate of the cache level the buffer fits.
#[must_use]
pub fn read_rate(bytes: usize) -> f64 {
    let values = (bytes / 512).max(1) * 128;
    let data = vec![1.0f32; values];
    let reps = (400_000_000 / (values * 4)).max(5);
    let sum_of = read_loop();
    let sum = || sum_of(&data);
    std::hint::black_box(sum());
    let secs = best_of_three(|| {
        let start = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(sum());
        }
        start.elapsed().as_secs_f64() / reps as f64
    });
    (values * 4) as f64 / secs / 1e9
}

/// The read loop [`read_rate`] times, chosen once for this CPU.
fn read_loop() -> fn(&[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx512f") {
        // SAFETY: chosen only where the CPU has AVX-512F (checked above).
        return |data| unsafe { x86::sum_avx512(data) };
    } else if is_x86_feature_detected!("avx2") {
        // SAFETY: chosen only where the CPU has AVX2 (checked above).
        return |data| unsafe { x86::sum_avx2(data) };
    }
    |data| {
        data.chunks_exact(8)
            .fold([0.0f32; 8], |mut acc, v| {
                acc.iter_mut().zip(v).for_each(|(a, &x)| *a += x);
                acc
            })
            .iter()
            .sum()
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::CHAINS;

    /// The sum of every lane of `vs`.
    #[target_feature(enable = "avx512f")]
    fn total_avx512(vs: impl IntoIterator<Item = __m512>) -> f32 {
        _mm512_reduce_add_ps(vs.into_iter().fold(_mm512_setzero_ps(), |s, x| _mm512_add_ps(s, x)))
    }

    /// The sum of every lane of `vs`.
    #[target_feature(enable = "avx")]
    fn total_avx2(vs: impl IntoIterator<Item = __m256>) -> f32 {
        let mut lanes = [0.0f32; 8];
        // SAFETY: `lanes` holds the 8 f32 an unaligned 256-bit store writes.
        unsafe {
            _mm256_storeu_ps(lanes.as_mut_ptr(), vs.into_iter().fold(_mm256_setzero_ps(), |s, x| _mm256_add_ps(s, x)))
        };
        lanes.iter().sum()
    }

    /// `n` rounds of one fused multiply-add on each of [`CHAINS`] vectors.
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn fma_chains_avx512(n: usize) -> f32 {
        let (m, a) = (_mm512_set1_ps(1.000_000_1), _mm512_set1_ps(1e-7));
        let mut r = [_mm512_set1_ps(1.0); CHAINS];
        for _ in 0..n {
            for x in &mut r {
                *x = _mm512_fmadd_ps(*x, m, a);
            }
        }
        total_avx512(r)
    }

    /// [`fma_chains_avx512`] in 256-bit vectors.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn fma_chains_avx2(n: usize) -> f32 {
        let (m, a) = (_mm256_set1_ps(1.000_000_1), _mm256_set1_ps(1e-7));
        let mut r = [_mm256_set1_ps(1.0); CHAINS];
        for _ in 0..n {
            for x in &mut r {
                *x = _mm256_fmadd_ps(*x, m, a);
            }
        }
        total_avx2(r)
    }

    /// The sum of `data` (a whole number of 128-value blocks) in eight
    /// 512-bit chains, one line each per block.
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn sum_avx512(data: &[f32]) -> f32 {
        let mut acc = [_mm512_setzero_ps(); 8];
        for block in data.chunks_exact(128) {
            for (a, line) in acc.iter_mut().zip(block.chunks_exact(16)) {
                // SAFETY: `line` holds the 16 f32 an unaligned 512-bit load reads.
                *a = _mm512_add_ps(*a, unsafe { _mm512_loadu_ps(line.as_ptr()) });
            }
        }
        total_avx512(acc)
    }

    /// [`sum_avx512`] in 256-bit vectors, eight chains of half a line each.
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn sum_avx2(data: &[f32]) -> f32 {
        let mut acc = [_mm256_setzero_ps(); 8];
        for block in data.chunks_exact(64) {
            for (a, half) in acc.iter_mut().zip(block.chunks_exact(8)) {
                // SAFETY: `half` holds the 8 f32 an unaligned 256-bit load reads.
                *a = _mm256_add_ps(*a, unsafe { _mm256_loadu_ps(half.as_ptr()) });
            }
        }
        total_avx2(acc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probes_measure_something() {
        let (avx512, avx2) = fma_peak();
        for rate in [avx512, avx2].into_iter().flatten() {
            assert!(rate.is_finite() && rate > 0.0, "{rate}");
        }
        let rate = read_rate(64 << 10);
        assert!(rate.is_finite() && rate > 0.0, "{rate}");
    }

    /// The read loops must read every value once: a sum of ones counts them.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_read_loops_visit_every_value() {
        let data: Vec<f32> = (0..4096).map(|i| (i % 7) as f32).collect();
        let want: f32 = data.iter().sum();
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked on the line above).
            assert_eq!(unsafe { x86::sum_avx512(&data) }, want);
        }
        if is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked on the line above).
            assert_eq!(unsafe { x86::sum_avx2(&data) }, want);
        }
    }
}
