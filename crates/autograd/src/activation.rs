//! Activation functions, each as `f(x)` beside its derivative `df(x, y)`
//! (given the input and the output, so backward reuses what forward computed).
//!
//! All are numerically stable at large |x|: sigmoid, softplus, swish and mish
//! never overflow to NaN/Inf, because `exp` is only ever taken of `-|x|`.

use strata_tensor::Float;

use strata_tensor::scalar::{erf, sigmoid, softplus, tanh};

/// An elementwise activation. Parameters are `f64` so the enum is `Copy` and
/// independent of the tensor's float type; defaults follow PyTorch.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Activation {
    /// No activation: `x`.
    Identity,
    /// `max(x, 0)`; `d = [x > 0]`.
    Relu,
    /// `x` if `x > 0`, else `slope·x`; `d = 1` or `slope`. PyTorch's default slope is 0.01.
    LeakyRelu(f64),
    /// `x` if `x > 0`, else `α(eˣ − 1)`; `d = 1` or `y + α`.
    Elu(f64),
    /// `λ·elu_α(x)` with the self-normalising constants λ ≈ 1.0507, α ≈ 1.6733.
    Selu,
    /// `1 / (1 + e⁻ˣ)`; `d = y(1 − y)`.
    Sigmoid,
    /// `tanh x`; `d = 1 − y²`.
    Tanh,
    /// Swish with parameter β, `x·σ(βx)`; `d = σ(βx)(1 + βx(1 − σ(βx)))`.
    /// β = 1 is SiLU (PyTorch's `nn.SiLU`), [`Activation::SILU`].
    Silu(f64),
    /// `x·tanh(softplus(x))`; `d = tanh(sp) + x·sech²(sp)·σ(x)`.
    Mish,
    /// GELU, exact (`x·Φ(x)`; `d = Φ(x) + x·φ(x)`) or with the tanh
    /// approximation `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`, as PyTorch's
    /// `approximate='none' | 'tanh'`.
    Gelu(GeluApprox),
    /// `ln(1 + e^(βx)) / β`; `d = σ(βx)`. β = 1 is [`Activation::SOFTPLUS`].
    Softplus(f64),
    /// `clamp(x, min, max)`; `d = [min < x < max]`. PyTorch's default is (−1, 1).
    Hardtanh(f64, f64),
}

/// How [`Activation::Gelu`] computes `Φ`: PyTorch's `approximate` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GeluApprox {
    /// The exact `Φ(x) = ½(1 + erf(x/√2))` (PyTorch's default, `'none'`).
    None,
    /// `½(1 + tanh(√(2/π)(x + 0.044715x³)))` (`'tanh'`).
    Tanh,
}

/// Evaluates `$body` with `$a` bound to the activation `$act` as a
/// [`Fixed`]: in a separate arm per variant, with the variant in the type
/// (only its parameters are values). A closure that captures `$a` then
/// carries no discriminant, so the `match` in [`Activation::f`] and
/// [`Activation::df`] folds away inside it, the closure is small enough to
/// inline, and a loop over a tensor vectorises. (Binding the enum itself,
/// the closure captured the discriminant as data: every element paid a
/// call and a jump table, 1.2 ns an element for ReLU.)
macro_rules! with_variant {
    ($act:expr, |$a:ident| $body:expr) => {{
        use $crate::activation::{Activation as A, Fixed, GeluApprox as G};
        match $act {
            A::Identity => {
                let $a = Fixed::<0>::new(0.0, 0.0);
                $body
            }
            A::Relu => {
                let $a = Fixed::<1>::new(0.0, 0.0);
                $body
            }
            A::LeakyRelu(s) => {
                let $a = Fixed::<2>::new(s, 0.0);
                $body
            }
            A::Elu(al) => {
                let $a = Fixed::<3>::new(al, 0.0);
                $body
            }
            A::Selu => {
                let $a = Fixed::<4>::new(0.0, 0.0);
                $body
            }
            A::Sigmoid => {
                let $a = Fixed::<5>::new(0.0, 0.0);
                $body
            }
            A::Tanh => {
                let $a = Fixed::<6>::new(0.0, 0.0);
                $body
            }
            A::Silu(b) => {
                let $a = Fixed::<7>::new(b, 0.0);
                $body
            }
            A::Mish => {
                let $a = Fixed::<8>::new(0.0, 0.0);
                $body
            }
            A::Gelu(G::None) => {
                let $a = Fixed::<9>::new(0.0, 0.0);
                $body
            }
            A::Gelu(G::Tanh) => {
                let $a = Fixed::<10>::new(0.0, 0.0);
                $body
            }
            A::Softplus(b) => {
                let $a = Fixed::<11>::new(b, 0.0);
                $body
            }
            A::Hardtanh(lo, hi) => {
                let $a = Fixed::<12>::new(lo, hi);
                $body
            }
        }
    }};
}
pub(crate) use with_variant;

