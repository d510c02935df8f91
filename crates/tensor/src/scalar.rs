//! Scalar special functions shared by the tensor ops and the autograd crate's
//! activations: a stable sigmoid and softplus, and `erf` (num-traits has none).

use crate::float::Float;

/// Logistic sigmoid `1 / (1 + e⁻ˣ)`; `exp` only of `-|x|`, so it never overflows.
#[inline]
pub fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// Hyperbolic tangent. `f64` uses the platform's `tanh`; `f32` is computed in
/// `f64` arithmetic (its own `exp`, no library call) and rounded once: it
/// equals `f64` tanh rounded to `f32` at each of the 22 million values a test
/// sweeps (the test allows one ulp: rounding twice near a tie could differ by
/// one). The platform's `tanhf`, whose `expm1f` dominated the time of small
/// tanh networks, is not used; `Tensor::tanh` runs the same arithmetic in a
/// vectorised loop.
#[inline]
pub fn tanh<T: Float>(x: T) -> T {
    if std::mem::size_of::<T>() == 4 {
        T::of(tanh_via_f64(x.as_f64()))
    } else {
        x.tanh()
    }
}

/// `tanh` of an `f32` value, carried out in `f64`: straight-line code with no
/// library call and no branch (both formulas are evaluated, one is kept), so
/// that a loop of it vectorises ([`crate::kernels::tanh`]).
#[inline(always)]
pub(crate) fn tanh_via_f64(x: f64) -> f64 {
    let a = x.abs();
    // Below 1/16: the Taylor series to x⁹; the first omitted term is below
    // 1e-15·|x|.
    let a2 = a * a;
    let series = a * (1.0 + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0 + a2 * (-17.0 / 315.0 + a2 * (62.0 / 2835.0)))));
    // Above: 1 − 2/(e^{2a} + 1), with no cancellation worth an f32 ulp (the
    // result is at least 0.0624). From 10 on tanh rounds to 1 in f32;
    // clamping there keeps e^{2a} finite (NaN is restored below).
    let e = exp_0_to_20(2.0 * a.min(10.0));
    let t = if a < 0.0625 { series } else { 1.0 - 2.0 / (e + 1.0) };
    let t = if x.is_nan() { x } else { t };
    t.copysign(x)
}

/// `eˣ` for `0 ≤ x ≤ 20`, to about 1e-15 relative error: `2ᵏ·eʳ` with
/// `|r| ≤ ln2/2`, `eʳ` by its Taylor series to `r¹²`. `k` is rounded by
/// adding and subtracting 1.5·2⁵² (no `round` call, which baseline x86-64
/// lacks an instruction for), and `2ᵏ` is assembled from its bits the same
/// way, so every step is plain arithmetic on lanes.
#[inline(always)]
fn exp_0_to_20(x: f64) -> f64 {
    const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5·2⁵²
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let k = (x * std::f64::consts::LOG2_E + SHIFT) - SHIFT;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 479_001_600.0;
    for c in [
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    // k + 1023 is a whole number in 1023..=1052; added to 2⁵² its value sits
    // in the low mantissa bits, and shifting those into the exponent field
    // gives 2ᵏ.
    let two_k = f64::from_bits((k + 1023.0 + 4_503_599_627_370_496.0).to_bits() << 52);
    p * two_k
}

/// `ln(1 + eˣ) = max(x, 0) + ln(1 + e^-|x|)`, stable for any x.
#[inline]
pub fn softplus<T: Float>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// The error function, to about f64 precision.
///
/// Uses the series `erf x = 2/√π · e^{-x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1))`,
/// whose terms are all positive (no cancellation); for |x| ≥ 6, erf is ±1
/// to double precision.
pub fn erf<T: Float>(x: T) -> T {
    let v = x.as_f64();
    if v.is_nan() {
        return x;
    }
    if v.abs() >= 6.0 {
        return T::of(v.signum());
    }
    let x2 = v * v;
    let mut term = v;
    let mut sum = v;
    let mut n = 0.0;
    while term.abs() > 1e-17 * sum.abs() {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
    }
    T::of(2.0 / std::f64::consts::PI.sqrt() * (-x2).exp() * sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_tanh_is_within_one_ulp_of_f64_over_the_range() {
        // Every 97th f32 bit pattern from 0 to +inf (about 22 million values,
        // subnormals and the series/exp seam at 0.0625 included), both signs.
        let mut worst = 0u32;
        for bits in (0..0x7f80_0000u32).step_by(97).chain([0x3d80_0000, 0x3d7f_ffff, 0x4120_0000, 0x7f80_0000]) {
            for x in [f32::from_bits(bits), -f32::from_bits(bits)] {
                let got = tanh(x);
                let want = f64::from(x).tanh() as f32;
                let ulps = got.to_bits().abs_diff(want.to_bits());
                worst = worst.max(ulps);
                assert!(ulps <= 1, "tanh({x:e}) = {got:e}, f64 reference rounds to {want:e}");
            }
        }
        assert!(worst <= 1);
        assert!(tanh(f32::NAN).is_nan());
        assert_eq!(tanh(-0.0f32).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanh(0.7f64), 0.7f64.tanh());
    }

    #[test]
    fn erf_reference_values() {
        // Values from Abramowitz & Stegun table 7.1 / mpmath.
        for (x, want) in [
            (0.0f64, 0.0f64),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (3.5, 0.999_999_256_901_627_7),
        ] {
            assert!((erf(x) - want).abs() < 4e-15, "erf({x}) = {}", erf(x));
            assert!((erf(-x) + want).abs() < 4e-15);
        }
        assert_eq!(erf(10.0f32), 1.0);
    }

    #[test]
    fn stable_helpers() {
        assert_eq!(sigmoid(-1e4f32), 0.0);
        assert_eq!(sigmoid(1e4f32), 1.0);
        assert_eq!(softplus(1e4f32), 1e4);
        assert_eq!(softplus(-1e4f32), 0.0);
    }
}
