//! Matrix products: 2-D, batched 3-D (a batch of 1 broadcasts), and 1-D
//! vectors as in NumPy. Operands are read through their strides, so
//! `a.matmul(&b.t())` and `a.t().matmul(&b)` copy nothing.

use rayon::prelude::*;
use smallvec::SmallVec;

use crate::error::{OrPanic, TensorError};
use crate::float::Float;
use crate::kernels::gemm::{self, MatRef};
use crate::shape::Shape;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// A 2-D or 3-D operand as (batch, rows, cols, batch stride, row stride, col stride).
struct Operand {
    batch: usize,
    rows: usize,
    cols: usize,
    bs: usize,
    rs: usize,
    cs: usize,
}

fn operand<T: Float>(t: &Tensor<T>) -> Operand {
    let (d, s) = (t.dims(), t.strides());
    match t.rank() {
        2 => Operand { batch: 1, rows: d[0], cols: d[1], bs: 0, rs: s[0], cs: s[1] },
        _ => Operand { batch: d[0], rows: d[1], cols: d[2], bs: s[0], rs: s[1], cs: s[2] },
    }
}

impl<T: Float> Tensor<T> {
    /// The matrix product.
    ///
    /// - `[m, k] · [k, n] → [m, n]`;
    /// - `[b, m, k] · [b, k, n] → [b, m, n]`, where either side may be 2-D or
    ///   have batch 1 and is then shared by every batch entry;
    /// - a 1-D left operand is a row vector and a 1-D right operand a column
    ///   vector, and that dimension is dropped from the result (NumPy's rule).
    ///
    /// # Errors
    /// [`TensorError::Mismatch`] if the inner dimensions or batch sizes differ,
    /// or an operand has more than 3 dimensions.
    pub fn try_matmul(&self, other: &Tensor<T>) -> Result<Tensor<T>, TensorError> {
        let mismatch = |reason: String| TensorError::Mismatch {
            op: "matmul",
            lhs: self.shape().clone(),
            rhs: other.shape().clone(),
            reason,
        };
        if self.rank() == 2 && other.rank() == 2 {
            // The common case, without the batch bookkeeping: tiny layers
            // multiply several times a step and feel every instruction.
            let ([m, k], [k2, n]) = ([self.dims()[0], self.dims()[1]], [other.dims()[0], other.dims()[1]]);
            if k != k2 {
                return Err(mismatch(format!("inner dimensions {k} and {k2} differ")));
            }
            let (sa, sb) = (self.strides(), other.strides());
            let am = MatRef { data: &self.data, offset: self.layout.offset, rs: sa[0], cs: sa[1] };
            let bm = MatRef { data: &other.data, offset: other.layout.offset, rs: sb[0], cs: sb[1] };
            // gemm writes every element: the buffer need not be zeroed.
            let mut storage = Storage::scratch(m * n, T::zero());
            gemm::gemm(m, n, k, am, bm, storage.make_mut());
            return Ok(Tensor::from_parts(storage, Shape::new(&[m, n])));
        }
        if self.rank() == 0 || other.rank() == 0 || self.rank() > 3 || other.rank() > 3 {
            return Err(mismatch("operands must have 1, 2 or 3 dimensions".into()));
        }
        // 1-D operands are lifted to matrices; others are borrowed, not cloned.
        let (lifted_a, lifted_b);
        let a = if self.rank() == 1 {
            lifted_a = self.unsqueeze(0);
            &lifted_a
        } else {
            self
        };
        let b = if other.rank() == 1 {
            lifted_b = other.unsqueeze(1);
            &lifted_b
        } else {
            other
        };
        let (oa, ob) = (operand(a), operand(b));
        if oa.cols != ob.rows {
            return Err(mismatch(format!("inner dimensions {} and {} differ", oa.cols, ob.rows)));
        }
        if oa.batch != ob.batch && oa.batch != 1 && ob.batch != 1 {
            return Err(mismatch(format!("batch sizes {} and {} differ", oa.batch, ob.batch)));
        }
        let batched = a.rank() == 3 || b.rank() == 3;
        let batch = oa.batch.max(ob.batch);
        let (m, k, n) = (oa.rows, oa.cols, ob.cols);
        let mut storage = Storage::scratch(batch * m * n, T::zero());
        let out = storage.make_mut();
        let one = |(i, c): (usize, &mut [T])| {
            let am = MatRef { data: &a.data, offset: a.layout.offset + i * oa.bs, rs: oa.rs, cs: oa.cs };
            let bm = MatRef { data: &b.data, offset: b.layout.offset + i * ob.bs, rs: ob.rs, cs: ob.cs };
            gemm::gemm(m, n, k, am, bm, c);
        };
        if m * n > 0 {
            // Many small products: one per task. Few large ones: gemm splits each.
            if batch > 1 && m * n * k < 256 * 256 * 256 && crate::threads::current_num_threads() > 1 {
                out.par_chunks_mut(m * n).enumerate().for_each(one);
            } else {
                out.chunks_mut(m * n).enumerate().for_each(one);
            }
        }
        let full = [batch, m, n];
        let mut dims: SmallVec<[usize; 3]> = SmallVec::from_slice(if batched { &full } else { &full[1..] });
        if other.rank() == 1 {
            dims.pop();
        }
        if self.rank() == 1 {
            dims.remove(dims.len() - if other.rank() == 1 { 1 } else { 2 });
        }
        Ok(Tensor::from_parts(storage, Shape::new(&dims)))
    }