/// One activation variant `V` (the order of [`with_variant!`]'s arms) and
/// its parameters: the variant is in the type, so code generic over `V`
/// compiles to that variant's arithmetic alone.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fixed<const V: u8> {
    p: f64,
    q: f64,
}

impl<const V: u8> Fixed<V> {
    #[inline(always)]
    pub(crate) fn new(p: f64, q: f64) -> Self {
        Fixed { p, q }
    }

    /// The activation this stands for.
    #[inline(always)]
    fn act(self) -> Activation {
        match V {
            0 => Activation::Identity,
            1 => Activation::Relu,
            2 => Activation::LeakyRelu(self.p),
            3 => Activation::Elu(self.p),
            4 => Activation::Selu,
            5 => Activation::Sigmoid,
            6 => Activation::Tanh,
            7 => Activation::Silu(self.p),
            8 => Activation::Mish,
            9 => Activation::Gelu(GeluApprox::None),
            10 => Activation::Gelu(GeluApprox::Tanh),
            11 => Activation::Softplus(self.p),
            _ => Activation::Hardtanh(self.p, self.q),
        }
    }

    /// [`Activation::f`].
    #[inline(always)]
    pub(crate) fn f<T: Float>(self, x: T) -> T {
        self.act().f(x)
    }

    /// [`Activation::df`].
    #[inline(always)]
    pub(crate) fn df<T: Float>(self, x: T, y: T) -> T {
        self.act().df(x, y)
    }
}

/// SELU's λ (scale) and α, from Klambauer et al. (2017), as in PyTorch.
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_5;
/// SELU's α.
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;

const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
/// Above this `βx`, softplus with β ≠ 1 is `x` to working precision
/// (PyTorch's `threshold`, 20).
const SOFTPLUS_LINEAR: f64 = 20.0;
const GELU_C: f64 = 0.044_715;

impl Activation {
    /// Every activation, with default parameters (for sweeps and tests).
    pub const ALL: [Activation; 13] = [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu(0.01),
        Activation::Elu(1.0),
        Activation::Selu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::SILU,
        Activation::Mish,
        Activation::GELU,
        Activation::GELU_TANH,
        Activation::SOFTPLUS,
        Activation::Hardtanh(-1.0, 1.0),
    ];

    /// SiLU, `x·σ(x)` (swish with β = 1).
    pub const SILU: Activation = Activation::Silu(1.0);
    /// Exact GELU.
    pub const GELU: Activation = Activation::Gelu(GeluApprox::None);
    /// GELU with the tanh approximation.
    pub const GELU_TANH: Activation = Activation::Gelu(GeluApprox::Tanh);
    /// Softplus with β = 1, `ln(1 + eˣ)`.
    pub const SOFTPLUS: Activation = Activation::Softplus(1.0);

    /// The leaky ReLU with PyTorch's default slope, 0.01.
    pub const LEAKY_RELU: Activation = Activation::LeakyRelu(0.01);
    /// ELU with α = 1.
    pub const ELU: Activation = Activation::Elu(1.0);
    /// Hardtanh on (−1, 1).
    pub const HARDTANH: Activation = Activation::Hardtanh(-1.0, 1.0);

