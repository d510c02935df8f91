//! [`Sequential`]: modules applied one after another.

use strata_autograd::{Tape, Var};
use strata_tensor::Float;

use crate::buffer::Buffer;
use crate::diagnostics::Trace;
use crate::module::{decimal, visit_child, visit_child_buffers, visit_child_buffers_mut, visit_child_mut, Module};
use crate::param::Param;

/// Modules applied in order; child `i`'s parameters are named `i.weight`, … as
/// in PyTorch's `nn.Sequential`.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use strata_autograd::Activation;
/// use strata_nn::{LayerNorm, Linear, Module, Sequential};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let net = Sequential::<f32>::new()
///     .push(Linear::new(4, 16, &mut rng))
///     .push(LayerNorm::new(16))
///     .push(Activation::GELU)
///     .push(Linear::new(16, 2, &mut rng));
/// let names: Vec<String> = net.named_params().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]);
/// ```
#[derive(Default)]
pub struct Sequential<T: Float = f32> {
    layers: Vec<Box<dyn Module<T>>>,
}

impl<T: Float> Sequential<T> {
    /// An empty stack (the identity).
    #[must_use]
    pub fn new() -> Self {
        Sequential { layers: Vec::new() }
    }

    /// Appends a module.
    #[must_use]
    pub fn push(mut self, layer: impl Module<T> + 'static) -> Self {
        self.layers.push(Box::new(layer));
        self
    }

    /// Number of modules.
    #[must_use]
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True if there are no modules.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The modules, in order.
    #[must_use]
    pub fn layers(&self) -> &[Box<dyn Module<T>>] {
        &self.layers
    }
}

impl<T: Float> Module<T> for Sequential<T> {
    fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        self.layers.iter().fold(x, |h, layer| layer.forward(tape, h))
    }

    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param<T>)) {
        for (i, layer) in self.layers.iter().enumerate() {
            decimal(i, |i| visit_child(i, layer.as_ref(), f));
        }
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param<T>)) {
        for (i, layer) in self.layers.iter_mut().enumerate() {
            decimal(i, |i| visit_child_mut(i, layer.as_mut(), f));
        }
    }

    fn params(&self, f: &mut dyn FnMut(&Param<T>)) {
        self.layers.iter().for_each(|layer| layer.params(f));
    }

    fn params_mut(&mut self, f: &mut dyn FnMut(&mut Param<T>)) {
        self.layers.iter_mut().for_each(|layer| layer.params_mut(f));
    }

    fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Buffer<T>)) {
        for (i, layer) in self.layers.iter().enumerate() {
            decimal(i, |i| visit_child_buffers(i, layer.as_ref(), f));
        }
    }

    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(&str, &mut Buffer<T>)) {
        for (i, layer) in self.layers.iter_mut().enumerate() {
            decimal(i, |i| visit_child_buffers_mut(i, layer.as_mut(), f));
        }
    }

    fn describe(&self) -> String {
        format!("Sequential({} layers)", self.layers.len())
    }

    fn architecture(&self) -> String {
        let layers: Vec<String> = self.layers.iter().map(|l| l.architecture()).collect();
        format!("Sequential({})", layers.join(", "))
    }

    fn forward_traced<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>, trace: &mut Trace<'t, T>) -> Var<'t, T> {
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            h = trace.scoped(&i.to_string(), |t| layer.forward_traced(tape, h, t));
        }
        h
    }

    fn set_training(&mut self, training: bool) {
        self.layers.iter_mut().for_each(|l| l.set_training(training));
    }
}
