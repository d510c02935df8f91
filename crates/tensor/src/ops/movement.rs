//! Movement: views that only change the layout (transpose, permute, reshape of
//! contiguous data, narrow, squeeze) and gathers that copy (index_select,
//! concat, stack).

use crate::error::{OrPanic, TensorError};
use crate::float::Float;
use crate::layout::Layout;
use crate::shape::Shape;
use crate::tensor::Tensor;

impl<T: Float> Tensor<T> {
    /// The same elements with another shape of equal element count. A view
    /// when the tensor is contiguous, else a copy.
    ///
    /// # Errors
    /// [`TensorError::Reshape`] if the element counts differ.
    pub fn try_reshape(&self, shape: impl Into<Shape>) -> Result<Tensor<T>, TensorError> {
        let shape = shape.into();
        if shape.checked_numel() != Some(self.numel()) {
            return Err(TensorError::Reshape { from: self.shape().clone(), to: shape });
        }
        let base = self.contiguous();
        let offset = base.layout.offset;
        let mut layout = Layout::contiguous(shape);
        layout.offset = offset;
        Ok(base.with_layout(layout))
    }

    /// [`try_reshape`](Self::try_reshape) that panics on a mismatch.
    ///
    /// # Panics
    /// If the element counts differ; the message names both shapes.
    #[must_use]
    #[track_caller]
    pub fn reshape(&self, shape: impl Into<Shape>) -> Tensor<T> {
        self.try_reshape(shape).or_panic()
    }

    /// All elements as a 1-D tensor.
    #[must_use]
    pub fn flatten(&self) -> Tensor<T> {
        self.reshape([self.numel()])
    }

    /// The dimensions reordered (a view): dimension `i` of the result is
    /// dimension `perm[i]` of `self`.
    ///
    /// # Panics
    /// If `perm` is not a permutation of `0..rank`.
    #[must_use]
    #[track_caller]
    pub fn permute(&self, perm: &[usize]) -> Tensor<T> {
        // Checked without a heap allocation: views of tiny tensors are taken
        // on every training step.
        let mut seen: smallvec::SmallVec<[bool; 8]> = smallvec::smallvec![false; self.rank()];
        let ok =
            perm.len() == self.rank() && perm.iter().all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
        assert!(ok, "permute: {perm:?} is not a permutation of the axes of shape {:?}", self.shape());
        self.with_layout(self.layout.permute(perm))
    }

    /// Dimensions `a` and `b` swapped (a view).
    ///
    /// # Panics
    /// If either axis is out of range.
    #[must_use]
    #[track_caller]
    pub fn transpose(&self, a: isize, b: isize) -> Tensor<T> {
        let (a, b) = (self.shape().axis(a, "transpose"), self.shape().axis(b, "transpose"));
        self.with_layout(self.layout.swap_axes(a, b))
    }

    /// The last two dimensions swapped (a view): the matrix transpose, batched.
    ///
    /// # Panics
    /// If the tensor has fewer than two dimensions.
    #[must_use]
    #[track_caller]
    pub fn t(&self) -> Tensor<T> {
        assert!(self.rank() >= 2, "t: needs at least 2 dimensions, got shape {:?}", self.shape());
        self.transpose(-2, -1)
    }

    /// Elements `start .. start + len` along `axis` (a view).
    ///
    /// # Panics
    /// If the axis or the range is out of bounds.
    #[must_use]
    #[track_caller]
    pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Tensor<T> {
        let ax = self.shape().axis(axis, "narrow");
        assert!(
            start + len <= self.dims()[ax],
            "narrow: range {start}..{} is out of bounds for axis {ax} of shape {:?}",
            start + len,
            self.shape()
        );
        self.with_layout(self.layout.narrow(ax, start, len))
    }

    /// Rows `start .. end` along the first axis (a view); a mini-batch.
    ///
    /// # Panics
    /// If the range is out of bounds.
    #[must_use]
    #[track_caller]
    pub fn rows(&self, start: usize, end: usize) -> Tensor<T> {
        assert!(start <= end, "rows: start {start} is after end {end}");
        self.narrow(0, start, end - start)
    }

    /// A new axis of extent 1 at position `axis` (a view).
    ///
    /// # Panics
    /// If `axis > rank`.
    #[must_use]
    #[track_caller]
    pub fn unsqueeze(&self, axis: usize) -> Tensor<T> {
        assert!(axis <= self.rank(), "unsqueeze: axis {axis} is out of range for shape {:?}", self.shape());
        let mut dims = self.dims().to_vec();
        dims.insert(axis, 1);
        let mut strides = self.layout.strides.clone();
        strides.insert(axis, 0);
        self.with_layout(Layout { shape: Shape::from(dims), strides, offset: self.layout.offset })
    }

