//! Convolution on vars.

use strata_tensor::{ConvParams, Float, OrPanic};

use crate::error::AutogradError;
use crate::op::Op;
use crate::var::Var;

impl<'t, T: Float> Var<'t, T> {
    /// 2-D convolution of an `(N, C_in, H, W)` input with a
    /// `(C_out, C_in/groups, kH, kW)` weight and an optional `(C_out)` bias
    /// (see `Tensor::conv2d`). `dX` is the transposed convolution of the
    /// output gradient, `dW = Σ_n dY · colsᵀ`, `db = Σ_{n,h,w} dY`.
    ///
    /// # Panics
    /// If the shapes do not fit (the message names `conv2d` and both
    /// shapes), or the vars come from different tapes.
    #[must_use]
    #[track_caller]
    pub fn conv2d(self, weight: Var<'_, T>, bias: Option<Var<'_, T>>, p: ConvParams) -> Var<'t, T> {
        self.try_conv2d(weight, bias, p).or_panic()
    }

    /// [`conv2d`](Self::conv2d) that returns an error instead of panicking.
    ///
    /// # Errors
    /// [`AutogradError::Tensor`] if the shapes do not fit,
    /// [`AutogradError::DifferentTapes`] if the vars come from different tapes.
    pub fn try_conv2d(
        self,
        weight: Var<'_, T>,
        bias: Option<Var<'_, T>>,
        p: ConvParams,
    ) -> Result<Var<'t, T>, AutogradError> {
        self.layer_on_my_tape(&weight, bias.as_ref(), "conv2d")?;
        let out = {
            let nodes = self.tape.nodes.borrow();
            let b = bias.map(|b| &nodes.values[b.index]);
            nodes.values[self.index].try_conv2d(&nodes.values[weight.index], b, p)?
        };
        let op = Op::Conv2d(Box::new((self.index, weight.index, bias.map(|b| b.index), p)));
        Ok(self.tape.record(op, out))
    }
}
