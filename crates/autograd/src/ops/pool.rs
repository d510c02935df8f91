//! Pooling and flattening on vars.

use std::sync::Arc;

use strata_tensor::{Float, OrPanic, Pool2d};

use crate::error::AutogradError;
use crate::op::Op;
use crate::var::Var;

impl<'t, T: Float> Var<'t, T> {
    /// Max pooling of an `(N, C, H, W)` var (see `Tensor::try_max_pool2d`).
    /// The gradient goes to the element each window took (the first of
    /// equal maxima), as in PyTorch.
    ///
    /// # Panics
    /// If the var is not 4-D or the window does not fit.
    #[must_use]
    #[track_caller]
    pub fn max_pool2d(self, pool: Pool2d) -> Var<'t, T> {
        self.try_max_pool2d(pool).or_panic()
    }

    /// [`max_pool2d`](Self::max_pool2d) that returns an error instead of panicking.
    ///
    /// # Errors
    /// [`AutogradError::Tensor`] naming the op.
    pub fn try_max_pool2d(self, pool: Pool2d) -> Result<Var<'t, T>, AutogradError> {
        let (out, taken) = self.tape.nodes.borrow().values[self.index].try_max_pool2d(pool)?;
        Ok(self.tape.record(Op::MaxPool2d(self.index, Arc::new(taken)), out))
    }

    /// Average pooling of an `(N, C, H, W)` var, padding counted as zeros
    /// (PyTorch's `count_include_pad = true`). `d = 1/(kH·kW)` for each
    /// window element.
    ///
    /// # Panics
    /// If the var is not 4-D or the window does not fit.
    #[must_use]
    #[track_caller]
    pub fn avg_pool2d(self, pool: Pool2d) -> Var<'t, T> {
        self.try_avg_pool2d(pool).or_panic()
    }

    /// [`avg_pool2d`](Self::avg_pool2d) that returns an error instead of panicking.
    ///
    /// # Errors
    /// [`AutogradError::Tensor`] naming the op.
    pub fn try_avg_pool2d(self, pool: Pool2d) -> Result<Var<'t, T>, AutogradError> {
        let out = self.tape.nodes.borrow().values[self.index].try_avg_pool2d(pool)?;
        Ok(self.tape.record(Op::AvgPool2d(Box::new((self.index, pool))), out))
    }

    /// The mean of each `(N, C)` plane: adaptive average pooling to 1×1,
    /// `(N, C, H, W) → (N, C, 1, 1)`, built from two axis means.
    ///
    /// # Panics
    /// If the var is not 4-D.
    #[must_use]
    #[track_caller]
    pub fn adaptive_avg_pool2d_1x1(self) -> Var<'t, T> {
        let dims = self.dims();
        assert!(dims.len() == 4, "adaptive_avg_pool2d: input must be (N, C, H, W), got {dims:?}");
        self.mean_axis(3, true).mean_axis(2, true)
    }

    /// `(N, d₁, d₂, …) → (N, d₁·d₂·…)`: what sits between a convolutional
    /// stack and a dense head. The gradient is reshaped back.
    ///
    /// # Panics
    /// If the var is 0-dimensional.
    #[must_use]
    #[track_caller]
    pub fn flatten(self) -> Var<'t, T> {
        let dims = self.dims();
        assert!(!dims.is_empty(), "flatten: a 0-dimensional var has no batch axis");
        self.reshape(&[dims[0], dims[1..].iter().product()])
    }
}
