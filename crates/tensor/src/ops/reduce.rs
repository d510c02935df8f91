//! Reductions over all elements (`*_all`, returning a value) or one axis
//! (`*_axis`, returning a tensor, with `keepdim` as in PyTorch).

use crate::float::Float;
use crate::kernels::reduce;
use crate::shape::Shape;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// Matrices up to this many elements sum their columns in one direct pass
/// (they sit in L1, so reading down a column costs nothing).
const COLUMN_SUMS: usize = 1024;

impl<T: Float> Tensor<T> {
    /// Splits the shape around `axis` into `(outer, len, inner)` and the
    /// result shape with or without the reduced axis.
    fn around_axis(&self, axis: isize, keepdim: bool, op: &str) -> (usize, usize, usize, usize, Shape) {
        let ax = self.shape().axis(axis, op);
        let dims = self.dims();
        let outer: usize = dims[..ax].iter().product();
        let inner: usize = dims[ax + 1..].iter().product();
        let mut out: smallvec::SmallVec<[usize; 4]> = smallvec::SmallVec::from_slice(dims);
        if keepdim {
            out[ax] = 1;
        } else {
            out.remove(ax);
        }
        (ax, outer, dims[ax], inner, Shape::new(&out))
    }

    /// Sum of all elements (0 for an empty tensor).
    #[must_use]
    pub fn sum_all(&self) -> T {
        reduce::sum(&self.contiguous_data())
    }

    /// Mean of all elements (NaN for an empty tensor).
    #[must_use]
    pub fn mean_all(&self) -> T {
        self.sum_all() / T::from_usize(self.numel()).expect("count fits float")
    }

    /// Largest element (NaN if any is NaN; `-inf` for an empty tensor).
    #[must_use]
    pub fn max_all(&self) -> T {
        self.contiguous_data().iter().fold(T::neg_infinity(), |a, &b| nan_max(a, b))
    }

    /// Smallest element (NaN if any is NaN; `+inf` for an empty tensor).
    #[must_use]
    pub fn min_all(&self) -> T {
        self.contiguous_data().iter().fold(T::infinity(), |a, &b| nan_min(a, b))
    }

    /// Row-major position of the largest element (the first one on ties).
    ///
    /// # Panics
    /// If the tensor is empty.
    #[must_use]
    #[track_caller]
    pub fn argmax_all(&self) -> usize {
        assert!(self.numel() > 0, "argmax_all: tensor of shape {:?} is empty", self.shape());
        argmax(self.contiguous_data().iter().copied())
    }

    /// Sum along `axis` (negative counts from the end).
    ///
    /// # Panics
    /// If `axis` is out of range.
    #[must_use]
    #[track_caller]
    pub fn sum_axis(&self, axis: isize, keepdim: bool) -> Tensor<T> {
        if let (false, [m, n], Some(s)) = (keepdim, self.dims(), self.as_slice())
            && (axis == 0 || axis == -2)
            && m * n <= COLUMN_SUMS
        {
            // A small matrix's column sums (a bias gradient) in one pass,
            // without the general path's shape bookkeeping. Same order.
            let (m, n) = (*m, *n);
            let data = (0..n).map(|j| (0..m).fold(T::zero(), |acc, i| acc + s[i * n + j])).collect();
            return Tensor::from_parts(Storage::Slice(data), Shape::new(&[n]));
        }
        let (_, outer, len, inner, shape) = self.around_axis(axis, keepdim, "sum_axis");
        Tensor::from_parts(reduce::sum_axis(&self.contiguous_data(), outer, len, inner), shape)
    }

    /// Mean along `axis`.
    ///
    /// # Panics
    /// If `axis` is out of range.
    #[must_use]
    #[track_caller]
    pub fn mean_axis(&self, axis: isize, keepdim: bool) -> Tensor<T> {
        let len = self.dims()[self.shape().axis(axis, "mean_axis")];
        self.sum_axis(axis, keepdim).div_scalar(T::from_usize(len).expect("count fits float"))
    }

