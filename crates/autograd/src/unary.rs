//! Elementwise maps that are not activations — trigonometric functions,
//! reciprocals, `log1p`/`expm1`, clamping and rounding — each `f(x)` beside
//! its derivative `df(x, y)`, as [`Activation`](crate::Activation) does. One
//! recorded op (`Op::Map`) serves them all.

use strata_tensor::scalar::erf;
use strata_tensor::Float;

/// An elementwise map with a known derivative.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum UnaryFn {
    /// `sin x`; `d = cos x`.
    Sin,
    /// `cos x`; `d = −sin x`.
    Cos,
    /// `tan x`; `d = 1 + y²`.
    Tan,
    /// `1/x`; `d = −y²`.
    Recip,
    /// `ln(1 + x)`; `d = 1/(1 + x)`.
    Log1p,
    /// `eˣ − 1`; `d = y + 1`.
    Expm1,
    /// `clamp(x, lo, hi)`; `d = [lo ≤ x ≤ hi]` (PyTorch's `clamp`: the
    /// gradient passes at the bounds).
    Clamp(f64, f64),
    /// Rounding and sign: piecewise constant, `d = 0` (as in PyTorch).
    Floor,
    /// See [`UnaryFn::Floor`].
    Ceil,
    /// See [`UnaryFn::Floor`].
    Round,
    /// See [`UnaryFn::Floor`].
    Signum,
    /// The standard normal CDF `Φ(x) = ½(1 + erf(x/√2))`; `d = φ(x)`. Exact
    /// GELU's derivative is `Φ(x) + x·φ(x)`, and graph-mode backward records
    /// it with this op.
    NormCdf,
}

impl UnaryFn {
    /// The op's name, for anomaly reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            UnaryFn::Sin => "sin",
            UnaryFn::Cos => "cos",
            UnaryFn::Tan => "tan",
            UnaryFn::Recip => "recip",
            UnaryFn::Log1p => "log1p",
            UnaryFn::Expm1 => "expm1",
            UnaryFn::Clamp(..) => "clamp",
            UnaryFn::Floor => "floor",
            UnaryFn::Ceil => "ceil",
            UnaryFn::Round => "round",
            UnaryFn::Signum => "signum",
            UnaryFn::NormCdf => "norm_cdf",
        }
    }

    /// `f(x)`.
    #[inline(always)]
    pub(crate) fn f<T: Float>(self, x: T) -> T {
        match self {
            UnaryFn::Sin => x.sin(),
            UnaryFn::Cos => x.cos(),
            UnaryFn::Tan => x.tan(),
            UnaryFn::Recip => x.recip(),
            UnaryFn::Log1p => x.ln_1p(),
            UnaryFn::Expm1 => x.exp_m1(),
            UnaryFn::Clamp(lo, hi) => x.max(T::of(lo)).min(T::of(hi)),
            UnaryFn::Floor => x.floor(),
            UnaryFn::Ceil => x.ceil(),
            UnaryFn::Round => x.round(),
            UnaryFn::Signum => {
                if x == T::zero() {
                    T::zero()
                } else {
                    x.signum()
                }
            }
            UnaryFn::NormCdf => T::of(0.5) * (T::one() + erf(x / T::of(std::f64::consts::SQRT_2))),
        }
    }

    /// `df/dx` at input `x` with output `y = f(x)`.
    #[inline(always)]
    pub(crate) fn df<T: Float>(self, x: T, y: T) -> T {
        let one = T::one();
        match self {
            UnaryFn::Sin => x.cos(),
            UnaryFn::Cos => -x.sin(),
            UnaryFn::Tan => one + y * y,
            UnaryFn::Recip => -(y * y),
            UnaryFn::Log1p => (one + x).recip(),
            UnaryFn::Expm1 => y + one,
            UnaryFn::Clamp(lo, hi) => {
                if x >= T::of(lo) && x <= T::of(hi) {
                    one
                } else {
                    T::zero()
                }
            }
            UnaryFn::Floor | UnaryFn::Ceil | UnaryFn::Round | UnaryFn::Signum => T::zero(),
            UnaryFn::NormCdf => (-(x * x) / T::of(2.0)).exp() / T::of((2.0 * std::f64::consts::PI).sqrt()),
        }
    }
}
