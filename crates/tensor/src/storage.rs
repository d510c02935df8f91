//! [`Storage`]: a tensor's shared elements.
//!
//! Two forms, one job: `Slice` is a single allocation (`Arc<[T]>`), which
//! elementwise kernels fill in place from an exact-size iterator — for the
//! many tiny tensors of a training step that halves the allocations (a
//! measured quarter of a tiny-op tape's time was malloc/free). `Vec` takes
//! ownership of a kernel's `Vec` output (matmul, parallel maps) without
//! copying it.

use std::ops::Deref;
use std::sync::Arc;

/// Shared, copy-on-write element storage.
pub(crate) enum Storage<T> {
    /// One allocation holding the count and the elements.
    Slice(Arc<[T]>),
    /// A moved-in vector.
    Vec(Arc<Vec<T>>),
}

impl<T> Clone for Storage<T> {
    #[inline]
    fn clone(&self) -> Self {
        match self {
            Storage::Slice(a) => Storage::Slice(Arc::clone(a)),
            Storage::Vec(v) => Storage::Vec(Arc::clone(v)),
        }
    }
}

impl<T> Deref for Storage<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        match self {
            Storage::Slice(a) => a,
            Storage::Vec(v) => v.as_slice(),
        }
    }
}

impl<T> From<Vec<T>> for Storage<T> {
    #[inline]
    fn from(v: Vec<T>) -> Self {
        Storage::Vec(Arc::new(v))
    }
}

impl<T> From<Arc<[T]>> for Storage<T> {
    #[inline]
    fn from(a: Arc<[T]>) -> Self {
        Storage::Slice(a)
    }
}

/// Outputs up to this many elements are built as one allocation; larger ones
/// come from `vec!`, whose zeroed memory the OS hands out lazily.
const SMALL: usize = 1 << 12;

impl<T: Clone> Storage<T> {
    /// `n` copies of `value`, in one allocation when small.
    pub(crate) fn filled(n: usize, value: T) -> Self {
        if n <= SMALL {
            Storage::Slice(std::iter::repeat_n(value, n).collect())
        } else {
            Storage::Vec(Arc::new(vec![value; n]))
        }
    }

    /// True if both name the same allocation.
    pub(crate) fn ptr_eq(&self, other: &Storage<T>) -> bool {
        match (self, other) {
            (Storage::Slice(a), Storage::Slice(b)) => Arc::ptr_eq(a, b),
            (Storage::Vec(a), Storage::Vec(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// The elements for writing, copied first if another tensor shares them.
    pub(crate) fn make_mut(&mut self) -> &mut [T] {
        match self {
            Storage::Slice(a) => Arc::make_mut(a),
            Storage::Vec(v) => Arc::make_mut(v).as_mut_slice(),
        }
    }

    /// The elements as a `Vec`, without a copy when a sole `Vec` holds them.
    pub(crate) fn into_vec(self) -> Vec<T> {
        match self {
            Storage::Vec(v) => Arc::try_unwrap(v).unwrap_or_else(|arc| arc.as_ref().clone()),
            Storage::Slice(a) => a.to_vec(),
        }
    }
}
