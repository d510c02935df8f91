//! Every [`Activation`] is also a parameter-free layer, for [`Sequential`](crate::Sequential).

use strata_autograd::{Activation, Tape, Var};
use strata_tensor::Float;

use crate::diagnostics::{LayerTrace, Trace};
use crate::module::Module;
use crate::param::Param;

/// `Sequential::new().push(Linear::new(..)).push(Activation::Relu)` works as
/// `nn.Sequential(nn.Linear(..), nn.ReLU())` does.
impl<T: Float> Module<T> for Activation {
    fn forward<'t>(&self, _tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        x.activation(*self)
    }

    fn visit_params(&self, _f: &mut dyn FnMut(&str, &Param<T>)) {}

    fn visit_params_mut(&mut self, _f: &mut dyn FnMut(&str, &mut Param<T>)) {}

    fn describe(&self) -> String {
        self.name().to_string()
    }

    fn architecture(&self) -> String {
        self.spec()
    }

    fn forward_traced<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>, trace: &mut Trace<'t, T>) -> Var<'t, T> {
        let y = self.forward(tape, x);
        let mut layer = LayerTrace::new(Module::<T>::describe(self), y, 0);
        layer.activation = Some(*self);
        layer.pre_activation = Some(x);
        trace.record(layer);
        y
    }
}
