//! Arithmetic on vars: broadcasting binary ops, matmul, scalar ops and unary
//! maps. Each op's derivative is stated in its doc; the code is in `backward.rs`.

use std::ops::{Add, Div, Mul, Neg, Sub};

use strata_tensor::{Float, OrPanic, Tensor, TensorError};

use crate::activation::Activation;
use crate::error::AutogradError;
use crate::op::Op;
use crate::unary::UnaryFn;
use crate::var::Var;

// The methods share the operator traits' names on purpose: `a.add(b)` and
// `a + b` are the same op (the trait impls below delegate here).
#[allow(clippy::should_implement_trait)]
impl<'t, T: Float> Var<'t, T> {
    /// `self + other`, broadcasting. `d/da = 1`, `d/db = 1` (summed back to each shape).
    ///
    /// # Panics
    /// If the shapes cannot be broadcast (the message names both), or the vars
    /// come from different tapes.
    #[must_use]
    #[track_caller]
    pub fn add(self, other: Var<'_, T>) -> Var<'t, T> {
        self.binary(other, "add", Op::Add(self.index, other.index), |a, b| a.try_add(b))
    }

    /// [`add`](Self::add) that returns an error instead of panicking, for
    /// shapes that come from data.
    ///
    /// # Errors
    /// [`AutogradError::Tensor`] if the shapes cannot be broadcast,
    /// [`AutogradError::DifferentTapes`] if the vars come from different tapes.
    pub fn try_add(self, other: Var<'_, T>) -> Result<Var<'t, T>, AutogradError> {
        self.try_binary(other, "add", Op::Add(self.index, other.index), |a, b| a.try_add(b))
    }

    /// `self − other`, broadcasting. `d/da = 1`, `d/db = −1`.
    ///
    /// # Panics
    /// As [`add`](Self::add).
    #[must_use]
    #[track_caller]
    pub fn sub(self, other: Var<'_, T>) -> Var<'t, T> {
        self.binary(other, "sub", Op::Sub(self.index, other.index), |a, b| a.try_sub(b))
    }

    /// [`sub`](Self::sub) that returns an error instead of panicking, for
    /// shapes that come from data.
    ///
    /// # Errors
    /// [`AutogradError::Tensor`] if the shapes cannot be broadcast,
    /// [`AutogradError::DifferentTapes`] if the vars come from different tapes.
    pub fn try_sub(self, other: Var<'_, T>) -> Result<Var<'t, T>, AutogradError> {
        self.try_binary(other, "sub", Op::Sub(self.index, other.index), |a, b| a.try_sub(b))
    }

    /// `self ⊙ other`, broadcasting. `d/da = b`, `d/db = a`.
    ///
    /// # Panics
    /// As [`add`](Self::add).
    #[must_use]
    #[track_caller]
    pub fn mul(self, other: Var<'_, T>) -> Var<'t, T> {
        self.binary(other, "mul", Op::Mul(self.index, other.index), |a, b| a.try_mul(b))
    }

    /// [`mul`](Self::mul) that returns an error instead of panicking, for
    /// shapes that come from data.
    ///
    /// # Errors
    /// [`AutogradError::Tensor`] if the shapes cannot be broadcast,
    /// [`AutogradError::DifferentTapes`] if the vars come from different tapes.
    pub fn try_mul(self, other: Var<'_, T>) -> Result<Var<'t, T>, AutogradError> {
        self.try_binary(other, "mul", Op::Mul(self.index, other.index), |a, b| a.try_mul(b))
    }

    /// `self / other`, broadcasting. `d/da = 1/b`, `d/db = −a/b²`.
    ///
    /// # Panics
    /// As [`add`](Self::add).
    #[must_use]
    #[track_caller]
    pub fn div(self, other: Var<'_, T>) -> Var<'t, T> {
        self.binary(other, "div", Op::Div(self.index, other.index), |a, b| a.try_div(b))
    }

    /// [`div`](Self::div) that returns an error instead of panicking, for
    /// shapes that come from data.
    ///
    /// # Errors
    /// [`AutogradError::Tensor`] if the shapes cannot be broadcast,
    /// [`AutogradError::DifferentTapes`] if the vars come from different tapes.
    pub fn try_div(self, other: Var<'_, T>) -> Result<Var<'t, T>, AutogradError> {
        self.try_binary(other, "div", Op::Div(self.index, other.index), |a, b| a.try_div(b))
    }

    /// Matrix product (2-D, or batched 3-D where a 2-D side is shared).
    /// `dA = G·Bᵀ`, `dB = Aᵀ·G` (summed over a shared operand's batch).
    ///
    /// # Panics
    /// If the shapes do not fit: `matmul: [4, 3] x [4, 2]: inner dimensions 3 and 4 differ`.
    #[must_use]
    #[track_caller]
    pub fn matmul(self, other: Var<'_, T>) -> Var<'t, T> {
        self.binary(other, "matmul", Op::Matmul(self.index, other.index), recorded_matmul)
    }

    /// [`matmul`](Self::matmul) that returns an error instead of panicking.
    ///
    /// # Errors
    /// [`AutogradError::Tensor`] naming both shapes if they do not fit,
    /// [`AutogradError::DifferentTapes`] if the vars come from different tapes.
    pub fn try_matmul(self, other: Var<'_, T>) -> Result<Var<'t, T>, AutogradError> {
        self.try_binary(other, "matmul", Op::Matmul(self.index, other.index), recorded_matmul)
    }

    /// A dense layer's affine map, `self · weightᵀ + bias`, recorded as one op:
    /// `self` is `[batch, in]` (or `[in]`, or `[..., in]` with any leading
    /// dimensions, as PyTorch's `nn.Linear` takes), `weight` is `[out, in]`
    /// (PyTorch's layout), `bias` is `[out]`. The bias is added in the
    /// product's write-out (see `Tensor::linear`), so it costs no extra pass.
    /// `dx = G·W`, `dW = Gᵀ·x`, `db = Σ_batch G`.
    ///
    /// # Panics
    /// If the shapes do not fit (the message names `linear` and both shapes),
    /// or the vars come from different tapes.
    #[must_use]
    #[track_caller]
    pub fn linear(self, weight: Var<'_, T>, bias: Option<Var<'_, T>>) -> Var<'t, T> {
        if self.rank() > 2 {
            return self.try_linear(weight, bias).or_panic();
        }
        self.same_tape(&weight, "linear");
        if let Some(b) = &bias {
            self.same_tape(b, "linear");
        }
        match self.linear_value(weight, bias) {
            Ok(out) => self.tape.record(Op::Linear(self.index, weight.index, bias.map(|b| b.index)), out),
            Err(e) => panic!("{e}"),
        }
    }

    /// `act(x·Wᵀ + b)`: a hidden layer's forward pass. For an activation
    /// whose slope follows from its output
    /// ([`Activation::slope_from_output`]: ReLU, leaky ReLU, sigmoid, tanh)
    /// and an input of rank 1 or 2, one node: the activation runs in place
    /// on the product, the pre-activation is not kept, and backward takes
    /// the slope from the output — one tensor and one node fewer than
    /// [`linear`](Self::linear) then [`activation`](Self::activation),
    /// with the same values and gradients (first and higher order). Other
    /// activations and inputs are recorded as those two ops.
    ///
    /// # Errors
    /// As [`try_linear`](Self::try_linear).
    pub fn try_linear_act(
        self,
        weight: Var<'_, T>,
        bias: Option<Var<'_, T>>,
        act: Activation,
    ) -> Result<Var<'t, T>, AutogradError> {
        if !act.slope_from_output() || self.rank() > 2 {
            return Ok(self.try_linear(weight, bias)?.activation(act));
        }
        self.layer_on_my_tape(&weight, bias.as_ref(), "linear")?;
        let mut out = self.linear_value(weight, bias)?;
        super::activation::activate_in_place(&mut out, act);
        Ok(self.tape.record(Op::LinearAct(self.index, weight.index, bias.map(|b| b.index), act), out))
    }

    /// [`try_linear_act`](Self::try_linear_act) that panics on a mismatch.
    ///
    /// # Panics
    /// As [`linear`](Self::linear).
    #[must_use]
    #[track_caller]
    pub fn linear_act(self, weight: Var<'_, T>, bias: Option<Var<'_, T>>, act: Activation) -> Var<'t, T> {
        self.try_linear_act(weight, bias, act).or_panic()
    }

    /// `Err(DifferentTapes)` naming `op` unless a layer's weight and bias
    /// were recorded on this var's tape.
    pub(crate) fn layer_on_my_tape(
        self,
        weight: &Var<'_, T>,
        bias: Option<&Var<'_, T>>,
        op: &'static str,
    ) -> Result<(), AutogradError> {
        let foreign = |v: &Var<'_, T>| v.tape.id != self.tape.id;
        if foreign(weight) || bias.is_some_and(foreign) {
            return Err(AutogradError::DifferentTapes { op });
        }
        Ok(())
    }

    /// The 2-D (or 1-D) `x·Wᵀ + b` of the three vars' values.
    fn linear_value(self, weight: Var<'_, T>, bias: Option<Var<'_, T>>) -> Result<Tensor<T>, TensorError> {
        let nodes = self.tape.nodes.borrow();
        let b = bias.map(|b| &nodes.values[b.index]);
        nodes.values[self.index].try_linear(&nodes.values[weight.index], b)
    }

    /// [`linear`](Self::linear) that returns an error instead of panicking.
    ///
    /// # Errors
    /// [`AutogradError::Tensor`] naming `linear` and the shapes if they do not
    /// fit, [`AutogradError::DifferentTapes`] if the vars come from different tapes.
    pub fn try_linear(self, weight: Var<'_, T>, bias: Option<Var<'_, T>>) -> Result<Var<'t, T>, AutogradError> {
        if self.rank() > 2 {
            // Leading dimensions are a batch: flatten them around a 2-D product.
            let dims = self.dims();
            let features = dims[dims.len() - 1];
            let rows = dims[..dims.len() - 1].iter().product();
            let y = self.try_reshape(&[rows, features])?.try_linear(weight, bias)?;
            let mut out = dims;
            *out.last_mut().expect("rank > 2") = y.dims()[1];
            return y.try_reshape(&out);
        }
        self.layer_on_my_tape(&weight, bias.as_ref(), "linear")?;
        let out = self.linear_value(weight, bias)?;
        Ok(self.tape.record(Op::Linear(self.index, weight.index, bias.map(|b| b.index)), out))
    }

    /// Elementwise maximum, broadcasting. The gradient goes to the larger
    /// operand; at a tie each gets half (as PyTorch's `torch.maximum`).
    ///
    /// # Panics
    /// As [`add`](Self::add).
    #[must_use]
    #[track_caller]
    pub fn maximum(self, other: Var<'_, T>) -> Var<'t, T> {
        self.binary(other, "maximum", Op::Maximum(self.index, other.index), |a, b| a.try_maximum(b))
    }

    /// Elementwise minimum, broadcasting; the gradient as for [`maximum`](Self::maximum).
    ///
    /// # Panics
    /// As [`add`](Self::add).
    #[must_use]
    #[track_caller]
    pub fn minimum(self, other: Var<'_, T>) -> Var<'t, T> {
        self.binary(other, "minimum", Op::Minimum(self.index, other.index), |a, b| a.try_minimum(b))
    }

    /// Elementwise `self^other`, broadcasting. `d/da = b·a^(b−1)`,
    /// `d/db = a^b·ln a` (taken as 0 where `a ≤ 0`).
    ///
    /// # Panics
    /// As [`add`](Self::add).
    #[must_use]
    #[track_caller]
    pub fn pow(self, other: Var<'_, T>) -> Var<'t, T> {
        self.binary(other, "pow", Op::Pow(self.index, other.index), |a, b| a.try_pow(b))
    }

    /// `mask ? self : other` elementwise, broadcasting all three (a non-zero
    /// mask value is true). The gradient goes to `self` where the mask holds
    /// and to `other` elsewhere; the mask is a constant.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast together, or the vars come from
    /// different tapes.
    #[must_use]
    #[track_caller]
    pub fn where_mask(self, mask: &Tensor<T>, other: Var<'_, T>) -> Var<'t, T> {
        let m = mask.clone();
        self.binary(other, "where_mask", Op::Where(self.index, other.index, Box::new(mask.clone())), move |a, b| {
            Ok(a.where_mask(&m, b))
        })
    }

    /// `log Σ exp(x)` along `axis`, stable: the maximum is taken out first
    /// (as a constant, which leaves the gradient exact: `d = softmax`).
    ///
    /// # Panics
    /// If the axis is out of range.
    #[must_use]
    #[track_caller]
    pub fn logsumexp(self, axis: isize, keepdim: bool) -> Var<'t, T> {
        let max = self.value().max_axis(axis, true).map(|v| if v.is_finite() { v } else { T::zero() });
        let lse = (self - self.tape.constant(max.clone())).exp().sum_axis(axis, keepdim).log();
        let max = if keepdim { max } else { max.reshape(lse.shape().clone()) };
        lse + self.tape.constant(max)
    }

    /// `self + s`. `d = 1`.
    #[must_use]
    pub fn add_scalar(self, s: T) -> Var<'t, T> {
        self.unary(Op::AddScalar(self.index), |a| a.add_scalar(s))
    }

    /// `self · s`. `d = s`.
    #[must_use]
    pub fn mul_scalar(self, s: T) -> Var<'t, T> {
        self.unary(Op::MulScalar(self.index, s), |a| a.mul_scalar(s))
    }

    /// `self^p`. `d = p·x^(p−1)`.
    #[must_use]
    pub fn powf(self, p: T) -> Var<'t, T> {
        self.unary(Op::PowScalar(self.index, p), |a| a.powf(p))
    }

    /// `xⁿ` for an integer `n` (as `powf(n)`). `d = n·xⁿ⁻¹`.
    #[must_use]
    pub fn powi(self, n: i32) -> Var<'t, T> {
        self.powf(T::of(f64::from(n)))
    }

    /// `x²` (as `powf(2)`). `d = 2x`.
    #[must_use]
    pub fn square(self) -> Var<'t, T> {
        self.powf(T::of(2.0))
    }

    /// `−x`. `d = −1`.
    #[must_use]
    pub fn neg(self) -> Var<'t, T> {
        self.unary(Op::Neg(self.index), |a| a.neg())
    }

    /// `eˣ`. `d = eˣ = y`.
    #[must_use]
    pub fn exp(self) -> Var<'t, T> {
        self.unary(Op::Exp(self.index), |a| a.exp())
    }

    /// `ln x`. `d = 1/x`.
    #[must_use]
    pub fn log(self) -> Var<'t, T> {
        self.unary(Op::Log(self.index), |a| a.ln())
    }

    /// `√x`. `d = 1/(2√x) = 1/(2y)`.
    #[must_use]
    pub fn sqrt(self) -> Var<'t, T> {
        self.unary(Op::Sqrt(self.index), |a| a.sqrt())
    }

