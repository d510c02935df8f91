//! [`Shape`]: the extent of each dimension, and NumPy's broadcasting rule.

use std::fmt;
use std::ops::Index;

use smallvec::SmallVec;

use crate::error::TensorError;

/// The dimensions of a tensor, outermost first. Up to four dimensions live
/// inline without a heap allocation.
#[derive(Eq, Default)]
pub struct Shape(SmallVec<[usize; 4]>);

// Shapes are compared on every binary op; an inline loop beats a call to
// `memcmp` for a handful of words (a measured 4% of a tiny-op tape).
impl PartialEq for Shape {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0.as_slice(), other.0.as_slice());
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
    }
}

// Hashes the dimensions, consistent with `eq` above.
impl std::hash::Hash for Shape {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.as_slice().hash(state);
    }
}

// Shapes are cloned on every op: see `copy_dims`.
impl Clone for Shape {
    #[inline]
    fn clone(&self) -> Self {
        Shape(copy_dims(&self.0))
    }
}

/// A copy of a short list of dimensions or strides. Up to four values are
/// copied as a fixed four-word buffer: SmallVec's own `from_slice` (and its
/// derived `Clone`) copy a variable length, which becomes a `memcpy` call,
/// several times a tiny op.
#[inline(always)]
pub(crate) fn copy_dims(s: &[usize]) -> SmallVec<[usize; 4]> {
    swapped_dims(s, 0, 0)
}

/// [`copy_dims`] with positions `a` and `b` exchanged. Each word is picked
/// from the source and stored once: swapping in a copy already written to
/// the stack, and then moving that copy, made the move's wide loads wait for
/// the narrow stores (a store-forwarding stall that took 5% of the XOR step).
#[inline(always)]
pub(crate) fn swapped_dims(s: &[usize], a: usize, b: usize) -> SmallVec<[usize; 4]> {
    if s.len() <= 4 {
        let pick = |i: usize| {
            let j = if i == a {
                b
            } else if i == b {
                a
            } else {
                i
            };
            if i < s.len() {
                s[j]
            } else {
                0
            }
        };
        SmallVec::from_buf_and_len([pick(0), pick(1), pick(2), pick(3)], s.len())
    } else {
        let mut v = SmallVec::from_slice(s);
        v.swap(a, b);
        v
    }
}

impl Shape {
    /// A shape from its dimensions.
    #[must_use]
    pub fn new(dims: &[usize]) -> Self {
        Shape(copy_dims(dims))
    }

    /// The shape of a scalar (no dimensions, one element).
    #[must_use]
    pub fn scalar() -> Self {
        Shape(SmallVec::new())
    }

    /// The dimensions as a slice.
    #[must_use]
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of dimensions.
    #[must_use]
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements (1 for a scalar, 0 if any dimension is 0).
    #[must_use]
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    /// The element count, or `None` if the shape's sizes overflow: if the
    /// product of its dimensions, zeros counted as ones, exceeds
    /// `isize::MAX` (the row-major strides of `[0, 2^63, 4]` overflow though
    /// it holds no element). Shapes that come from outside data are checked
    /// with this before anything computes with them.
    #[must_use]
    pub fn checked_numel(&self) -> Option<usize> {
        let bound = self.0.iter().try_fold(1usize, |a, &d| a.checked_mul(d.max(1)))?;
        (bound <= isize::MAX as usize).then(|| self.numel())
    }

    /// Row-major (C-order) strides for this shape, in elements.
    #[must_use]
    #[inline]
    pub fn contiguous_strides(&self) -> SmallVec<[usize; 4]> {
        let dims = self.0.as_slice();
        if dims.len() <= 4 {
            // Every new tensor computes these: fill an inline buffer directly.
            let mut buf = [0usize; 4];
            let mut acc = 1;
            for i in (0..dims.len()).rev() {
                buf[i] = acc;
                acc *= dims[i].max(1);
            }
            return SmallVec::from_buf_and_len(buf, dims.len());
        }
        let mut strides: SmallVec<[usize; 4]> = SmallVec::from_elem(0, dims.len());
        let mut acc = 1;
        for (s, &d) in strides.iter_mut().zip(dims).rev() {
            *s = acc;
            acc *= d.max(1);
        }
        strides
    }

