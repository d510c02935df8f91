//! [`Tensor`]: shared storage plus a [`Layout`]; constructors and accessors.

use std::sync::Arc;

use crate::error::TensorError;
use crate::float::Float;
use crate::kernels::strided;
use crate::layout::Layout;
use crate::shape::Shape;
use crate::storage::Storage;

/// An n-dimensional array of `f32` or `f64`.
///
/// Storage is shared (`Arc`), so `clone`, `transpose`, `reshape` of contiguous
/// data, broadcast views and row slices copy nothing; a write to a shared
/// tensor copies first (copy-on-write).
///
/// ```
/// use strata_tensor::Tensor;
/// let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]).unwrap();
/// let b = a.t();                       // a view: no copy
/// assert_eq!(a.matmul(&b).to_vec(), vec![5.0, 11.0, 11.0, 25.0]);
/// ```
#[derive(Clone)]
pub struct Tensor<T> {
    pub(crate) data: Storage<T>,
    pub(crate) layout: Layout,
}

impl<T: Float> Tensor<T> {
    /// A contiguous tensor that takes ownership of `data` (row-major).
    #[inline(always)]
    pub(crate) fn from_parts(data: impl Into<Storage<T>>, shape: Shape) -> Self {
        let data = data.into();
        debug_assert_eq!(data.len(), shape.numel());
        Tensor { data, layout: Layout::contiguous(shape) }
    }

    /// A view with another layout over the same storage.
    pub(crate) fn with_layout(&self, layout: Layout) -> Self {
        Tensor { data: self.data.clone(), layout }
    }

    /// A tensor from row-major values.
    ///
    /// # Errors
    /// [`TensorError::Length`] if `data.len()` is not the shape's element count.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// assert!(Tensor::from_vec(vec![1.0f64; 6], [2, 3]).is_ok());
    /// let err = Tensor::from_vec(vec![1.0f64; 5], [2, 3]).unwrap_err();
    /// assert_eq!(err.to_string(), "from_vec: 5 values cannot fill shape [2, 3] (6 elements)");
    /// ```
    pub fn from_vec(data: Vec<T>, shape: impl Into<Shape>) -> Result<Self, TensorError> {
        let shape = shape.into();
        if shape.checked_numel() != Some(data.len()) {
            return Err(TensorError::Length { op: "from_vec", len: data.len(), shape });
        }
        Ok(Self::from_parts(data, shape))
    }

    /// A tensor from a slice of values (copied).
    ///
    /// # Errors
    /// [`TensorError::Length`] if the length does not match the shape.
    pub fn from_slice(data: &[T], shape: impl Into<Shape>) -> Result<Self, TensorError> {
        Self::from_iter_exact(data.iter().copied(), shape)
    }

    /// A tensor from an iterator of row-major values. Iterators over slices
    /// (`map`, `zip`, `copied`) fill one allocation in place, so this is the
    /// cheapest way to build a small tensor from existing ones.
    ///
    /// # Errors
    /// [`TensorError::Length`] if the iterator does not yield exactly the
    /// shape's element count.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let a = [1.0f32, 2.0, 3.0];
    /// let t = Tensor::from_iter_exact(a.iter().map(|x| x * 2.0), [3]).unwrap();
    /// assert_eq!(t.to_vec(), vec![2.0, 4.0, 6.0]);
    /// ```
    pub fn from_iter_exact(values: impl IntoIterator<Item = T>, shape: impl Into<Shape>) -> Result<Self, TensorError> {
        let shape = shape.into();
        let values = values.into_iter();
        let data: Storage<T> = match values.size_hint() {
            // Large: fill a recycled buffer of the promised length.
            (lo, Some(hi)) if lo == hi && lo >= crate::pool::MIN_LEN => {
                let mut buf = Storage::overwritten(lo, T::zero());
                let mut values = values;
                let mut written = 0;
                for (d, x) in buf.as_mut_slice().iter_mut().zip(&mut values) {
                    *d = x;
                    written += 1;
                }
                match values.next() {
                    None if written == lo => Storage::recycled(buf),
                    // An iterator that broke its size hint: keep what it gave.
                    extra => {
                        let mut v = buf.as_slice()[..written].to_vec();
                        v.extend(extra);
                        v.extend(values);
                        Storage::from(v)
                    }
                }
            }
            _ => Storage::Slice(values.collect::<Arc<[T]>>()),
        };
        if shape.checked_numel() != Some(data.len()) {
            return Err(TensorError::Length { op: "from_iter_exact", len: data.len(), shape });
        }
        Ok(Self::from_parts(data, shape))
    }

