//! Parameter-free image layers: [`MaxPool2d`], [`AvgPool2d`], [`Flatten`].

use strata_autograd::{Tape, Var};
use strata_tensor::{Float, Pool2d};

use crate::module::Module;
use crate::param::Param;

/// Max pooling (PyTorch's `nn.MaxPool2d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2d(pub Pool2d);

/// Average pooling with padding counted (PyTorch's `nn.AvgPool2d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2d(pub Pool2d);

/// `(N, d₁, d₂, …) → (N, d₁·d₂·…)` (PyTorch's `nn.Flatten`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flatten;

macro_rules! stateless {
    ($ty:ty, |$s:ident, $x:ident| $forward:expr, |$d:ident| $describe:expr) => {
        impl<T: Float> Module<T> for $ty {
            #[track_caller]
            fn forward<'t>(&self, _tape: &'t Tape<T>, $x: Var<'t, T>) -> Var<'t, T> {
                let $s = self;
                $forward
            }
            fn visit_params(&self, _f: &mut dyn FnMut(&str, &Param<T>)) {}
            fn visit_params_mut(&mut self, _f: &mut dyn FnMut(&str, &mut Param<T>)) {}
            fn describe(&self) -> String {
                let $d = self;
                $describe
            }
        }
    };
}

stateless!(MaxPool2d, |s, x| x.max_pool2d(s.0), |d| format!(
    "MaxPool2d({}×{}, stride {:?}, padding {:?})",
    d.0.kernel[0], d.0.kernel[1], d.0.stride, d.0.padding
));
stateless!(AvgPool2d, |s, x| x.avg_pool2d(s.0), |d| format!(
    "AvgPool2d({}×{}, stride {:?}, padding {:?})",
    d.0.kernel[0], d.0.kernel[1], d.0.stride, d.0.padding
));
stateless!(Flatten, |_s, x| x.flatten(), |_d| "Flatten".to_string());
