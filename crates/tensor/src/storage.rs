//! [`Storage`]: a tensor's shared elements.
//!
//! Two forms, one job: `Slice` is a single allocation (`Arc<[T]>`), which
//! elementwise kernels fill in place from an exact-size iterator — for the
//! many tiny tensors of a training step that halves the allocations (a
//! measured quarter of a tiny-op tape's time was malloc/free). `Vec` takes
//! ownership of a kernel's `Vec` output (matmul, parallel maps) without
//! copying it. Large outputs come from, and go back to, this thread's
//! buffer [pool](crate::pool).

use std::ops::Deref;
use std::sync::Arc;

use crate::pool::{self, Recycled};

/// Shared, copy-on-write element storage.
pub(crate) enum Storage<T> {
    /// One allocation holding the count and the elements.
    Slice(Arc<[T]>),
    /// A moved-in vector, or a large buffer that returns to the pool.
    Vec(Arc<Recycled<T>>),
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
        Storage::Vec(Arc::new(Recycled::plain(v)))
    }
}

impl<T> From<Arc<[T]>> for Storage<T> {
    #[inline]
    fn from(a: Arc<[T]>) -> Self {
        Storage::Slice(a)
    }
}

/// Outputs below this many elements are built as one allocation; larger
/// ones come from the pool.
const SMALL: usize = pool::MIN_LEN;

impl<T: Copy + 'static> Storage<T> {
    /// `n` copies of `value`: one allocation when small, a recycled buffer
    /// (or a new one) when large.
    pub(crate) fn filled(n: usize, value: T) -> Self {
        if n < SMALL {
            return Storage::Slice(std::iter::repeat_n(value, n).collect());
        }
        let mut buf = Recycled::aligned(n, value);
        buf.as_mut_slice().fill(value);
        Self::recycled(buf)
    }

    /// `n` elements whose values are unspecified (each is some `T`), for a
    /// kernel that writes all of them through [`make_mut`](Self::make_mut):
    /// one allocation when small (as [`filled`](Self::filled)), a recycled
    /// buffer that is not zeroed first when large.
    pub(crate) fn scratch(n: usize, value: T) -> Self {
        if n < SMALL {
            return Self::filled(n, value);
        }
        Self::recycled(Self::overwritten(n, value))
    }

    /// A buffer of `n` elements whose values are unspecified (each is some
    /// `T`), for a kernel that writes all of them: recycled when one of
    /// that length is free, else `n` copies of `value`; 64-byte aligned.
    pub(crate) fn overwritten(n: usize, value: T) -> Recycled<T> {
        Recycled::aligned(n, value)
    }

    /// Takes `buf` (from [`Storage::overwritten`]), to go back to the pool
    /// when the last tensor using it is dropped.
    pub(crate) fn recycled(buf: Recycled<T>) -> Self {
        Storage::Vec(Arc::new(buf))
    }
}

impl<T: Copy + 'static> Storage<T> {
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

    /// The elements as a `Vec`, without a new allocation when a sole `Vec`
    /// holds them (see [`Recycled::into_inner`]).
    pub(crate) fn into_vec(self) -> Vec<T> {
        match self {
            Storage::Vec(v) => Arc::try_unwrap(v).map_or_else(|arc| arc.as_slice().to_vec(), Recycled::into_inner),
            Storage::Slice(a) => a.to_vec(),
        }
    }
}
