//! 2-D max and average pooling in NCHW, as PyTorch's `max_pool2d` and
//! `avg_pool2d` (with its default `count_include_pad = true`), and their
//! backward products. Max pooling also returns, per output, the flat index
//! of the input element it took, which is where its gradient goes.

use crate::error::TensorError;
use crate::float::Float;
use crate::tensor::Tensor;

/// A pooling window: size, stride and zero padding, each `(rows, columns)`.
/// PyTorch's default stride is the kernel size ([`Pool2d::new`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pool2d {
    /// Window size.
    pub kernel: [usize; 2],
    /// Step between windows.
    pub stride: [usize; 2],
    /// Padding on each side (at most half the window, as PyTorch requires).
    pub padding: [usize; 2],
}

impl Pool2d {
    /// A square `k × k` window with stride `k` and no padding.
    #[must_use]
    pub fn new(k: usize) -> Self {
        Pool2d { kernel: [k, k], stride: [k, k], padding: [0, 0] }
    }

    /// Square stride.
    #[must_use]
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = [s, s];
        self
    }

    /// Square padding.
    #[must_use]
    pub fn padding(mut self, p: usize) -> Self {
        self.padding = [p, p];
        self
    }

    /// `(N, C, H_out, W_out)` for an input of `dims`, checked.
    fn out_dims(&self, op: &'static str, dims: &[usize]) -> Result<[usize; 6], TensorError> {
        let bad = |reason: String| TensorError::Invalid { op, reason };
        let Ok([n, c, h, w]) = <[usize; 4]>::try_from(dims) else {
            return Err(bad(format!("input must be (N, C, H, W), got {dims:?}")));
        };
        let [kh, kw] = self.kernel;
        if kh == 0 || kw == 0 || self.stride.contains(&0) {
            return Err(bad(format!("kernel and stride must be positive ({self:?})")));
        }
        if 2 * self.padding[0] > kh || 2 * self.padding[1] > kw {
            return Err(bad(format!("padding {:?} is more than half the window {:?}", self.padding, self.kernel)));
        }
        let (ph, pw) = (h + 2 * self.padding[0], w + 2 * self.padding[1]);
        if kh > ph || kw > pw {
            return Err(bad(format!("the window {kh}×{kw} does not fit the padded input {ph}×{pw} of {dims:?}")));
        }
        Ok([n, c, h, w, (ph - kh) / self.stride[0] + 1, (pw - kw) / self.stride[1] + 1])
    }

    /// Calls `f(plane offset, output index, window rows, window columns)`
    /// for each output element, the window clipped to the image.
    fn for_each_window(
        &self,
        d: [usize; 6],
        mut f: impl FnMut(usize, usize, std::ops::Range<usize>, std::ops::Range<usize>),
    ) {
        let [n, c, h, w, ho, wo] = d;
        for plane in 0..n * c {
            for oh in 0..ho {
                let top = oh * self.stride[0];
                let rows =
                    top.saturating_sub(self.padding[0])..(top + self.kernel[0]).saturating_sub(self.padding[0]).min(h);
                for ow in 0..wo {
                    let left = ow * self.stride[1];
                    let cols = left.saturating_sub(self.padding[1])
                        ..(left + self.kernel[1]).saturating_sub(self.padding[1]).min(w);
                    f(plane * h * w, (plane * ho + oh) * wo + ow, rows.clone(), cols);
                }
            }
        }
    }
}

impl<T: Float> Tensor<T> {
    /// Max pooling of an `(N, C, H, W)` input: the output and, per output
    /// element, the flat index of the input element it took (its gradient's
    /// destination). Padding never wins (it is −∞, as in PyTorch); NaN
    /// propagates.
    ///
    /// ```
    /// use strata_tensor::{Pool2d, Tensor};
    /// let x = Tensor::<f32>::from_vec((0..16).map(|v| v as f32).collect(), [1, 1, 4, 4]).unwrap();
    /// let (y, idx) = x.try_max_pool2d(Pool2d::new(2)).unwrap();
    /// assert_eq!(y.to_vec(), [5.0, 7.0, 13.0, 15.0]);
    /// assert_eq!(idx, [5, 7, 13, 15]);
    /// ```
    ///
    /// # Errors
    /// [`TensorError::Invalid`] for an input that is not 4-D or a window
    /// that does not fit.
    pub fn try_max_pool2d(&self, pool: Pool2d) -> Result<(Tensor<T>, Vec<usize>), TensorError> {
        let d = pool.out_dims("max_pool2d", self.dims())?;
        let x = self.contiguous_data();
        let w = d[3];
        let mut out = vec![T::zero(); d[0] * d[1] * d[4] * d[5]];
        let mut arg = vec![0usize; out.len()];
        pool.for_each_window(d, |base, o, rows, cols| {
            let mut best = (T::neg_infinity(), base + rows.start * w + cols.start);
            'window: for r in rows {
                for c in cols.clone() {
                    let i = base + r * w + c;
                    if x[i].is_nan() {
                        best = (x[i], i);
                        break 'window;
                    }
                    if x[i] > best.0 {
                        best = (x[i], i);
                    }
                }
            }
            (out[o], arg[o]) = best;
        });
        Ok((Tensor::from_vec(out, [d[0], d[1], d[4], d[5]])?, arg))
    }

    /// Average pooling of an `(N, C, H, W)` input; padding counts as zeros
    /// in the average (PyTorch's default `count_include_pad = true`), so each
    /// output is a window's sum over `kH·kW`.
    ///
    /// # Errors
    /// As [`try_max_pool2d`](Self::try_max_pool2d).
    pub fn try_avg_pool2d(&self, pool: Pool2d) -> Result<Tensor<T>, TensorError> {
        let d = pool.out_dims("avg_pool2d", self.dims())?;
        let x = self.contiguous_data();
        let (w, area) = (d[3], T::of((pool.kernel[0] * pool.kernel[1]) as f64));
        let mut out = vec![T::zero(); d[0] * d[1] * d[4] * d[5]];
        pool.for_each_window(d, |base, o, rows, cols| {
            let mut s = T::zero();
            for r in rows {
                for c in cols.clone() {
                    s += x[base + r * w + c];
                }
            }
            out[o] = s / area;
        });
        Tensor::from_vec(out, [d[0], d[1], d[4], d[5]])
    }

    /// The gradient of [`try_avg_pool2d`](Self::try_avg_pool2d): `self` is
    /// the output gradient; each output's share `g / (kH·kW)` goes to every
    /// input element of its window.
    ///
    /// # Errors
    /// As [`try_max_pool2d`](Self::try_max_pool2d), or if `self` is not the
    /// pooled shape of `input_dims`.
    pub fn try_avg_pool2d_backward(&self, input_dims: &[usize], pool: Pool2d) -> Result<Tensor<T>, TensorError> {
        let d = pool.out_dims("avg_pool2d", input_dims)?;
        if self.dims() != [d[0], d[1], d[4], d[5]] {
            return Err(TensorError::Invalid {
                op: "avg_pool2d backward",
                reason: format!("gradient {:?} is not the pooled shape of {input_dims:?}", self.shape()),
            });
        }
        let g = self.contiguous_data();
        let (w, area) = (d[3], T::of((pool.kernel[0] * pool.kernel[1]) as f64));
        let mut dx = vec![T::zero(); input_dims.iter().product()];
        pool.for_each_window(d, |base, o, rows, cols| {
            let share = g[o] / area;
            for r in rows {
                for c in cols.clone() {
                    dx[base + r * w + c] += share;
                }
            }
        });
        Tensor::from_vec(dx, input_dims.to_vec())
    }
}