    /// True if the slope at every point follows from the output alone, as
    /// `df(y, y)`: ReLU and leaky ReLU with a slope ≥ 0 (`y > 0` exactly
    /// where `x > 0`), sigmoid (`y(1 − y)`) and tanh (`1 − y²`). These fuse
    /// into [`Var::linear_act`](crate::Var::linear_act) without keeping
    /// the pre-activation.
    #[must_use]
    pub fn slope_from_output(self) -> bool {
        match self {
            Activation::Relu | Activation::Sigmoid | Activation::Tanh => true,
            Activation::LeakyRelu(s) => s >= 0.0,
            _ => false,
        }
    }

    /// A short lowercase name (`"relu"`, `"leaky_relu"`, ...), as used in
    /// op names, tables and command-line flags.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::LeakyRelu(_) => "leaky_relu",
            Activation::Elu(_) => "elu",
            Activation::Selu => "selu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Silu(_) => "silu",
            Activation::Mish => "mish",
            Activation::Gelu(GeluApprox::None) => "gelu",
            Activation::Gelu(GeluApprox::Tanh) => "gelu_tanh",
            Activation::Softplus(_) => "softplus",
            Activation::Hardtanh(..) => "hardtanh",
        }
    }

    /// The name with the parameters that differ from the name's default
    /// (`"relu"`, `"leaky_relu(0.2)"`, `"silu(0.5)"`, `"hardtanh(-2, 2)"`):
    /// what checkpoints record, and what [`FromStr`](std::str::FromStr)
    /// reads back to the same activation.
    #[must_use]
    pub fn spec(self) -> String {
        let name = self.name();
        match self {
            Activation::LeakyRelu(s) if s != 0.01 => format!("{name}({s})"),
            Activation::Elu(a) if a != 1.0 => format!("{name}({a})"),
            Activation::Silu(b) | Activation::Softplus(b) if b != 1.0 => format!("{name}({b})"),
            Activation::Hardtanh(lo, hi) if (lo, hi) != (-1.0, 1.0) => format!("{name}({lo}, {hi})"),
            _ => name.to_string(),
        }
    }

    /// Where the derivative jumps (finite-difference checks must keep away).
    #[must_use]
    pub fn kinks(self) -> Vec<f64> {
        match self {
            Activation::Relu | Activation::LeakyRelu(_) | Activation::Elu(_) | Activation::Selu => vec![0.0],
            Activation::Hardtanh(lo, hi) => vec![lo, hi],
            _ => vec![],
        }
    }

    /// `f(x)`.
    #[inline(always)]
    #[must_use]
    pub fn f<T: Float>(self, x: T) -> T {
        let zero = T::zero();
        match self {
            Activation::Identity => x,
            Activation::Relu => {
                if x > zero {
                    x
                } else {
                    zero
                }
            }
            Activation::LeakyRelu(s) => {
                if x > zero {
                    x
                } else {
                    x * T::of(s)
                }
            }
            Activation::Elu(a) => {
                if x > zero {
                    x
                } else {
                    T::of(a) * x.exp_m1()
                }
            }
            Activation::Selu => T::of(SELU_SCALE) * if x > zero { x } else { T::of(SELU_ALPHA) * x.exp_m1() },
            Activation::Sigmoid => sigmoid(x),
            Activation::Tanh => tanh(x),
            Activation::Silu(b) => x * sigmoid(scaled(b, x)),
            Activation::Mish => x * tanh(softplus(x)),
            Activation::Gelu(GeluApprox::None) => {
                T::of(0.5) * x * (T::one() + erf(x / T::of(std::f64::consts::SQRT_2)))
            }
            Activation::Gelu(GeluApprox::Tanh) => {
                let u = T::of(SQRT_2_OVER_PI) * (x + T::of(GELU_C) * x * x * x);
                T::of(0.5) * x * (T::one() + tanh(u))
            }
            Activation::Softplus(b) => {
                if b == 1.0 {
                    softplus(x)
                } else if x * T::of(b) > T::of(SOFTPLUS_LINEAR) || (x * T::of(b)).is_infinite() {
                    // ln(1 + e^(βx))/β = x to working precision (βx may even overflow).
                    if x > T::zero() {
                        x
                    } else {
                        T::zero()
                    }
                } else {
                    softplus(x * T::of(b)) / T::of(b)
                }
            }
            Activation::Hardtanh(lo, hi) => x.max(T::of(lo)).min(T::of(hi)),
        }
    }

    /// `df/dx` at input `x` with output `y = f(x)`.
    #[inline(always)]
    #[must_use]
    pub fn df<T: Float>(self, x: T, y: T) -> T {
        let (zero, one) = (T::zero(), T::one());
        match self {
            Activation::Identity => one,
            Activation::Relu => {
                if x > zero {
                    one
                } else {
                    zero
                }
            }
            Activation::LeakyRelu(s) => {
                if x > zero {
                    one
                } else {
                    T::of(s)
                }
            }
            Activation::Elu(a) => {
                if x > zero {
                    one
                } else {
                    y + T::of(a)
                }
            }
            Activation::Selu => {
                if x > zero {
                    T::of(SELU_SCALE)
                } else {
                    y + T::of(SELU_SCALE * SELU_ALPHA)
                }
            }
            Activation::Sigmoid => y * (one - y),
            Activation::Tanh => one - y * y,
            Activation::Silu(b) => {
                let bx = scaled(b, x);
                let s = sigmoid(bx);
                // Where σ has saturated (to 0 or 1), βx may be huge or even
                // infinite: 0·∞ would make NaN of a derivative that is 0 or 1.
                if s == zero || s == one {
                    s
                } else {
                    s * (one + bx * (one - s))
                }
            }
            Activation::Mish => {
                let t = tanh(softplus(x));
                let sech2 = one - t * t;
                if sech2 == zero {
                    t
                } else {
                    t + x * sech2 * sigmoid(x)
                }
            }
            Activation::Gelu(GeluApprox::None) => {
                let cdf = T::of(0.5) * (one + erf(x / T::of(std::f64::consts::SQRT_2)));
                let pdf = (-(x * x) / T::of(2.0)).exp() / T::of((2.0 * std::f64::consts::PI).sqrt());
                cdf + x * pdf
            }
            Activation::Gelu(GeluApprox::Tanh) => {
                let k = T::of(SQRT_2_OVER_PI);
                let u = k * (x + T::of(GELU_C) * x * x * x);
                let t = tanh(u);
                let sech2 = one - t * t;
                // Once tanh has saturated the second term is exactly 0, but
                // x³ and x² may have overflowed (|x| ≥ 1e13 in f32): 0·∞ = NaN.
                let slope =
                    if sech2 == zero { zero } else { T::of(0.5) * x * sech2 * k * (one + T::of(3.0 * GELU_C) * x * x) };
                T::of(0.5) * (one + t) + slope
            }
            Activation::Softplus(b) => sigmoid(scaled(b, x)),
            Activation::Hardtanh(lo, hi) => {
                if x > T::of(lo) && x < T::of(hi) {
                    one
                } else {
                    zero
                }
            }
        }
    }
}

