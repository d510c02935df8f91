//! 2-D convolution in NCHW, as PyTorch's `conv2d`: input `(N, C_in, H, W)`,
//! weight `(C_out, C_in / groups, kH, kW)`, optional bias `(C_out)`, with
//! stride, zero padding, dilation and groups. Lowered onto the packed gemm:
//! each image's patches are gathered into one reused column buffer
//! (im2col), and every group's output is one matrix product, so a
//! convolution runs at matmul speed. The two backward products are
//! products of the same shapes: `dW_g += dY_g · colsᵀ` and
//! `dcols = W_gᵀ · dY_g`, scattered back (col2im).
//!
//! Large convolutions run their images in parallel with rayon, each worker
//! with its own column buffer. Results do not depend on the thread count:
//! each image's output is computed the same way wherever it runs, and the
//! weight gradient, a sum over images, is summed in fixed chunks of
//! `IMAGES_PER_PARTIAL` (4) images whose partial sums are added in order.

use rayon::prelude::*;

use crate::error::{OrPanic, TensorError};
use crate::float::Float;
use crate::kernels::conv::{col2im, im2col, Geometry};
use crate::kernels::gemm::{gemm, gemm_acc, MatRef};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// Convolutions of at least this many multiply-adds (`N·C_out·L·K`) run
/// their images in parallel. Below it (about 40 µs of work on one core)
/// rayon's fork and join cost more than the second core gains.
const PARALLEL_MACS: usize = 1 << 20;

/// The weight gradient sums this many images per partial sum (see the
/// module docs): fixed, so the sum's order does not follow the threads.
pub(crate) const IMAGES_PER_PARTIAL: usize = 4;

fn parallel(geo: &Geometry) -> bool {
    geo.n > 1 && geo.n * geo.o * geo.l() * geo.k() >= PARALLEL_MACS && crate::threads::current_num_threads() > 1
}

/// Calls `f(n, part, cols)` for each image `n` with its `per_image`-long
/// part of `dst` and a `K × L` column buffer: in parallel (a buffer per
/// worker) when the convolution is large enough, else in order with one.
fn for_each_image<T: Float>(
    geo: &Geometry,
    dst: &mut [T],
    per_image: usize,
    f: impl Fn(usize, &mut [T], &mut Vec<T>) + Sync + Send,
) {
    let cols = geo.k() * geo.l();
    if parallel(geo) {
        dst.par_chunks_mut(per_image)
            .enumerate()
            .for_each_init(|| vec![T::zero(); cols], |buf, (n, part)| f(n, part, buf));
    } else {
        let mut buf = vec![T::zero(); cols];
        dst.chunks_mut(per_image).enumerate().for_each(|(n, part)| f(n, part, &mut buf));
    }
}

/// A convolution's hyper-parameters. The default is PyTorch's: stride 1,
/// no padding, dilation 1, one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvParams {
    /// Step between windows, `(rows, columns)`.
    pub stride: [usize; 2],
    /// Zeros added on each side, `(rows, columns)`.
    pub padding: [usize; 2],
    /// Spacing of the kernel's taps, `(rows, columns)`.
    pub dilation: [usize; 2],
    /// Channel groups: input and output channels are split into this many
    /// groups, each convolved on its own (`groups = C_in` is depthwise).
    pub groups: usize,
}

impl Default for ConvParams {
    fn default() -> Self {
        ConvParams { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 }
    }
}

impl ConvParams {
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

    /// Square dilation.
    #[must_use]
    pub fn dilation(mut self, d: usize) -> Self {
        self.dilation = [d, d];
        self
    }

    /// Channel groups.
    #[must_use]
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
}

