//! `tanh` over a slice of `f32`, the activation of small tanh networks.
//!
//! Each value is computed by [`scalar::tanh_f32`], straight-line `f32` arithmetic
//! with no library call. Compiled for AVX2 (chosen at run time), LLVM turns
//! the loop into eight-lane vector code; the portable loop runs the same
//! operations one value at a time. Neither fuses a multiply and an add
//! (Rust never contracts them), so both give the same bits.

use crate::scalar;

/// `dst[i] = tanh(src[i])`.
///
/// # Panics
/// If the slices differ in length.
pub(crate) fn tanh_f32(src: &[f32], dst: &mut [f32]) {
    assert_eq!(src.len(), dst.len(), "tanh_f32: slice lengths differ");
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked on the line above; the
        // function reads and writes only through the two slices.
        unsafe { tanh_f32_avx2(src, dst) };
        return;
    }
    tanh_f32_portable(src, dst);
}

/// The portable loop.
pub(crate) fn tanh_f32_portable(src: &[f32], dst: &mut [f32]) {
    each(src, dst);
}

/// The same loop compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn tanh_f32_avx2(src: &[f32], dst: &mut [f32]) {
    each(src, dst);
}

#[inline(always)]
fn each(src: &[f32], dst: &mut [f32]) {
    for (d, &x) in dst.iter_mut().zip(src) {
        *d = scalar::tanh_f32(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avx2_and_portable_agree_bit_for_bit_and_within_an_ulp_of_f64() {
        let src: Vec<f32> = (0..40_000)
            .map(|i| {
                let x = f32::from_bits((i as u32).wrapping_mul(2_654_435_761) & 0x7fff_ffff);
                if i % 2 == 0 {
                    x
                } else {
                    -x
                }
            })
            .chain([0.0, -0.0, 0.0625, 9.99, 10.0, 1e-30, f32::INFINITY, f32::NEG_INFINITY, f32::NAN])
            .collect();
        let mut portable = vec![0.0f32; src.len()];
        tanh_f32_portable(&src, &mut portable);
        for (&x, &y) in src.iter().zip(&portable) {
            let want = f64::from(x).tanh() as f32;
            let ulps = y.to_bits().abs_diff(want.to_bits());
            assert!(ulps <= 1 || (x.is_nan() && y.is_nan()), "tanh({x:e}) = {y:e}, not {want:e}");
        }
        let mut dispatched = vec![0.0f32; src.len()];
        tanh_f32(&src, &mut dispatched);
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            let mut avx2 = vec![0.0f32; src.len()];
            // SAFETY: AVX2 is present (checked above).
            unsafe { tanh_f32_avx2(&src, &mut avx2) };
            assert!(avx2.iter().zip(&portable).all(|(a, p)| a.to_bits() == p.to_bits()));
        }
        assert!(dispatched.iter().zip(&portable).all(|(a, p)| a.to_bits() == p.to_bits()));
    }
}