    /// A 0-dimensional tensor holding one value.
    #[must_use]
    pub fn scalar(value: T) -> Self {
        Self::from_parts(Storage::filled(1, value), Shape::scalar())
    }

    /// Every element set to `value`.
    #[must_use]
    pub fn full(shape: impl Into<Shape>, value: T) -> Self {
        let shape = shape.into();
        Self::from_parts(Storage::filled(shape.numel(), value), shape)
    }

    /// A contiguous tensor whose values are unspecified (PyTorch's
    /// `torch.empty`): each is some `T` — an earlier tensor's, from a
    /// recycled buffer, or zero — so write every element before reading
    /// any. For a kernel that computes every output: it skips the pass
    /// over memory that [`zeros`](Self::zeros) spends filling a buffer
    /// about to be overwritten.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let mut t = Tensor::<f32>::empty([2, 3]);
    /// t.as_mut_slice().iter_mut().enumerate().for_each(|(i, v)| *v = i as f32);
    /// assert_eq!(t.to_vec(), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    /// ```
    #[must_use]
    pub fn empty(shape: impl Into<Shape>) -> Self {
        let shape = shape.into();
        Self::from_parts(Storage::scratch(shape.numel(), T::zero()), shape)
    }

    /// All zeros.
    #[must_use]
    pub fn zeros(shape: impl Into<Shape>) -> Self {
        Self::full(shape, T::zero())
    }

    /// All ones.
    #[must_use]
    pub fn ones(shape: impl Into<Shape>) -> Self {
        Self::full(shape, T::one())
    }

    /// Zeros with the shape of `other`.
    #[must_use]
    pub fn zeros_like(other: &Tensor<T>) -> Self {
        Self::zeros(other.shape().clone())
    }

    /// Ones with the shape of `other`.
    #[must_use]
    pub fn ones_like(other: &Tensor<T>) -> Self {
        Self::ones(other.shape().clone())
    }

