//! [`LayerNorm`]: normalises each sample's features to mean 0 and variance 1.

use strata_autograd::{Tape, Var};
use strata_tensor::{Float, Tensor};

use crate::module::Module;
use crate::param::{Param, ParamTape};

/// `y = (x − mean) / √(var + eps) · weight + bias` over the last axis (Ba et
/// al., 2016), with the biased variance and `eps = 1e-5`, as PyTorch's
/// `nn.LayerNorm(dim)`; `weight` starts at ones and `bias` at zeros.
///
/// Built from primitive ops, so its gradient comes from theirs.
///
/// ```
/// use strata_autograd::Tape;
/// use strata_nn::{LayerNorm, Module};
/// use strata_tensor::Tensor;
///
/// let ln = LayerNorm::<f64>::new_typed(4);
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], [1, 4]).unwrap());
/// let y = ln.forward(&tape, x).value();
/// assert!(y.mean_all().abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct LayerNorm<T: Float = f32> {
    /// Per-feature scale, `(dim)`.
    pub weight: Param<T>,
    /// Per-feature shift, `(dim)`.
    pub bias: Param<T>,
    /// Added to the variance.
    pub eps: f64,
}

/// `f32` by default, as the other layers' constructors are.
impl LayerNorm<f32> {
    /// Normalisation over a last axis of length `dim`.
    #[must_use]
    pub fn new(dim: usize) -> Self {
        Self::new_typed(dim)
    }
}

impl<T: Float> LayerNorm<T> {
    /// [`LayerNorm::new`] for any float type.
    #[must_use]
    pub fn new_typed(dim: usize) -> Self {
        LayerNorm { weight: Param::new(Tensor::ones([dim])), bias: Param::new(Tensor::zeros([dim])), eps: 1e-5 }
    }
}

impl<T: Float> Module<T> for LayerNorm<T> {
    fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        let centred = x - x.mean_axis(-1, true);
        let var = centred.square().mean_axis(-1, true);
        let normed = centred / var.add_scalar(T::of(self.eps)).sqrt();
        normed * tape.param(&self.weight) + tape.param(&self.bias)
    }

    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param<T>)) {
        f("weight", &self.weight);
        f("bias", &self.bias);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param<T>)) {
        f("weight", &mut self.weight);
        f("bias", &mut self.bias);
    }

    fn describe(&self) -> String {
        format!("LayerNorm({})", self.weight.numel())
    }
}
