//! [`Linear`]: `y = x·Wᵀ + b`, with PyTorch's `(out, in)` weight layout.

use rand::Rng;
use strata_autograd::{Activation, AutogradError, Tape, Var};
use strata_tensor::{Float, Tensor};

use crate::diagnostics::{LayerTrace, Trace};
use crate::init::Init;
use crate::module::Module;
use crate::param::{Param, ParamTape};

/// A fully connected layer without an activation: `y = x·Wᵀ + b`.
///
/// The weight is `(out, in)` and the bias `(out)`, as in PyTorch's
/// `nn.Linear`, so state dicts move between the two unchanged. The bias is
/// added in the matmul's write-out (one recorded op, one pass over memory).
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use strata_autograd::Tape;
/// use strata_nn::{Linear, Module};
/// use strata_tensor::Tensor;
///
/// let layer = Linear::new(3, 2, &mut StdRng::seed_from_u64(0));
/// assert_eq!(layer.weight.value().dims(), &[2, 3]);
/// let tape = Tape::new();
/// let y = layer.forward(&tape, tape.constant(Tensor::ones([5, 3])));
/// assert_eq!(y.dims(), vec![5, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct Linear<T: Float = f32> {
    /// `(out, in)`.
    pub weight: Param<T>,
    /// `(out)`, if the layer has one.
    pub bias: Option<Param<T>>,
    /// How the weight was drawn, if this crate drew it (diagnostics flag a
    /// mismatch with the activation, such as ReLU after Xavier).
    pub init: Option<Init>,
}

/// `f32` constructors, so the common case needs no type annotation
/// (`Linear::new(64, 128, &mut rng)`); the `_typed` forms build any float
/// type (`Linear::<f64>::new_typed(..)`, for gradient checks).
impl Linear<f32> {
    /// `in_features → out_features`, Xavier-uniform weight (the default for a
    /// layer with no activation) and zero bias.
    pub fn new(in_features: usize, out_features: usize, rng: &mut impl Rng) -> Self {
        Self::new_typed(in_features, out_features, rng)
    }

    /// [`new`](Self::new) with a chosen weight initialiser.
    pub fn with_init(in_features: usize, out_features: usize, init: Init, rng: &mut impl Rng) -> Self {
        Self::with_init_typed(in_features, out_features, init, rng)
    }
}

impl<T: Float> Linear<T> {
    /// [`Linear::new`] for any float type.
    pub fn new_typed(in_features: usize, out_features: usize, rng: &mut impl Rng) -> Self {
        Self::with_init_typed(in_features, out_features, Init::for_activation(Activation::Identity), rng)
    }

    /// [`Linear::with_init`] for any float type.
    pub fn with_init_typed(in_features: usize, out_features: usize, init: Init, rng: &mut impl Rng) -> Self {
        Linear {
            weight: Param::new(init.tensor([out_features, in_features], rng)),
            bias: Some(Param::new(Tensor::zeros([out_features]))),
            init: Some(init),
        }
    }

    /// A layer from given tensors.
    ///
    /// # Panics
    /// If `weight` is not 2-D or `bias` is not `[out]`.
    #[must_use]
    #[track_caller]
    pub fn from_tensors(weight: Tensor<T>, bias: Option<Tensor<T>>) -> Self {
        assert!(weight.rank() == 2, "Linear::from_tensors: weight must be (out, in), got {:?}", weight.shape());
        if let Some(b) = &bias {
            assert!(
                b.dims() == [weight.dims()[0]],
                "Linear::from_tensors: bias {:?} does not fit weight {:?}",
                b.shape(),
                weight.shape()
            );
        }
        Linear { weight: Param::new(weight), bias: bias.map(Param::new), init: None }
    }

    /// Drops the bias (`y = x·Wᵀ`).
    #[must_use]
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }

    /// Input features.
    #[must_use]
    pub fn in_features(&self) -> usize {
        self.weight.value().dims()[1]
    }

    /// Output features.
    #[must_use]
    pub fn out_features(&self) -> usize {
        self.weight.value().dims()[0]
    }

    /// Records `x·Wᵀ + b`, or says why the shapes do not fit.
    pub(crate) fn try_affine<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Result<Var<'t, T>, AutogradError> {
        let w = tape.param(&self.weight);
        let b = self.bias.as_ref().map(|b| tape.param(b));
        x.try_linear(w, b)
    }

    /// Records `act(x·Wᵀ + b)` as one op where the activation allows it
    /// ([`Var::try_linear_act`]), or says why the shapes do not fit.
    pub(crate) fn try_affine_act<'t>(
        &self,
        tape: &'t Tape<T>,
        x: Var<'t, T>,
        act: strata_autograd::Activation,
    ) -> Result<Var<'t, T>, AutogradError> {
        let w = tape.param(&self.weight);
        let b = self.bias.as_ref().map(|b| tape.param(b));
        x.try_linear_act(w, b, act)
    }
}

impl<T: Float> Module<T> for Linear<T> {
    /// # Panics
    /// If `x`'s last dimension is not `in_features`; the message names the
    /// layer, and the location is the caller's.
    #[track_caller]
    fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        match self.try_affine(tape, x) {
            Ok(y) => y,
            Err(e) => panic!("{}: {e}", self.describe()),
        }
    }

    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param<T>)) {
        f("weight", &self.weight);
        if let Some(b) = &self.bias {
            f("bias", b);
        }
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param<T>)) {
        f("weight", &mut self.weight);
        if let Some(b) = &mut self.bias {
            f("bias", b);
        }
    }

    fn params(&self, f: &mut dyn FnMut(&Param<T>)) {
        f(&self.weight);
        if let Some(b) = &self.bias {
            f(b);
        }
    }

    fn params_mut(&mut self, f: &mut dyn FnMut(&mut Param<T>)) {
        f(&mut self.weight);
        if let Some(b) = &mut self.bias {
            f(b);
        }
    }

    fn describe(&self) -> String {
        format!("Linear({} → {})", self.in_features(), self.out_features())
    }

    fn architecture(&self) -> String {
        let bias = if self.bias.is_some() { "" } else { ", no bias" };
        format!("Linear({} → {}{bias})", self.in_features(), self.out_features())
    }

    fn forward_traced<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>, trace: &mut Trace<'t, T>) -> Var<'t, T> {
        let y = self.forward(tape, x);
        let mut layer = LayerTrace::new(self.describe(), y, self.num_params());
        layer.init = self.init;
        layer.weights = vec![self.weight.clone()];
        trace.record(layer);
        y
    }
}