    /// Element `[i, j, ...]` is `f(&[i, j, ...])`, filled in row-major order.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let t = Tensor::<f32>::from_fn([2, 3], |ix| (10 * ix[0] + ix[1]) as f32);
    /// assert_eq!(t.to_vec(), vec![0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
    /// ```
    #[must_use]
    pub fn from_fn(shape: impl Into<Shape>, mut f: impl FnMut(&[usize]) -> T) -> Self {
        let shape = shape.into();
        let n = shape.numel();
        let mut data = Vec::with_capacity(n);
        let mut idx = vec![0usize; shape.rank()];
        for _ in 0..n {
            data.push(f(&idx));
            for d in (0..idx.len()).rev() {
                idx[d] += 1;
                if idx[d] < shape[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        Self::from_parts(data, shape)
    }

    /// The `n × n` identity matrix.
    #[must_use]
    pub fn eye(n: usize) -> Self {
        Self::from_fn([n, n], |ix| if ix[0] == ix[1] { T::one() } else { T::zero() })
    }

    /// `start, start + step, ...` up to but excluding `end`, as a 1-D tensor.
    ///
    /// # Panics
    /// If `step` is zero or not finite.
    #[must_use]
    #[track_caller]
    pub fn arange(start: T, end: T, step: T) -> Self {
        assert!(step != T::zero() && step.is_finite(), "arange: step must be finite and non-zero, got {step}");
        let n = ((end - start) / step).ceil().to_usize().unwrap_or(0);
        let data: Vec<T> = (0..n).map(|i| start + step * T::from_usize(i).expect("usize fits float")).collect();
        Self::from_parts(data, Shape::new(&[n]))
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> &Shape {
        &self.layout.shape
    }

    /// The dimensions as a slice (shorthand for `shape().dims()`).
    #[must_use]
    pub fn dims(&self) -> &[usize] {
        self.layout.shape.dims()
    }

    /// Number of dimensions.
    #[must_use]
    pub fn rank(&self) -> usize {
        self.layout.shape.rank()
    }

    /// Number of elements.
    #[must_use]
    pub fn numel(&self) -> usize {
        self.layout.shape.numel()
    }

    /// The layout (shape, strides, offset).
    #[must_use]
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The strides, in elements.
    #[must_use]
    pub fn strides(&self) -> &[usize] {
        &self.layout.strides
    }

    /// True if the elements are row-major with no gaps.
    #[must_use]
    pub fn is_contiguous(&self) -> bool {
        self.layout.is_contiguous()
    }

    /// True if both tensors view the same storage (a view, not a copy).
    #[must_use]
    pub fn shares_storage(&self, other: &Tensor<T>) -> bool {
        self.data.ptr_eq(&other.data)
    }

    /// The elements as a slice, if the tensor is contiguous.
    #[must_use]
    pub fn as_slice(&self) -> Option<&[T]> {
        self.is_contiguous().then(|| &self.data[self.layout.offset..self.layout.offset + self.numel()])
    }

    /// The elements in row-major order, borrowed when the tensor is contiguous.
    pub fn contiguous_data(&self) -> std::borrow::Cow<'_, [T]> {
        match self.as_slice() {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => std::borrow::Cow::Owned(self.to_vec()),
        }
    }

    /// The elements in row-major order, as a new `Vec`.
    #[must_use]
    pub fn to_vec(&self) -> Vec<T> {
        match self.as_slice() {
            Some(s) => s.to_vec(),
            None => strided::map(&self.data, &self.layout, |x| x).into_vec(),
        }
    }

    /// This tensor with contiguous row-major storage: itself (no copy) if it
    /// already is, else a copy.
    #[must_use]
    pub fn contiguous(&self) -> Tensor<T> {
        if self.is_contiguous() {
            self.clone()
        } else {
            Self::from_parts(strided::map(&self.data, &self.layout, |x| x), self.shape().clone())
        }
    }

    /// Mutable access to the elements, row-major. Copies first if the storage
    /// is shared with another tensor or the view is not contiguous over all of it.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        let whole = self.is_contiguous() && self.layout.offset == 0 && self.data.len() == self.numel();
        if !whole {
            *self = Self::from_parts(self.to_vec(), self.shape().clone());
        }
        self.data.make_mut()
    }

    /// Consumes the tensor and returns its row-major values, without a new
    /// allocation when the storage is not shared (a large tensor's values,
    /// which start on a cache line, are moved to the front of their buffer).
    #[must_use]
    pub fn into_vec(self) -> Vec<T> {
        let whole = self.is_contiguous() && self.layout.offset == 0 && self.data.len() == self.numel();
        if whole {
            self.data.into_vec()
        } else {
            self.to_vec()
        }
    }

    /// The element at a multi-index.
    ///
    /// # Panics
    /// If the index has the wrong rank or is out of bounds.
    #[must_use]
    #[track_caller]
    pub fn get(&self, index: &[usize]) -> T {
        assert!(
            index.len() == self.rank() && index.iter().zip(self.dims()).all(|(i, d)| i < d),
            "get: index {index:?} is out of bounds for shape {:?}",
            self.shape()
        );
        self.data[self.layout.position(index)]
    }

    /// Sets the element at a multi-index (copy-on-write).
    ///
    /// # Panics
    /// If the index has the wrong rank or is out of bounds.
    #[track_caller]
    pub fn set(&mut self, index: &[usize], value: T) {
        assert!(
            index.len() == self.rank() && index.iter().zip(self.dims()).all(|(i, d)| i < d),
            "set: index {index:?} is out of bounds for shape {:?}",
            self.shape()
        );
        let pos: usize = index.iter().zip(self.shape().contiguous_strides().iter()).map(|(i, s)| i * s).sum();
        self.as_mut_slice()[pos] = value;
    }

    /// The single value of a one-element tensor.
    ///
    /// # Panics
    /// If the tensor does not have exactly one element.
    #[must_use]
    #[track_caller]
    pub fn item(&self) -> T {
        assert!(self.numel() == 1, "item: tensor of shape {:?} has {} elements, not 1", self.shape(), self.numel());
        self.data[self.layout.offset]
    }

    /// Converts every element to another float type.
    #[must_use]
    pub fn cast<U: Float>(&self) -> Tensor<U> {
        Tensor::from_parts(strided::map(&self.data, &self.layout, |x| U::of(x.as_f64())), self.shape().clone())
    }

    /// True if shapes are equal and every pair of elements is within
    /// `atol + rtol * |other|` (NaNs are never close).
    #[must_use]
    pub fn allclose(&self, other: &Tensor<T>, rtol: T, atol: T) -> bool {
        self.shape() == other.shape()
            && self
                .contiguous_data()
                .iter()
                .zip(other.contiguous_data().iter())
                .all(|(&a, &b)| (a - b).abs() <= atol + rtol * b.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors() {
        assert_eq!(Tensor::<f32>::zeros([2, 2]).to_vec(), vec![0.0; 4]);
        assert_eq!(Tensor::<f64>::eye(2).to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
        assert_eq!(Tensor::<f32>::arange(0.0, 1.0, 0.25).to_vec(), vec![0.0, 0.25, 0.5, 0.75]);
        assert_eq!(Tensor::<f32>::arange(3.0, 0.0, -1.0).to_vec(), vec![3.0, 2.0, 1.0]);
        assert_eq!(Tensor::<f32>::arange(0.0, -1.0, 1.0).numel(), 0);
        assert_eq!(Tensor::scalar(3.0f32).item(), 3.0);
        assert_eq!(Tensor::<f32>::zeros([3, 0]).numel(), 0);
    }

    #[test]
    fn large_tensors_reuse_freed_buffers_and_overwrite_every_value() {
        let n = crate::pool::MIN_LEN * 2;
        let a = Tensor::<f32>::full([n], 7.0);
        let ptr = a.contiguous_data().as_ptr();
        drop(a);
        // The freed buffer comes back for the next tensor of its length,
        // with every value written anew.
        let b = Tensor::<f32>::from_iter_exact((0..n).map(|i| i as f32), [n]).unwrap();
        assert_eq!(b.contiguous_data().as_ptr(), ptr);
        assert!(b.to_vec().iter().enumerate().all(|(i, &v)| v == i as f32));
        drop(b);
        let z = Tensor::<f32>::zeros([2, n / 2]);
        assert!(z.to_vec().iter().all(|&v| v == 0.0));
        let m = z.map(|v| v + 1.0);
        assert!(m.to_vec().iter().all(|&v| v == 1.0));
    }

    /// An iterator whose size hint promises more values than it yields.
    struct Liar(usize, usize);
    impl Iterator for Liar {
        type Item = f64;
        fn next(&mut self) -> Option<f64> {
            (self.1 > 0).then(|| {
                self.1 -= 1;
                1.0
            })
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            (self.0, Some(self.0))
        }
    }

    #[test]
    fn from_iter_exact_checks_what_an_iterator_yields_not_what_it_promises() {
        let n = crate::pool::MIN_LEN + 5;
        let err = Tensor::<f64>::from_iter_exact(Liar(n, n - 1), [n]).unwrap_err();
        assert!(matches!(err, TensorError::Length { len, .. } if len == n - 1), "{err}");
        let ok = Tensor::<f64>::from_iter_exact(Liar(n - 2, n), [n]).unwrap();
        assert_eq!(ok.numel(), n);
    }

    #[test]
    fn from_vec_rejects_wrong_length() {
        let err = Tensor::from_vec(vec![0.0f32; 3], [2, 2]).unwrap_err();
        assert!(matches!(err, TensorError::Length { len: 3, .. }));
        assert_eq!(err.to_string(), "from_vec: 3 values cannot fill shape [2, 2] (4 elements)");
        assert!(Tensor::from_slice(&[1.0f64], [1, 2]).is_err());
    }

    #[test]
    #[should_panic(expected = "arange: step must be finite and non-zero")]
    fn arange_zero_step_panics() {
        let _ = Tensor::<f32>::arange(0.0, 1.0, 0.0);
    }

    #[test]
    #[should_panic(expected = "get: index [2, 0] is out of bounds for shape [2, 2]")]
    fn get_out_of_bounds_panics() {
        let _ = Tensor::<f32>::zeros([2, 2]).get(&[2, 0]);
    }

    #[test]
    #[should_panic(expected = "item: tensor of shape [2] has 2 elements, not 1")]
    fn item_needs_one_element() {
        let _ = Tensor::<f32>::zeros([2]).item();
    }

    #[test]
    fn copy_on_write_leaves_views_alone() {
        let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]).unwrap();
        let mut b = a.clone();
        assert!(a.shares_storage(&b));
        b.set(&[0, 1], 9.0);
        assert!(!a.shares_storage(&b));
        assert_eq!(a.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(b.to_vec(), vec![1.0, 9.0, 3.0, 4.0]);
        let mut owned = Tensor::from_vec(vec![1.0f32, 2.0], [2]).unwrap();
        let before = owned.data.as_ptr();
        owned.as_mut_slice()[0] = 5.0;
        assert_eq!(before, owned.data.as_ptr(), "unshared storage is written in place");
    }
}