    /// [`try_matmul`](Self::try_matmul) that panics on a shape mismatch.
    ///
    /// # Panics
    /// If the shapes do not fit, with a message such as
    /// `matmul: [4, 3] x [4, 2]: inner dimensions 3 and 4 differ`.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let a = Tensor::<f32>::ones([2, 3]);
    /// let w = Tensor::<f32>::ones([4, 3]);      // (out, in), as nn.Linear stores it
    /// assert_eq!(a.matmul(&w.t()).dims(), &[2, 4]);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn matmul(&self, other: &Tensor<T>) -> Tensor<T> {
        self.try_matmul(other).or_panic()
    }

    /// The name of the matmul micro-kernel this CPU runs for `T`
    /// (`"avx512f"`, `"avx2+fma"` or `"portable"`).
    #[must_use]
    pub fn matmul_kernel_name() -> &'static str {
        T::gemm_kernel().name
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn shapes() {
        let a = Tensor::<f32>::ones([2, 3]);
        let b = Tensor::<f32>::ones([3, 4]);
        assert_eq!(a.matmul(&b).dims(), &[2, 4]);
        assert_eq!(a.matmul(&b).to_vec(), vec![3.0; 8]);
        let v = Tensor::<f32>::ones([3]);
        assert_eq!(a.matmul(&v).dims(), &[2]);
        assert_eq!(v.matmul(&b).dims(), &[4]);
        assert_eq!(v.matmul(&v).dims(), &[] as &[usize]);
        let batch = Tensor::<f32>::ones([5, 2, 3]);
        assert_eq!(batch.matmul(&b).dims(), &[5, 2, 4]);
        assert_eq!(a.matmul(&Tensor::ones([5, 3, 4])).dims(), &[5, 2, 4]);
        assert_eq!(Tensor::<f32>::ones([0, 3]).matmul(&b).dims(), &[0, 4]);
        assert_eq!(Tensor::<f32>::ones([2, 0]).matmul(&Tensor::ones([0, 4])).to_vec(), vec![0.0; 8]);
    }

    #[test]
    #[should_panic(expected = "matmul: [4, 3] x [4, 2]: inner dimensions 3 and 4 differ")]
    fn inner_mismatch_panics() {
        let _ = Tensor::<f32>::zeros([4, 3]).matmul(&Tensor::zeros([4, 2]));
    }

    #[test]
    fn batch_mismatch_is_an_error() {
        let e = Tensor::<f32>::zeros([2, 4, 3]).try_matmul(&Tensor::zeros([3, 3, 2])).unwrap_err();
        assert_eq!(e.to_string(), "matmul: [2, 4, 3] x [3, 3, 2]: batch sizes 2 and 3 differ");
        assert!(Tensor::<f32>::zeros([1, 1, 1, 1]).try_matmul(&Tensor::zeros([1, 1])).is_err());
    }
}