/// The checked geometry of `input` convolved with `weight`.
fn geometry(input: &Shape, weight: &Shape, p: ConvParams) -> Result<Geometry, TensorError> {
    let bad = |reason: String| TensorError::Mismatch { op: "conv2d", lhs: input.clone(), rhs: weight.clone(), reason };
    let (Ok([n, c, h, w]), Ok([o, cg, kh, kw])) =
        (<[usize; 4]>::try_from(input.dims()), <[usize; 4]>::try_from(weight.dims()))
    else {
        return Err(bad("input must be (N, C, H, W) and weight (C_out, C_in/groups, kH, kW)".into()));
    };
    let g = p.groups;
    if g == 0 || p.stride.contains(&0) || p.dilation.contains(&0) {
        return Err(bad(format!("groups, stride and dilation must be positive ({p:?})")));
    }
    if cg * g != c {
        return Err(bad(format!("input has {c} channels, weight expects {cg} × groups {g}")));
    }
    if !o.is_multiple_of(g) {
        return Err(bad(format!("{o} output channels do not split into {g} groups")));
    }
    let span = |k: usize, d: usize| d * (k - 1) + 1;
    let (ph, pw) = (h + 2 * p.padding[0], w + 2 * p.padding[1]);
    if kh == 0 || kw == 0 || span(kh, p.dilation[0]) > ph || span(kw, p.dilation[1]) > pw {
        return Err(bad(format!(
            "the kernel {kh}×{kw} (dilation {:?}) does not fit the padded input {ph}×{pw}",
            p.dilation
        )));
    }
    let ho = (ph - span(kh, p.dilation[0])) / p.stride[0] + 1;
    let wo = (pw - span(kw, p.dilation[1])) / p.stride[1] + 1;
    Ok(Geometry {
        n,
        c,
        h,
        w,
        o,
        kh,
        kw,
        ho,
        wo,
        groups: g,
        stride: p.stride,
        padding: p.padding,
        dilation: p.dilation,
    })
}

impl<T: Float> Tensor<T> {
    /// 2-D convolution (cross-correlation, as in every framework) of an
    /// `(N, C_in, H, W)` input with a `(C_out, C_in/groups, kH, kW)` weight and
    /// an optional `(C_out)` bias; the output is `(N, C_out, H_out, W_out)`
    /// with `H_out = (H + 2·pad − dil·(kH − 1) − 1) / stride + 1`.
    ///
    /// ```
    /// use strata_tensor::{ConvParams, Tensor};
    /// let x = Tensor::<f32>::ones([1, 1, 4, 4]);
    /// let w = Tensor::<f32>::ones([2, 1, 3, 3]);
    /// let y = x.conv2d(&w, None, ConvParams::default().padding(1));
    /// assert_eq!(y.dims(), &[1, 2, 4, 4]);
    /// assert_eq!(y.to_vec()[0], 4.0);   // a corner sees 2×2 of the ones
    /// ```
    ///
    /// # Panics
    /// If the shapes do not fit, naming both
    /// (`conv2d: [1, 3, 8, 8] x [4, 2, 3, 3]: input has 3 channels, weight expects 2 × groups 1`).
    #[must_use]
    #[track_caller]
    pub fn conv2d(&self, weight: &Tensor<T>, bias: Option<&Tensor<T>>, p: ConvParams) -> Tensor<T> {
        self.try_conv2d(weight, bias, p).or_panic()
    }

    /// [`conv2d`](Self::conv2d) that returns an error instead of panicking.
    ///
    /// # Errors
    /// [`TensorError::Mismatch`] naming `conv2d` and both shapes.
    pub fn try_conv2d(
        &self,
        weight: &Tensor<T>,
        bias: Option<&Tensor<T>>,
        p: ConvParams,
    ) -> Result<Tensor<T>, TensorError> {
        let geo = geometry(self.shape(), weight.shape(), p)?;
        if let Some(b) = bias
            && b.dims() != [geo.o]
        {
            return Err(TensorError::Mismatch {
                op: "conv2d",
                lhs: weight.shape().clone(),
                rhs: b.shape().clone(),
                reason: format!("bias must be [{}]", geo.o),
            });
        }
        let (x, wt) = (self.contiguous_data(), weight.contiguous_data());
        let (k, l, og, cg) = (geo.k(), geo.l(), geo.o / geo.groups, geo.c / geo.groups);
        let mut out = vec![T::zero(); geo.n * geo.o * l];
        // One image: every group's output is one product with its columns.
        let image = |n: usize, out_n: &mut [T], cols: &mut Vec<T>| {
            for g in 0..geo.groups {
                let image = &x[(n * geo.c + g * cg) * geo.h * geo.w..][..cg * geo.h * geo.w];
                im2col(&geo, image, cols);
                let a = MatRef { data: &wt, offset: g * og * k, rs: k, cs: 1 };
                let b = MatRef { data: cols, offset: 0, rs: l, cs: 1 };
                gemm(og, l, k, a, b, &mut out_n[g * og * l..][..og * l]);
            }
        };
        for_each_image(&geo, &mut out, geo.o * l, image);
        if let Some(b) = bias {
            let b = b.contiguous_data();
            for (row, &bv) in out.chunks_mut(l).zip(b.iter().cycle()) {
                row.iter_mut().for_each(|v| *v += bv);
            }
        }
        Tensor::from_vec(out, [geo.n, geo.o, geo.ho, geo.wo])
    }

