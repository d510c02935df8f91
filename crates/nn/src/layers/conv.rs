//! [`Conv2d`]: a convolutional layer, PyTorch's `nn.Conv2d`.

use rand::Rng;
use strata_autograd::{Tape, Var};
use strata_tensor::{ConvParams, Float};

use crate::init::{Dist, Init};
use crate::module::Module;
use crate::param::{Param, ParamTape};

/// `y = conv2d(x, W) + b` on `(N, C_in, H, W)` inputs, with the weight
/// `(C_out, C_in/groups, kH, kW)` and bias `(C_out)` named `weight` and
/// `bias` as in PyTorch's state dicts, and PyTorch's default init: both
/// uniform on `±1/√fan_in` with `fan_in = C_in/groups · kH · kW` (its
/// `kaiming_uniform_(a = √5)`).
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use strata_autograd::Tape;
/// use strata_nn::{Conv2d, Module};
/// use strata_tensor::{ConvParams, Tensor};
///
/// let conv = Conv2d::new(1, 8, 3, ConvParams::default().padding(1), &mut StdRng::seed_from_u64(0));
/// let tape = Tape::new();
/// let y = conv.forward(&tape, tape.constant(Tensor::zeros([2, 1, 28, 28])));
/// assert_eq!(y.dims(), [2, 8, 28, 28]);
/// assert_eq!(conv.num_params(), 8 * 9 + 8);
/// ```
#[derive(Clone, Debug)]
pub struct Conv2d<T: Float = f32> {
    /// `(C_out, C_in/groups, kH, kW)`.
    pub weight: Param<T>,
    /// `(C_out)`, if the layer has one.
    pub bias: Option<Param<T>>,
    /// Stride, padding, dilation and groups.
    pub params: ConvParams,
}

/// `f32` by default, as the other layers' constructors are.
impl Conv2d<f32> {
    /// `in_channels → out_channels` with a square `kernel`, PyTorch's init.
    ///
    /// # Panics
    /// If the channels do not split into `params.groups`.
    #[track_caller]
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize, params: ConvParams, rng: &mut impl Rng) -> Self {
        Self::new_typed(in_channels, out_channels, kernel, params, rng)
    }
}

impl<T: Float> Conv2d<T> {
    /// [`Conv2d::new`] for any float type.
    ///
    /// # Panics
    /// If the channels do not split into `params.groups`.
    #[track_caller]
    pub fn new_typed(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        params: ConvParams,
        rng: &mut impl Rng,
    ) -> Self {
        let g = params.groups;
        assert!(
            g > 0 && in_channels.is_multiple_of(g) && out_channels.is_multiple_of(g),
            "Conv2d: {in_channels} → {out_channels} channels do not split into {g} groups"
        );
        let shape = [out_channels, in_channels / g, kernel, kernel];
        let weight = Init::He(Dist::Uniform, (1.0f64 / 3.0).sqrt()).tensor(shape, rng);
        let bound = 1.0 / ((in_channels / g * kernel * kernel) as f64).sqrt();
        let bias = Init::Uniform(-bound, bound).tensor([out_channels], rng);
        Conv2d { weight: Param::new(weight), bias: Some(Param::new(bias)), params }
    }

    /// `(C_in, C_out, kH, kW)` of the layer.
    #[must_use]
    pub fn sizes(&self) -> [usize; 4] {
        let d = self.weight.value().dims();
        [d[1] * self.params.groups, d[0], d[2], d[3]]
    }
}

impl<T: Float> Module<T> for Conv2d<T> {
    /// # Panics
    /// If `x` does not fit the layer; the message names it.
    #[track_caller]
    fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        let w = tape.param(&self.weight);
        let b = self.bias.as_ref().map(|b| tape.param(b));
        match x.try_conv2d(w, b, self.params) {
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

    fn describe(&self) -> String {
        let [i, o, kh, kw] = self.sizes();
        format!("Conv2d({i} → {o}, {kh}×{kw})")
    }

    fn architecture(&self) -> String {
        let [i, o, kh, kw] = self.sizes();
        let p = self.params;
        let bias = if self.bias.is_some() { "" } else { ", no bias" };
        format!(
            "Conv2d({i} → {o}, {kh}×{kw}, stride {:?}, padding {:?}, dilation {:?}, groups {}{bias})",
            p.stride, p.padding, p.dilation, p.groups
        )
    }
}
