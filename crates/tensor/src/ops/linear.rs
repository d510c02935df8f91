//! The affine map of a dense layer, `x·Wᵀ + b`, as one product.

use crate::error::{OrPanic, TensorError};
use crate::float::Float;
use crate::kernels::gemm::{self, MatRef};
use crate::shape::Shape;
use crate::storage::Storage;
use crate::tensor::Tensor;

impl<T: Float> Tensor<T> {
    /// `self · weightᵀ + bias` for `self` of shape `[batch, in]` (or `[in]`),
    /// `weight` of shape `[out, in]` (PyTorch's `nn.Linear` layout) and `bias`
    /// of shape `[out]`.
    ///
    /// Each tile of the output starts as its part of the bias rows when the
    /// product first writes it, so the bias costs no extra pass over memory
    /// (and on several threads each tile is written by the thread that
    /// computes it); `weight` is read through its strides, never
    /// transposed by a copy.
    ///
    /// # Errors
    /// [`TensorError::Mismatch`] if `self` is not 1-D or 2-D, `weight` not 2-D,
    /// the feature sizes differ, or `bias` is not `[out]`.
    pub fn try_linear(&self, weight: &Tensor<T>, bias: Option<&Tensor<T>>) -> Result<Tensor<T>, TensorError> {
        let mismatch = |rhs: &Tensor<T>, reason: String| TensorError::Mismatch {
            op: "linear",
            lhs: self.shape().clone(),
            rhs: rhs.shape().clone(),
            reason,
        };
        if !(1..=2).contains(&self.rank()) || weight.rank() != 2 {
            return Err(mismatch(weight, "input must be [batch, in] or [in] and weight [out, in]".into()));
        }
        let (out_f, in_f) = (weight.dims()[0], weight.dims()[1]);
        let k = *self.dims().last().expect("rank >= 1");
        if k != in_f {
            return Err(mismatch(weight, format!("input has {k} features, weight expects {in_f}")));
        }
        if let Some(b) = bias
            && b.dims() != [out_f]
        {
            return Err(mismatch(b, format!("bias must be [{out_f}]")));
        }
        let m = if self.rank() == 2 { self.dims()[0] } else { 1 };
        let mut storage = Storage::scratch(m * out_f, T::zero());
        let (xs, ws) = (self.strides(), weight.strides());
        let (xrs, xcs) = if self.rank() == 2 { (xs[0], xs[1]) } else { (0, xs[0]) };
        let a = MatRef { data: &self.data, offset: self.layout.offset, rs: xrs, cs: xcs };
        // Wᵀ[p, j] = W[j, p]: swap the weight's strides.
        let b = MatRef { data: &weight.data, offset: weight.layout.offset, rs: ws[1], cs: ws[0] };
        match bias {
            // Each tile of the output starts as its part of the bias rows
            // in the product's write-out, on the thread that computes it.
            Some(bias) => {
                let row = bias.contiguous_data();
                gemm::gemm_with(T::gemm_kernel(), m, out_f, k, a, b, storage.make_mut(), gemm::Start::Rows(&row));
            }
            None => gemm::gemm(m, out_f, k, a, b, storage.make_mut()),
        }
        let dims: Shape = if self.rank() == 2 { Shape::from([m, out_f]) } else { Shape::from([out_f]) };
        Ok(Tensor::from_parts(storage, dims))
    }

    /// [`try_linear`](Self::try_linear) that panics on a shape mismatch.
    ///
    /// # Panics
    /// If the shapes do not fit, naming `linear` and both shapes.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let x = Tensor::<f32>::ones([2, 3]);
    /// let w = Tensor::<f32>::full([4, 3], 0.5);   // (out, in)
    /// let b = Tensor::<f32>::arange(0.0, 4.0, 1.0);
    /// let y = x.linear(&w, Some(&b));
    /// assert_eq!(y.to_vec(), vec![1.5, 2.5, 3.5, 4.5, 1.5, 2.5, 3.5, 4.5]);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn linear(&self, weight: &Tensor<T>, bias: Option<&Tensor<T>>) -> Tensor<T> {
        self.try_linear(weight, bias).or_panic()
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use crate::Tensor;

    #[test]
    fn matches_matmul_plus_bias_at_every_size() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for &(m, k, n) in &[(1, 1, 1), (3, 5, 2), (17, 33, 9), (64, 64, 64), (130, 70, 50)] {
            let x = Tensor::<f64>::rand_normal([m, k], 0.0, 1.0, &mut rng);
            let w = Tensor::<f64>::rand_normal([n, k], 0.0, 1.0, &mut rng);
            let b = Tensor::<f64>::rand_normal([n], 0.0, 1.0, &mut rng);
            let want = x.matmul(&w.t()).add(&b);
            assert!(x.linear(&w, Some(&b)).allclose(&want, 1e-12, 1e-12), "{m}x{k}x{n}");
            assert!(x.linear(&w, None).allclose(&x.matmul(&w.t()), 1e-12, 1e-12));
        }
    }

    #[test]
    fn one_dimensional_input() {
        let x = Tensor::<f32>::from_vec(vec![1.0, 2.0], [2]).unwrap();
        let w = Tensor::<f32>::from_vec(vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0], [3, 2]).unwrap();
        assert_eq!(x.linear(&w, None).to_vec(), vec![1.0, 2.0, 3.0]);
    }

    #[test]
    #[should_panic(expected = "linear: [2, 3] x [4, 2]: input has 3 features, weight expects 2")]
    fn feature_mismatch_panics_naming_both_shapes() {
        let _ = Tensor::<f32>::ones([2, 3]).linear(&Tensor::ones([4, 2]), None);
    }

    #[test]
    fn wrong_bias_is_an_error() {
        let e = Tensor::<f32>::ones([2, 3]).try_linear(&Tensor::ones([4, 3]), Some(&Tensor::ones([3]))).unwrap_err();
        assert!(e.to_string().contains("bias must be [4]"), "{e}");
    }
}