    /// Largest value along `axis` (NaN propagates).
    ///
    /// # Panics
    /// If `axis` is out of range.
    #[must_use]
    #[track_caller]
    pub fn max_axis(&self, axis: isize, keepdim: bool) -> Tensor<T> {
        let (_, outer, len, inner, shape) = self.around_axis(axis, keepdim, "max_axis");
        let data = reduce::fold_axis(&self.contiguous_data(), outer, len, inner, T::neg_infinity(), nan_max);
        Tensor::from_parts(data, shape)
    }

    /// Smallest value along `axis` (NaN propagates).
    ///
    /// # Panics
    /// If `axis` is out of range.
    #[must_use]
    #[track_caller]
    pub fn min_axis(&self, axis: isize, keepdim: bool) -> Tensor<T> {
        let (_, outer, len, inner, shape) = self.around_axis(axis, keepdim, "min_axis");
        let data = reduce::fold_axis(&self.contiguous_data(), outer, len, inner, T::infinity(), nan_min);
        Tensor::from_parts(data, shape)
    }

    /// Index of the largest value along `axis`, for every position of the other
    /// axes in row-major order (the first index on ties). For a `[batch,
    /// classes]` tensor of scores, `argmax_axis(-1)` gives the predicted classes.
    ///
    /// # Panics
    /// If `axis` is out of range or has length 0.
    #[must_use]
    #[track_caller]
    pub fn argmax_axis(&self, axis: isize) -> Vec<usize> {
        let (_, outer, len, inner, _) = self.around_axis(axis, false, "argmax_axis");
        assert!(len > 0, "argmax_axis: axis {axis} of shape {:?} is empty", self.shape());
        let data = self.contiguous_data();
        let mut out = Vec::with_capacity(outer * inner);
        for o in 0..outer {
            for j in 0..inner {
                out.push(argmax((0..len).map(|r| data[(o * len + r) * inner + j])));
            }
        }
        out
    }

    /// Sums broadcast dimensions away so the result has `shape`: the inverse of
    /// broadcasting `shape` to `self.shape()`, which is what the gradient of a
    /// broadcast operand needs.
    ///
    /// # Panics
    /// If `shape` does not broadcast to `self.shape()`.
    #[must_use]
    #[track_caller]
    pub fn sum_to(&self, shape: &Shape) -> Tensor<T> {
        if self.shape() == shape {
            return self.clone();
        }
        if self.rank() == shape.rank() + 1 && self.dims()[1..] == *shape.dims() {
            // A bias gradient: the rows summed in order, as sum_axis(0) would.
            let data = reduce::sum_axis(&self.contiguous_data(), 1, self.dims()[0], shape.numel());
            return Tensor::from_parts(data, shape.clone());
        }
        let ok = shape.broadcast(self.shape(), "sum_to").map(|s| &s == self.shape()).unwrap_or(false);
        assert!(ok, "sum_to: shape {:?} does not broadcast to {:?}", shape, self.shape());
        let lead = self.rank() - shape.rank();
        let mut t = self.clone();
        for _ in 0..lead {
            t = t.sum_axis(0, false);
        }
        for (i, &d) in shape.dims().iter().enumerate() {
            if d == 1 && t.dims()[i] != 1 {
                t = t.sum_axis(i as isize, true);
            }
        }
        if t.shape() == shape {
            t
        } else {
            t.reshape(shape.clone())
        }
    }
}

#[inline]
fn nan_max<T: Float>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        T::nan()
    } else if b > a {
        b
    } else {
        a
    }
}

#[inline]
fn nan_min<T: Float>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        T::nan()
    } else if b < a {
        b
    } else {
        a
    }
}