    /// `|x|`. `d = sign(x)` (0 at 0, as PyTorch).
    #[must_use]
    pub fn abs(self) -> Var<'t, T> {
        self.unary(Op::Abs(self.index), |a| a.abs())
    }

    /// Natural logarithm, the same op as [`log`](Self::log) (the name
    /// `Tensor` uses). `d = 1/x`.
    #[must_use]
    pub fn ln(self) -> Var<'t, T> {
        self.log()
    }

    /// `sin x`. `d = cos x`.
    #[must_use]
    pub fn sin(self) -> Var<'t, T> {
        self.map_fn(UnaryFn::Sin)
    }

    /// `cos x`. `d = −sin x`.
    #[must_use]
    pub fn cos(self) -> Var<'t, T> {
        self.map_fn(UnaryFn::Cos)
    }

    /// `tan x`. `d = 1 + tan² x`.
    #[must_use]
    pub fn tan(self) -> Var<'t, T> {
        self.map_fn(UnaryFn::Tan)
    }

    /// `1/x`. `d = −1/x²`.
    #[must_use]
    pub fn recip(self) -> Var<'t, T> {
        self.map_fn(UnaryFn::Recip)
    }

    /// `ln(1 + x)`, accurate near 0. `d = 1/(1 + x)`.
    #[must_use]
    pub fn log1p(self) -> Var<'t, T> {
        self.map_fn(UnaryFn::Log1p)
    }

    /// `eˣ − 1`, accurate near 0. `d = eˣ`.
    #[must_use]
    pub fn expm1(self) -> Var<'t, T> {
        self.map_fn(UnaryFn::Expm1)
    }

    /// `clamp(x, lo, hi)`. `d = 1` for `lo ≤ x ≤ hi`, else 0 (PyTorch's
    /// `clamp`; [`hardtanh`](Self::hardtanh) differs only at the bounds).
    ///
    /// # Panics
    /// If `lo > hi` or either is NaN.
    #[must_use]
    #[track_caller]
    pub fn clamp(self, lo: f64, hi: f64) -> Var<'t, T> {
        assert!(lo <= hi, "clamp: lower bound {lo} is above the upper bound {hi}");
        self.map_fn(UnaryFn::Clamp(lo, hi))
    }

    /// Round toward −∞. Piecewise constant: `d = 0`.
    #[must_use]
    pub fn floor(self) -> Var<'t, T> {
        self.map_fn(UnaryFn::Floor)
    }

    /// Round toward +∞. `d = 0`.
    #[must_use]
    pub fn ceil(self) -> Var<'t, T> {
        self.map_fn(UnaryFn::Ceil)
    }

    /// Round half away from zero. `d = 0`.
    #[must_use]
    pub fn round(self) -> Var<'t, T> {
        self.map_fn(UnaryFn::Round)
    }

    /// −1, 0 or 1. `d = 0`.
    #[must_use]
    pub fn signum(self) -> Var<'t, T> {
        self.map_fn(UnaryFn::Signum)
    }

    pub(crate) fn map_fn(self, f: UnaryFn) -> Var<'t, T> {
        self.unary(Op::Map(self.index, f), |a| a.map(move |x| f.f(x)))
    }
}

