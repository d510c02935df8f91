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