    /// The gradient of [`conv2d`](Self::conv2d) with respect to its input:
    /// `grad_out` is `(N, C_out, H_out, W_out)`, the result has
    /// `input_dims`. A transposed convolution: `dcols = W_gᵀ · dY_g`,
    /// scattered back onto the input's positions.
    ///
    /// # Panics
    /// If the shapes do not fit each other.
    #[must_use]
    #[track_caller]
    pub fn conv2d_backward_input(&self, weight: &Tensor<T>, input_dims: &[usize], p: ConvParams) -> Tensor<T> {
        let geo = geometry(&Shape::from(input_dims), weight.shape(), p).or_panic();
        self.check_grad_out(&geo);
        let (gy, wt) = (self.contiguous_data(), weight.contiguous_data());
        let (k, l, og, cg) = (geo.k(), geo.l(), geo.o / geo.groups, geo.c / geo.groups);
        let plane = geo.c * geo.h * geo.w;
        let mut dx = vec![T::zero(); geo.n * plane];
        let image = |n: usize, dx_n: &mut [T], dcols: &mut Vec<T>| {
            for g in 0..geo.groups {
                // W_gᵀ: element (kk, o) of the transpose is W[g·og + o, kk].
                let a = MatRef { data: &wt, offset: g * og * k, rs: 1, cs: k };
                let b = MatRef { data: &gy, offset: (n * geo.o + g * og) * l, rs: l, cs: 1 };
                dcols.iter_mut().for_each(|v| *v = T::zero());
                gemm(k, l, og, a, b, dcols);
                col2im(&geo, dcols, &mut dx_n[g * cg * geo.h * geo.w..][..cg * geo.h * geo.w]);
            }
        };
        for_each_image(&geo, &mut dx, plane, image);
        Tensor::from_vec(dx, input_dims.to_vec()).or_panic()
    }

    /// The gradient of [`conv2d`](Self::conv2d) with respect to its weight:
    /// `self` is `grad_out`, `input` the convolution's input; the result has
    /// `weight_dims`. `dW_g = Σ_n dY_{n,g} · cols_{n,g}ᵀ`.
    ///
    /// # Panics
    /// If the shapes do not fit each other.
    #[must_use]
    #[track_caller]
    pub fn conv2d_backward_weight(&self, input: &Tensor<T>, weight_dims: &[usize], p: ConvParams) -> Tensor<T> {
        let geo = geometry(input.shape(), &Shape::from(weight_dims), p).or_panic();
        self.check_grad_out(&geo);
        let (gy, x) = (self.contiguous_data(), input.contiguous_data());
        let (k, l, og, cg) = (geo.k(), geo.l(), geo.o / geo.groups, geo.c / geo.groups);
        // The sum over one chunk of images, in image order.
        let chunk = |first: usize, cols: &mut Vec<T>| {
            let mut dw = vec![T::zero(); geo.o * k];
            for n in first..(first + IMAGES_PER_PARTIAL).min(geo.n) {
                for g in 0..geo.groups {
                    let image = &x[(n * geo.c + g * cg) * geo.h * geo.w..][..cg * geo.h * geo.w];
                    im2col(&geo, image, cols);
                    let a = MatRef { data: &gy, offset: (n * geo.o + g * og) * l, rs: l, cs: 1 };
                    // colsᵀ: element (ll, kk) is cols[kk·l + ll].
                    let b = MatRef { data: cols, offset: 0, rs: 1, cs: l };
                    gemm_acc(og, k, l, a, b, &mut dw[g * og * k..][..og * k]);
                }
            }
            dw
        };
        let firsts: Vec<usize> = (0..geo.n).step_by(IMAGES_PER_PARTIAL).collect();
        let partials: Vec<Vec<T>> = if parallel(&geo) && firsts.len() > 1 {
            firsts.par_iter().map_init(|| vec![T::zero(); k * l], |cols, &first| chunk(first, cols)).collect()
        } else {
            let mut cols = vec![T::zero(); k * l];
            firsts.iter().map(|&first| chunk(first, &mut cols)).collect()
        };
        let mut partials = partials.into_iter();
        let mut dw = partials.next().unwrap_or_else(|| vec![T::zero(); geo.o * k]);
        for p in partials {
            dw.iter_mut().zip(&p).for_each(|(d, v)| *d += *v);
        }
        Tensor::from_vec(dw, weight_dims.to_vec()).or_panic()
    }

    #[track_caller]
    fn check_grad_out(&self, geo: &Geometry) {
        let want = [geo.n, geo.o, geo.ho, geo.wo];
        assert!(
            self.dims() == want,
            "conv2d backward: the output gradient is {:?}, the convolution's output is {want:?}",
            self.shape()
        );
    }
}