/// `β·x`, skipping the multiply for the common β = 1 (bit-identical to `x`).
#[inline(always)]
fn scaled<T: Float>(beta: f64, x: T) -> T {
    if beta == 1.0 {
        x
    } else {
        T::of(beta) * x
    }
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Activation {
    type Err = String;
    /// Parses the names [`Activation::name`] gives (plus `swish` for SiLU),
    /// with default parameters, or a [`spec`](Activation::spec) with its
    /// parameters in parentheses (`leaky_relu(0.2)`, `hardtanh(-2, 2)`).
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some((name, rest)) = s.split_once('(') {
            let args = rest
                .strip_suffix(')')
                .ok_or_else(|| format!("activation `{s}`: missing `)`"))?
                .split(',')
                .map(|a| {
                    a.trim().parse::<f64>().map_err(|_| format!("activation `{s}`: `{}` is not a number", a.trim()))
                })
                .collect::<Result<Vec<f64>, String>>()?;
            let base: Activation = name.trim().parse()?;
            let arity = |n: usize| {
                if args.len() == n && args.iter().all(|a| a.is_finite()) {
                    Ok(())
                } else {
                    Err(format!("activation `{s}`: `{}` takes {n} finite parameter(s)", base.name()))
                }
            };
            return match base {
                Activation::LeakyRelu(_) => arity(1).map(|()| Activation::LeakyRelu(args[0])),
                Activation::Elu(_) => arity(1).map(|()| Activation::Elu(args[0])),
                Activation::Silu(_) => arity(1).map(|()| Activation::Silu(args[0])),
                Activation::Softplus(_) => arity(1).map(|()| Activation::Softplus(args[0])),
                Activation::Hardtanh(..) => arity(2).map(|()| Activation::Hardtanh(args[0], args[1])),
                other => Err(format!("activation `{s}`: `{}` takes no parameters", other.name())),
            };
        }
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "identity" | "linear" | "none" => Activation::Identity,
            "relu" => Activation::Relu,
            "leaky_relu" | "leakyrelu" | "leaky-relu" => Activation::LEAKY_RELU,
            "elu" => Activation::ELU,
            "selu" => Activation::Selu,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "silu" | "swish" => Activation::SILU,
            "mish" => Activation::Mish,
            "gelu" => Activation::GELU,
            "gelu_tanh" => Activation::GELU_TANH,
            "softplus" => Activation::SOFTPLUS,
            "hardtanh" => Activation::HARDTANH,
            other => {
                return Err(format!(
                    "unknown activation `{other}` (expected one of: identity, relu, leaky_relu, elu, selu, \
                     sigmoid, tanh, silu, swish, mish, gelu, gelu_tanh, softplus, hardtanh)"
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fixed_variant_computes_its_own_activation() {
        let mut acts = Activation::ALL.to_vec();
        acts.extend([
            Activation::LeakyRelu(0.2),
            Activation::Elu(0.7),
            Activation::Silu(1.7),
            Activation::Softplus(2.5),
            Activation::Hardtanh(-0.5, 2.0),
        ]);
        for act in acts {
            for x in [-3.0f64, -0.7, -0.1, 0.0, 0.3, 1.1, 4.0] {
                let y = act.f(x);
                let (fy, dy) = with_variant!(act, |a| (a.f(x), a.df(x, y)));
                assert_eq!(fy.to_bits(), y.to_bits(), "{act:?} f({x})");
                assert_eq!(dy.to_bits(), act.df(x, y).to_bits(), "{act:?} df({x})");
            }
        }
    }

    #[test]
    fn values_at_chosen_points() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(Activation::Relu.f(-2.0), 0.0) && close(Activation::Relu.f(1.5), 1.5));
        assert!(close(Activation::LEAKY_RELU.f(-2.0), -0.02));
        assert!(close(Activation::ELU.f(-1.0), (-1.0f64).exp() - 1.0));
        assert!(close(Activation::Selu.f(1.0), SELU_SCALE));
        assert!(close(Activation::Sigmoid.f(0.0), 0.5));
        assert!(close(Activation::SILU.f(1.0), 1.0 / (1.0 + (-1.0f64).exp())));
        assert!(close(Activation::SOFTPLUS.f(0.0), std::f64::consts::LN_2));
        assert!(close(Activation::Mish.f(1.0), 1.0 * (1.0 + 1.0f64.exp()).ln().tanh()));
        // GELU(1) = Φ(1) = 0.841344746068543 (erf(1/√2) = 0.682689492137086).
        assert!(close(Activation::GELU.f(1.0), 0.841_344_746_068_542_9));
        assert!((Activation::GELU_TANH.f(1.0f64) - 0.841_191_990_607_477).abs() < 1e-12);
        assert!(close(Activation::HARDTANH.f(3.0), 1.0));
    }

    #[test]
    fn stable_at_large_magnitudes_in_f32() {
        for act in [
            Activation::Sigmoid,
            Activation::SOFTPLUS,
            Activation::Softplus(2.5),
            Activation::Mish,
            Activation::SILU,
            Activation::Silu(0.5),
            Activation::GELU,
            Activation::GELU_TANH,
            Activation::Elu(1.0),
            Activation::Selu,
            Activation::Tanh,
        ] {
            for x in [-1e4f32, 1e4] {
                let y = act.f(x);
                assert!(y.is_finite(), "{act}({x}) = {y}");
                assert!(act.df(x, y).is_finite(), "{act}'({x})");
            }
        }
        assert_eq!(Activation::SOFTPLUS.f(1e4f32), 1e4);
        assert_eq!(Activation::Mish.f(-1e4f32), 0.0);
    }

    #[test]
    fn specs_read_back_to_the_same_activation() {
        let mut all = Activation::ALL.to_vec();
        all.extend([
            Activation::LeakyRelu(0.2),
            Activation::Elu(0.5),
            Activation::Silu(1.702),
            Activation::Softplus(2.0),
            Activation::Hardtanh(-2.5, 0.1),
        ]);
        for act in all {
            assert_eq!(act.spec().parse::<Activation>(), Ok(act), "{}", act.spec());
        }
        assert_eq!(Activation::LeakyRelu(0.2).spec(), "leaky_relu(0.2)");
        assert_eq!(Activation::LEAKY_RELU.spec(), "leaky_relu");
        assert!("relu(2)".parse::<Activation>().unwrap_err().contains("takes no parameters"));
        assert!("hardtanh(1)".parse::<Activation>().unwrap_err().contains("takes 2 finite parameter(s)"));
        assert!("elu(x)".parse::<Activation>().unwrap_err().contains("`x` is not a number"));
    }

    /// Forward and derivative stay finite at huge inputs for every activation:
    /// intermediates such as x³, βx or exp(x) overflow there, and 0·∞ made
    /// NaN of GELU-tanh's derivative at |x| ≥ 1e20 (f32) and ≥ 1e155 (f64).
    #[test]
    fn finite_at_huge_inputs_in_f32_and_f64() {
        let mut all = Activation::ALL.to_vec();
        all.extend([Activation::Silu(2.0), Activation::Silu(0.5), Activation::Softplus(2.0), Activation::Elu(0.5)]);
        for act in &all {
            for x in [1e4f32, 1e20, f32::MAX / 2.0] {
                for x in [x, -x] {
                    let y = act.f(x);
                    assert!(y.is_finite(), "{act}({x}) = {y}");
                    let d = act.df(x, y);
                    assert!(d.is_finite(), "{act}'({x}) = {d}");
                }
            }
            for x in [1e4f64, 1e20, 1e155, 1e300, f64::MAX / 2.0] {
                for x in [x, -x] {
                    let y = act.f(x);
                    assert!(y.is_finite(), "{act}({x}) = {y}");
                    let d = act.df(x, y);
                    assert!(d.is_finite(), "{act}'({x}) = {d}");
                }
            }
        }
        // The limits are the right ones, not merely finite.
        assert_eq!(Activation::GELU_TANH.df(1e20f32, Activation::GELU_TANH.f(1e20f32)), 1.0);
        assert_eq!(Activation::GELU_TANH.df(-1e20f32, Activation::GELU_TANH.f(-1e20f32)), 0.0);
        assert_eq!(Activation::Silu(2.0).df(f32::MAX / 2.0, 0.0), 1.0);
        assert_eq!(Activation::Softplus(2.0).f(f32::MAX / 2.0), f32::MAX / 2.0);
        assert_eq!(Activation::Mish.df(1e300f64, 1e300), 1.0);
    }

    #[test]
    fn parses_names() {
        assert_eq!("swish".parse::<Activation>().unwrap(), Activation::SILU);
        assert_eq!("leaky_relu".parse::<Activation>().unwrap(), Activation::LeakyRelu(0.01));
        assert!("relu6".parse::<Activation>().unwrap_err().contains("unknown activation `relu6`"));
    }
}