macro_rules! var_operator {
    ($trait:ident, $method:ident, $scalar:expr) => {
        impl<'t, T: Float> $trait<Var<'t, T>> for Var<'t, T> {
            type Output = Var<'t, T>;
            #[track_caller]
            fn $method(self, rhs: Var<'t, T>) -> Var<'t, T> {
                Var::$method(self, rhs)
            }
        }
        impl<'t, T: Float> $trait<T> for Var<'t, T> {
            type Output = Var<'t, T>;
            fn $method(self, rhs: T) -> Var<'t, T> {
                #[allow(clippy::redundant_closure_call)]
                ($scalar)(self, rhs)
            }
        }
    };
}

var_operator!(Add, add, |v: Var<'t, T>, s: T| v.add_scalar(s));
var_operator!(Sub, sub, |v: Var<'t, T>, s: T| v.add_scalar(-s));
var_operator!(Mul, mul, |v: Var<'t, T>, s: T| v.mul_scalar(s));
var_operator!(Div, div, |v: Var<'t, T>, s: T| v.mul_scalar(T::one() / s));

impl<'t, T: Float> Neg for Var<'t, T> {
    type Output = Var<'t, T>;
    fn neg(self) -> Var<'t, T> {
        Var::neg(self)
    }
}

/// A recorded matmul's value: 2-D or 3-D operands only (what its backward handles).
fn recorded_matmul<T: Float>(a: &Tensor<T>, b: &Tensor<T>) -> Result<Tensor<T>, TensorError> {
    if !((2..=3).contains(&a.rank()) && (2..=3).contains(&b.rank())) {
        return Err(TensorError::Mismatch {
            op: "matmul",
            lhs: a.shape().clone(),
            rhs: b.shape().clone(),
            reason: "operands of a recorded matmul must be 2-D or 3-D".into(),
        });
    }
    a.try_matmul(b)
}