    /// The shape NumPy's broadcasting rule gives two shapes: align them at the
    /// right; each pair of dimensions must be equal or one of them 1.
    ///
    /// # Errors
    /// [`TensorError::Broadcast`] if some pair of dimensions is incompatible.
    pub fn broadcast(&self, other: &Shape, op: &'static str) -> Result<Shape, TensorError> {
        let rank = self.rank().max(other.rank());
        let mut out: SmallVec<[usize; 4]> = SmallVec::from_elem(0, rank);
        for i in 0..rank {
            let a = dim_from_right(&self.0, rank - 1 - i);
            let b = dim_from_right(&other.0, rank - 1 - i);
            out[i] = match (a, b) {
                (a, b) if a == b => a,
                (1, b) => b,
                (a, 1) => a,
                _ => return Err(TensorError::Broadcast { op, lhs: self.clone(), rhs: other.clone() }),
            };
        }
        Ok(Shape(out))
    }

    /// A shape over dimensions already collected.
    #[inline(always)]
    pub(crate) fn from_dims(dims: SmallVec<[usize; 4]>) -> Self {
        Shape(dims)
    }

    /// Resolves an axis that may be negative (`-1` is the last axis).
    ///
    /// # Panics
    /// If the axis is out of range for this rank.
    #[must_use]
    #[track_caller]
    pub fn axis(&self, axis: isize, op: &str) -> usize {
        let rank = self.rank() as isize;
        let a = if axis < 0 { axis + rank } else { axis };
        assert!((0..rank).contains(&a), "{op}: axis {axis} is out of range for shape {self:?} (rank {rank})");
        a as usize
    }
}

/// Dimension `k` counted from the right (0 = last), or 1 past the left edge.
fn dim_from_right(dims: &[usize], k: usize) -> usize {
    if k < dims.len() {
        dims[dims.len() - 1 - k]
    } else {
        1
    }
}

impl Index<usize> for Shape {
    type Output = usize;
    fn index(&self, i: usize) -> &usize {
        &self.0[i]
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl From<&[usize]> for Shape {
    fn from(d: &[usize]) -> Self {
        Shape::new(d)
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(d: [usize; N]) -> Self {
        Shape::new(&d)
    }
}

impl<const N: usize> From<&[usize; N]> for Shape {
    fn from(d: &[usize; N]) -> Self {
        Shape::new(d)
    }
}

impl From<Vec<usize>> for Shape {
    fn from(d: Vec<usize>) -> Self {
        Shape(SmallVec::from_vec(d))
    }
}

impl From<&Shape> for Shape {
    fn from(s: &Shape) -> Self {
        s.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_follows_numpy() {
        let a = Shape::new(&[8, 1, 6, 1]);
        let b = Shape::new(&[7, 1, 5]);
        assert_eq!(a.broadcast(&b, "t").unwrap().dims(), &[8, 7, 6, 5]);
        assert_eq!(Shape::scalar().broadcast(&b, "t").unwrap(), b);
        let err = Shape::new(&[2, 3]).broadcast(&Shape::new(&[4]), "add").unwrap_err();
        assert_eq!(err.to_string(), "add: shapes [2, 3] and [4] cannot be broadcast together");
    }

    #[test]
    fn strides_are_row_major() {
        assert_eq!(Shape::new(&[2, 3, 4]).contiguous_strides().as_slice(), &[12, 4, 1]);
        assert_eq!(Shape::scalar().numel(), 1);
        assert_eq!(Shape::new(&[3, 0]).numel(), 0);
    }

    #[test]
    #[should_panic(expected = "sum: axis 2 is out of range for shape [2, 3] (rank 2)")]
    fn bad_axis_panics() {
        let _ = Shape::new(&[2, 3]).axis(2, "sum");
    }
}
