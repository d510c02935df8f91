//! 2-D max and average pooling in NCHW, as PyTorch's `max_pool2d` and
//! `avg_pool2d` (with its default `count_include_pad = true`), and their
//! backward products. Max pooling also returns, per output, the flat index
//! of the input element it took, which is where its gradient goes.

use rayon::prelude::*;

use crate::error::TensorError;
use crate::float::Float;
use crate::kernels::par;
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
        let [_, _, h, w, ho, wo] = d;
        let x = self.contiguous_data();
        let (plane_in, plane_out) = (h * w, ho * wo);
        let mut out = vec![T::zero(); d[0] * d[1] * plane_out];
        let mut arg = vec![0usize; out.len()];
        let ([kh, kw], [sh, sw], [ph, pw]) = (pool.kernel, pool.stride, pool.padding);
        // One plane, one output row at a time, tap by tap: the outputs of a
        // row are independent, so the loop over them carries no dependency,
        // and a plane without NaN takes no data-dependent branch (on ReLU
        // outputs a mispredicted branch per element cost three times the
        // comparisons themselves).
        let one_plane = |p: usize, out: &mut [T], arg: &mut [usize]| {
            let src = &x[p * plane_in..][..plane_in];
            #[allow(clippy::eq_op)]
            let has_nan = src.iter().fold(false, |seen, &v| seen | (v != v));
            for oh in 0..ho {
                let top = oh * sh;
                let rows = top.saturating_sub(ph)..(top + kh).saturating_sub(ph).min(h);
                let best = &mut out[oh * wo..][..wo];
                let at = &mut arg[oh * wo..][..wo];
                best.fill(T::neg_infinity());
                for (ow, a) in at.iter_mut().enumerate() {
                    *a = p * plane_in + rows.start * w + (ow * sw).saturating_sub(pw);
                }
                for r in rows {
                    let row = &src[r * w..][..w];
                    for j in 0..kw {
                        for ow in 0..wo {
                            let c = ow * sw + j;
                            if c < pw || c - pw >= w {
                                continue;
                            }
                            let v = row[c - pw];
                            let i = p * plane_in + r * w + c - pw;
                            if has_nan {
                                // The first NaN wins and stays.
                                #[allow(clippy::eq_op)]
                                let take = (v > best[ow]) | ((v != v) & (best[ow] == best[ow]));
                                if take {
                                    (best[ow], at[ow]) = (v, i);
                                }
                            } else {
                                // No NaN: `max` is a branch-free instruction
                                // and the index an integer select.
                                at[ow] = std::hint::select_unpredictable(v > best[ow], i, at[ow]);
                                best[ow] = best[ow].max(v);
                            }
                        }
                    }
                }
            }
        };
        if par(x.len()) && plane_out > 0 {
            out.par_chunks_mut(plane_out)
                .zip(arg.par_chunks_mut(plane_out))
                .enumerate()
                .for_each(|(p, (o, a))| one_plane(p, o, a));
        } else if plane_out > 0 {
            out.chunks_mut(plane_out)
                .zip(arg.chunks_mut(plane_out))
                .enumerate()
                .for_each(|(p, (o, a))| one_plane(p, o, a));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(values: Vec<f32>, dims: [usize; 4], p: Pool2d) -> (Vec<f32>, Vec<usize>) {
        let (y, at) = Tensor::from_vec(values, dims).unwrap().try_max_pool2d(p).unwrap();
        (y.to_vec(), at)
    }

    #[test]
    fn ties_take_the_first_and_nan_wins_where_it_is() {
        // Two planes of 2×4: the first all ties (ReLU's zeros), the second
        // with a NaN after a larger value in its left window.
        let x = vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 1.0, -1.0, -2.0, f32::NAN, 9.0, -3.0, f32::NAN];
        let (y, at) = pool(x, [1, 2, 2, 4], Pool2d::new(2));
        assert_eq!(y[..2], [0.0, 0.0]);
        assert_eq!(at[..2], [0, 2], "the first of equal maxima");
        assert!(y[2].is_nan() && y[3].is_nan());
        assert_eq!(at[2..], [12, 15], "the first NaN, wherever the larger values are");
    }

    #[test]
    fn padding_never_wins_and_all_minus_infinity_takes_the_first() {
        let x = vec![f32::NEG_INFINITY; 4];
        let (y, at) = pool(x, [1, 1, 2, 2], Pool2d::new(2).stride(1).padding(1));
        assert!(y.iter().all(|v| *v == f32::NEG_INFINITY));
        // Output (0, 0) sees only input (0, 0); output (1, 1) sees all four and takes the first.
        assert_eq!(at, [0, 0, 1, 0, 0, 1, 2, 2, 3]);
    }
}
