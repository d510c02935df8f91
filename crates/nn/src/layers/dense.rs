//! [`Dense`]: a hidden layer, `activation(W·x + b)`.

use rand::Rng;
use strata_autograd::{Activation, AutogradError, Tape, Var};
use strata_tensor::Float;

use crate::diagnostics::{LayerTrace, Trace};
use crate::init::Init;
use crate::layers::linear::Linear;
use crate::module::Module;
use crate::param::Param;

/// A hidden layer: `activation(x·Wᵀ + b)`, the learned feature extractor
/// Strata is built around.
///
/// Two recorded ops: the affine map (bias in the matmul's write-out) and one
/// pass for the activation. Its parameters are named `weight` and `bias`
/// directly, so an [`Mlp`](crate::Mlp)'s state dict reads `layers.0.weight`.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use strata_autograd::Activation;
/// use strata_nn::{Dense, Init};
///
/// let layer = Dense::new(64, 128, Activation::Relu, &mut StdRng::seed_from_u64(0));
/// assert_eq!(layer.linear.init, Some(Init::for_activation(Activation::Relu)));   // He for ReLU
/// ```
#[derive(Clone, Debug)]
pub struct Dense<T: Float = f32> {
    /// The affine part.
    pub linear: Linear<T>,
    /// The nonlinearity applied to it.
    pub activation: Activation,
}

/// `f32` constructors, so the common case needs no type annotation; the
/// `_typed` forms build any float type (`Dense::<f64>::new_typed(..)`).
impl Dense<f32> {
    /// `in_features → out_features` with the initialiser that fits `activation`
    /// ([`Init::for_activation`]) and zero bias.
    pub fn new(in_features: usize, out_features: usize, activation: Activation, rng: &mut impl Rng) -> Self {
        Self::new_typed(in_features, out_features, activation, rng)
    }

    /// [`new`](Self::new) with a chosen initialiser.
    pub fn with_init(
        in_features: usize,
        out_features: usize,
        activation: Activation,
        init: Init,
        rng: &mut impl Rng,
    ) -> Self {
        Self::with_init_typed(in_features, out_features, activation, init, rng)
    }
}

impl<T: Float> Dense<T> {
    /// [`Dense::new`] for any float type.
    pub fn new_typed(in_features: usize, out_features: usize, activation: Activation, rng: &mut impl Rng) -> Self {
        Self::with_init_typed(in_features, out_features, activation, Init::for_activation(activation), rng)
    }

    /// [`Dense::with_init`] for any float type.
    pub fn with_init_typed(
        in_features: usize,
        out_features: usize,
        activation: Activation,
        init: Init,
        rng: &mut impl Rng,
    ) -> Self {
        Dense { linear: Linear::with_init_typed(in_features, out_features, init, rng), activation }
    }
}

impl<T: Float> Dense<T> {
    /// The forward pass, or why `x` does not fit the layer.
    pub(crate) fn try_forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Result<Var<'t, T>, AutogradError> {
        if self.activation == Activation::Identity {
            return self.linear.try_affine(tape, x);
        }
        // One node where the activation allows (its pre-activation is then
        // not kept; `forward_traced` records both for diagnostics).
        self.linear.try_affine_act(tape, x, self.activation)
    }
}

impl<T: Float> Module<T> for Dense<T> {
    /// # Panics
    /// If `x`'s last dimension is not the layer's input width; the message
    /// names the layer, and the location is the caller's.
    #[track_caller]
    fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        match self.try_forward(tape, x) {
            Ok(y) => y,
            Err(e) => panic!("{}: {e}", self.describe()),
        }
    }

    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param<T>)) {
        self.linear.visit_params(f);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param<T>)) {
        self.linear.visit_params_mut(f);
    }

    fn params(&self, f: &mut dyn FnMut(&Param<T>)) {
        self.linear.params(f);
    }

    fn params_mut(&mut self, f: &mut dyn FnMut(&mut Param<T>)) {
        self.linear.params_mut(f);
    }

    fn describe(&self) -> String {
        format!("Dense({} → {}, {})", self.linear.in_features(), self.linear.out_features(), self.activation.name())
    }

    fn architecture(&self) -> String {
        let (i, o) = (self.linear.in_features(), self.linear.out_features());
        let bias = if self.linear.bias.is_some() { "" } else { ", no bias" };
        format!("Dense({i} → {o}, {}{bias})", self.activation.spec())
    }

    #[track_caller]
    fn forward_traced<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>, trace: &mut Trace<'t, T>) -> Var<'t, T> {
        let z = match self.linear.try_affine(tape, x) {
            Ok(z) => z,
            Err(e) => panic!("{}: {e}", self.describe()),
        };
        let y = if self.activation == Activation::Identity { z } else { z.activation(self.activation) };
        let mut layer = LayerTrace::new(self.describe(), y, self.num_params());
        layer.activation = Some(self.activation);
        layer.pre_activation = Some(z);
        layer.init = self.linear.init;
        layer.weights = vec![self.linear.weight.clone()];
        trace.record(layer);
        y
    }
}
