//! Activations on vars. Formulas and derivatives are in [`Activation`].

use strata_tensor::{Float, Tensor};

use crate::activation::{with_variant, Activation, GeluApprox};
use crate::op::Op;
use crate::var::Var;

/// `act` applied to `t` in place, with the kernels [`Var::activation`]
/// uses (the vectorised tanh; one loop per variant otherwise).
pub(crate) fn activate_in_place<T: Float>(t: &mut Tensor<T>, act: Activation) {
    if act == Activation::Tanh {
        t.tanh_in_place();
    } else {
        with_variant!(act, |a| t.map_in_place(move |x| a.f(x)));
    }
}

impl<'t, T: Float> Var<'t, T> {
    /// Applies an activation elementwise.
    #[must_use]
    pub fn activation(self, act: Activation) -> Var<'t, T> {
        if act == Activation::Identity {
            return self;
        }
        if act == Activation::Tanh {
            // The tensor op runs a vectorised f32 kernel (same values as `f`).
            return self.unary(Op::Act(self.index, act), |t| t.tanh());
        }
        self.unary(Op::Act(self.index, act), |t| with_variant!(act, |a| t.map(move |x| a.f(x))))
    }

    /// `max(x, 0)`.
    #[must_use]
    pub fn relu(self) -> Var<'t, T> {
        self.activation(Activation::Relu)
    }

    /// Leaky ReLU with the given negative slope (PyTorch's default is 0.01).
    #[must_use]
    pub fn leaky_relu(self, slope: f64) -> Var<'t, T> {
        self.activation(Activation::LeakyRelu(slope))
    }

    /// ELU with the given α (PyTorch's default is 1).
    #[must_use]
    pub fn elu(self, alpha: f64) -> Var<'t, T> {
        self.activation(Activation::Elu(alpha))
    }

    /// SELU with the self-normalising constants.
    #[must_use]
    pub fn selu(self) -> Var<'t, T> {
        self.activation(Activation::Selu)
    }

    /// Logistic sigmoid (stable at large |x|).
    #[must_use]
    pub fn sigmoid(self) -> Var<'t, T> {
        self.activation(Activation::Sigmoid)
    }

    /// Hyperbolic tangent.
    #[must_use]
    pub fn tanh(self) -> Var<'t, T> {
        self.activation(Activation::Tanh)
    }

    /// SiLU, `x·σ(x)` (swish with β = 1, PyTorch's `F.silu`).
    #[must_use]
    pub fn silu(self) -> Var<'t, T> {
        self.activation(Activation::SILU)
    }

    /// Swish with parameter β, `x·σ(βx)` (β = 1 is [`silu`](Self::silu)).
    #[must_use]
    pub fn swish(self, beta: f64) -> Var<'t, T> {
        self.activation(Activation::Silu(beta))
    }

    /// Mish, `x·tanh(softplus(x))`.
    #[must_use]
    pub fn mish(self) -> Var<'t, T> {
        self.activation(Activation::Mish)
    }

    /// Exact GELU, `x·Φ(x)` (PyTorch's `F.gelu` default).
    #[must_use]
    pub fn gelu(self) -> Var<'t, T> {
        self.activation(Activation::GELU)
    }

    /// GELU with the given approximation of `Φ` (PyTorch's `approximate=`).
    #[must_use]
    pub fn gelu_with(self, approx: GeluApprox) -> Var<'t, T> {
        self.activation(Activation::Gelu(approx))
    }

    /// GELU's tanh approximation (`gelu_with(GeluApprox::Tanh)`).
    #[must_use]
    pub fn gelu_tanh(self) -> Var<'t, T> {
        self.activation(Activation::GELU_TANH)
    }

    /// `ln(1 + eˣ)` (stable at large |x|).
    #[must_use]
    pub fn softplus(self) -> Var<'t, T> {
        self.activation(Activation::SOFTPLUS)
    }

    /// `ln(1 + e^(βx)) / β` (PyTorch's `F.softplus(x, beta)`; stable at large |x|).
    #[must_use]
    pub fn softplus_beta(self, beta: f64) -> Var<'t, T> {
        self.activation(Activation::Softplus(beta))
    }

    /// `clamp(x, min, max)` (PyTorch's default is (−1, 1)).
    #[must_use]
    pub fn hardtanh(self, min: f64, max: f64) -> Var<'t, T> {
        self.activation(Activation::Hardtanh(min, max))
    }
}