    /// The axis `axis`, which must have extent 1, removed (a view).
    ///
    /// # Panics
    /// If the axis is out of range or its extent is not 1.
    #[must_use]
    #[track_caller]
    pub fn squeeze(&self, axis: isize) -> Tensor<T> {
        let ax = self.shape().axis(axis, "squeeze");
        assert!(self.dims()[ax] == 1, "squeeze: axis {ax} of shape {:?} is not 1", self.shape());
        let mut dims = self.dims().to_vec();
        dims.remove(ax);
        let mut strides = self.layout.strides.clone();
        strides.remove(ax);
        self.with_layout(Layout { shape: Shape::from(dims), strides, offset: self.layout.offset })
    }

    /// The entries at `indices` along `axis`, in that order (a copy).
    ///
    /// # Panics
    /// If the axis is out of range or an index is out of bounds.
    #[must_use]
    #[track_caller]
    pub fn index_select(&self, axis: isize, indices: &[usize]) -> Tensor<T> {
        let ax = self.shape().axis(axis, "index_select");
        let n = self.dims()[ax];
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            panic!("index_select: index {bad} is out of bounds for axis {ax} of shape {:?}", self.shape());
        }
        let src = self.contiguous();
        let data = src.as_slice().expect("contiguous");
        let outer: usize = self.dims()[..ax].iter().product();
        let inner: usize = self.dims()[ax + 1..].iter().product();
        let mut out = Vec::with_capacity(outer * indices.len() * inner);
        for o in 0..outer {
            for &i in indices {
                let start = (o * n + i) * inner;
                out.extend_from_slice(&data[start..start + inner]);
            }
        }
        let mut dims = self.dims().to_vec();
        dims[ax] = indices.len();
        Tensor::from_parts(out, Shape::from(dims))
    }

    /// The rows at `indices` (a copy): `index_select(0, indices)`, the usual way
    /// to gather a shuffled mini-batch.
    ///
    /// # Panics
    /// If an index is out of bounds.
    #[must_use]
    #[track_caller]
    pub fn select_rows(&self, indices: &[usize]) -> Tensor<T> {
        self.index_select(0, indices)
    }

    /// A copy of `self` with the entries of `src` added at `indices` along
    /// `axis` (repeated indices accumulate): the adjoint of
    /// [`index_select`](Self::index_select), which its gradient needs.
    ///
    /// # Panics
    /// If an index is out of bounds or `src` is not `self`'s shape with
    /// `indices.len()` entries along `axis`.
    #[must_use]
    #[track_caller]
    pub fn index_add(&self, axis: isize, indices: &[usize], src: &Tensor<T>) -> Tensor<T> {
        let ax = self.shape().axis(axis, "index_add");
        let n = self.dims()[ax];
        let mut expected = self.dims().to_vec();
        expected[ax] = indices.len();
        assert!(
            src.dims() == expected.as_slice(),
            "index_add: source shape {:?} does not match {:?} with {} entries along axis {ax}",
            src.shape(),
            self.shape(),
            indices.len()
        );
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            panic!("index_add: index {bad} is out of bounds for axis {ax} of shape {:?}", self.shape());
        }
        let outer: usize = self.dims()[..ax].iter().product();
        let inner: usize = self.dims()[ax + 1..].iter().product();
        let mut out = self.to_vec();
        let src = src.contiguous();
        let s = src.as_slice().expect("contiguous");
        for o in 0..outer {
            for (j, &i) in indices.iter().enumerate() {
                let dst = (o * n + i) * inner;
                let from = (o * indices.len() + j) * inner;
                out[dst..dst + inner].iter_mut().zip(&s[from..from + inner]).for_each(|(d, &v)| *d += v);
            }
        }
        Tensor::from_parts(out, self.shape().clone())
    }

    /// Tensors joined along an existing `axis`; all other dimensions must agree.
    ///
    /// # Errors
    /// [`TensorError::Mismatch`] if ranks or the other dimensions differ,
    /// [`TensorError::Invalid`] if `tensors` is empty or the axis is out of range.
    pub fn try_concat(tensors: &[&Tensor<T>], axis: isize) -> Result<Tensor<T>, TensorError> {
        let first = tensors
            .first()
            .ok_or_else(|| TensorError::Invalid { op: "concat", reason: "no tensors to concatenate".into() })?;
        let rank = first.rank() as isize;
        let ax = if axis < 0 { axis + rank } else { axis };
        if !(0..rank).contains(&ax) {
            return Err(TensorError::Invalid {
                op: "concat",
                reason: format!("axis {axis} is out of range for shape {:?}", first.shape()),
            });
        }
        let ax = ax as usize;
        for t in &tensors[1..] {
            let fits = t.rank() == first.rank()
                && t.dims().iter().zip(first.dims()).enumerate().all(|(i, (a, b))| i == ax || a == b);
            if !fits {
                return Err(TensorError::Mismatch {
                    op: "concat",
                    lhs: first.shape().clone(),
                    rhs: t.shape().clone(),
                    reason: format!("shapes differ outside axis {ax}"),
                });
            }
        }
        let outer: usize = first.dims()[..ax].iter().product();
        let inner: usize = first.dims()[ax + 1..].iter().product();
        let parts: Vec<Tensor<T>> = tensors.iter().map(|t| t.contiguous()).collect();
        let total: usize = parts.iter().map(|t| t.dims()[ax]).sum();
        let mut out = Vec::with_capacity(outer * total * inner);
        for o in 0..outer {
            for p in &parts {
                let w = p.dims()[ax] * inner;
                out.extend_from_slice(&p.as_slice().expect("contiguous")[o * w..(o + 1) * w]);
            }
        }
        let mut dims = first.dims().to_vec();
        dims[ax] = total;
        Ok(Tensor::from_parts(out, Shape::from(dims)))
    }

    /// [`try_concat`](Self::try_concat) that panics on a mismatch.
    ///
    /// # Panics
    /// If the shapes do not fit; the message names them.
    #[must_use]
    #[track_caller]
    pub fn concat(tensors: &[&Tensor<T>], axis: isize) -> Tensor<T> {
        Self::try_concat(tensors, axis).or_panic()
    }

    /// Tensors of equal shape joined along a new axis at position `axis`.
    ///
    /// # Panics
    /// If the list is empty, the shapes differ or `axis > rank`.
    #[must_use]
    #[track_caller]
    pub fn stack(tensors: &[&Tensor<T>], axis: usize) -> Tensor<T> {
        assert!(!tensors.is_empty(), "stack: no tensors to stack");
        let first = tensors[0].shape();
        if let Some(t) = tensors.iter().find(|t| t.shape() != first) {
            panic!("stack: shapes {:?} and {:?} differ", first, t.shape());
        }
        let expanded: Vec<Tensor<T>> = tensors.iter().map(|t| t.unsqueeze(axis)).collect();
        let refs: Vec<&Tensor<T>> = expanded.iter().collect();
        Self::concat(&refs, axis as isize)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tensor, TensorError};

    fn t(v: &[f32], s: &[usize]) -> Tensor<f32> {
        Tensor::from_slice(v, s).unwrap()
    }

    #[test]
    fn views_copy_nothing() {
        let a = t(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[2, 3]);
        for v in [a.t(), a.reshape([3, 2]), a.rows(1, 2), a.unsqueeze(0), a.broadcast_to([4, 2, 3])] {
            assert!(v.shares_storage(&a));
        }
        assert_eq!(a.t().to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        assert_eq!(a.rows(1, 2).to_vec(), vec![3.0, 4.0, 5.0]);
        assert_eq!(a.narrow(1, 1, 2).to_vec(), vec![1.0, 2.0, 4.0, 5.0]);
        // Reshaping a transposed view must copy, and get the order right.
        assert_eq!(a.t().reshape([6]).to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        assert_eq!(a.rows(1, 2).reshape([3, 1]).to_vec(), vec![3.0, 4.0, 5.0]);
    }

    #[test]
    fn reshape_errors_name_shapes() {
        let e = Tensor::<f32>::zeros([2, 3]).try_reshape([4]).unwrap_err();
        assert_eq!(e.to_string(), "reshape: cannot reshape [2, 3] (6 elements) into [4] (4 elements)");
    }

    #[test]
    fn gathers() {
        let a = t(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[3, 2]);
        assert_eq!(a.select_rows(&[2, 0, 2]).to_vec(), vec![4.0, 5.0, 0.0, 1.0, 4.0, 5.0]);
        assert_eq!(a.index_select(1, &[1]).to_vec(), vec![1.0, 3.0, 5.0]);
        let back = Tensor::<f32>::zeros([3, 2]).index_add(0, &[2, 0, 2], &Tensor::ones([3, 2]));
        assert_eq!(back.to_vec(), vec![1.0, 1.0, 0.0, 0.0, 2.0, 2.0]);
        let c = Tensor::concat(&[&a, &a.rows(0, 1)], 0);
        assert_eq!(c.dims(), &[4, 2]);
        assert_eq!(Tensor::concat(&[&a, &a], 1).to_vec()[..4], [0.0, 1.0, 0.0, 1.0]);
        let s = Tensor::stack(&[&a, &a], 0);
        assert_eq!(s.dims(), &[2, 3, 2]);
        assert_eq!(Tensor::stack(&[&a, &a], 2).dims(), &[3, 2, 2]);
        let err = Tensor::try_concat(&[&a, &Tensor::zeros([3, 3])], 0).unwrap_err();
        assert!(matches!(err, TensorError::Mismatch { op: "concat", .. }));
        assert!(Tensor::<f32>::try_concat(&[], 0).is_err());
    }

    #[test]
    #[should_panic(expected = "index_select: index 3 is out of bounds for axis 0 of shape [3, 2]")]
    fn select_out_of_bounds() {
        let _ = Tensor::<f32>::zeros([3, 2]).select_rows(&[3]);
    }

    #[test]
    #[should_panic(expected = "permute: [0, 0] is not a permutation")]
    fn bad_permutation() {
        let _ = Tensor::<f32>::zeros([3, 2]).permute(&[0, 0]);
    }
}