/// Position of the largest value; a NaN counts as the largest (NumPy's rule).
fn argmax<T: Float>(values: impl Iterator<Item = T>) -> usize {
    let mut best = 0;
    let mut best_v = T::neg_infinity();
    for (i, v) in values.enumerate() {
        if best_v.is_nan() {
            break;
        }
        if i == 0 || v > best_v || v.is_nan() {
            best = i;
            best_v = v;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use crate::{Shape, Tensor};

    fn t(v: &[f32], s: &[usize]) -> Tensor<f32> {
        Tensor::from_slice(v, s).unwrap()
    }

    #[test]
    fn reductions() {
        let a = t(&[1.0, 5.0, 3.0, 4.0, 2.0, 6.0], &[2, 3]);
        assert_eq!(a.sum_all(), 21.0);
        assert_eq!(a.mean_all(), 3.5);
        assert_eq!(a.max_all(), 6.0);
        assert_eq!(a.min_all(), 1.0);
        assert_eq!(a.argmax_all(), 5);
        assert_eq!(a.sum_axis(0, false).to_vec(), vec![5.0, 7.0, 9.0]);
        assert_eq!(a.sum_axis(-1, true).dims(), &[2, 1]);
        assert_eq!(a.mean_axis(1, false).to_vec(), vec![3.0, 4.0]);
        assert_eq!(a.max_axis(1, false).to_vec(), vec![5.0, 6.0]);
        assert_eq!(a.min_axis(0, false).to_vec(), vec![1.0, 2.0, 3.0]);
        assert_eq!(a.argmax_axis(1), vec![1, 2]);
        assert_eq!(a.argmax_axis(0), vec![1, 0, 1]);
        // Reductions read views through their strides.
        assert_eq!(a.t().sum_axis(1, false).to_vec(), vec![5.0, 7.0, 9.0]);
    }

    #[test]
    fn small_column_sums_match_the_general_path_bit_for_bit() {
        // Either side of COLUMN_SUMS, with sums that round: the direct pass
        // adds each column in the same order as the blocked fold (which a
        // keepdim sum, or a 3-D view of the same data, still takes).
        for (m, n) in [(4, 8), (4, 1), (1, 5), (7, 33), (32, 32), (33, 32), (100, 11)] {
            let v: Vec<f32> = (0..m * n).map(|i| ((i * 7919 % 1009) as f32).sqrt() * 0.37).collect();
            let a = t(&v, &[m, n]);
            let general = a.reshape([1, m, n]).sum_axis(1, false);
            assert_eq!(a.sum_axis(0, false).to_vec(), general.to_vec(), "{m}x{n}");
            assert_eq!(a.sum_axis(-2, false).dims(), &[n]);
            assert_eq!(a.sum_axis(0, true).to_vec(), general.to_vec(), "{m}x{n} keepdim");
        }
    }

    #[test]
    fn nan_propagates() {
        let a = t(&[1.0, f32::NAN, 3.0], &[3]);
        assert!(a.max_all().is_nan());
        assert!(a.sum_all().is_nan());
        assert_eq!(a.argmax_all(), 1);
    }

    #[test]
    fn sum_to_undoes_broadcast() {
        let g = Tensor::<f64>::ones([4, 2, 3]);
        assert_eq!(g.sum_to(&Shape::new(&[3])).to_vec(), vec![8.0; 3]);
        assert_eq!(g.sum_to(&Shape::new(&[2, 1])).to_vec(), vec![12.0; 2]);
        assert_eq!(g.sum_to(&Shape::scalar()).to_vec(), vec![24.0]);
        // One leading axis (a bias gradient), from a transposed view too.
        let m = Tensor::<f64>::from_vec((0..6).map(f64::from).collect(), [2, 3]).unwrap();
        assert_eq!(m.sum_to(&Shape::new(&[3])).to_vec(), vec![3.0, 5.0, 7.0]);
        assert_eq!(m.t().sum_to(&Shape::new(&[2])).to_vec(), vec![3.0, 12.0]);
        assert_eq!(m.sum_to(&Shape::new(&[2, 3])).to_vec(), m.to_vec());
    }

    #[test]
    #[should_panic(expected = "sum_to: shape [5] does not broadcast to [4, 3]")]
    fn sum_to_bad_shape() {
        let _ = Tensor::<f64>::ones([4, 3]).sum_to(&Shape::new(&[5]));
    }
}
