//! [`Layout`]: how a tensor's logical indices map to positions in its storage
//! (shape, strides in elements, and an offset). Views such as transpose,
//! broadcast and row slices only change the layout, never the data.

use smallvec::SmallVec;

use crate::shape::{copy_dims, swapped_dims, Shape};

/// Strides, in elements, one per dimension. A stride of 0 repeats the same
/// element along that dimension (a broadcast view).
pub type Strides = SmallVec<[usize; 4]>;

/// Shape, strides and offset of a view into storage.
#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    pub(crate) shape: Shape,
    pub(crate) strides: Strides,
    pub(crate) offset: usize,
}

impl Clone for Layout {
    #[inline]
    fn clone(&self) -> Self {
        Layout { shape: self.shape.clone(), strides: copy_dims(&self.strides), offset: self.offset }
    }
}

impl Layout {
    /// A row-major layout starting at offset 0.
    #[must_use]
    #[inline(always)]
    pub fn contiguous(shape: Shape) -> Self {
        let strides = shape.contiguous_strides();
        Layout { shape, strides, offset: 0 }
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The strides, in elements.
    #[must_use]
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }

    /// Where element `[0, 0, ...]` sits in storage.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// True if the elements are laid out row-major with no gaps, so the view is
    /// the storage slice `offset .. offset + numel`. Dimensions of extent 1
    /// may have any stride.
    #[must_use]
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&d, &s) in self.shape.dims().iter().zip(self.strides.iter()).rev() {
            if d != 1 && s != expected {
                return false;
            }
            expected *= d;
        }
        true
    }

    /// Storage position of a multi-index.
    #[must_use]
    pub fn position(&self, index: &[usize]) -> usize {
        self.offset + index.iter().zip(self.strides.iter()).map(|(i, s)| i * s).sum::<usize>()
    }

    /// This layout viewed with `target` shape by broadcasting (stride 0 on
    /// new or expanded dimensions). The caller has checked compatibility.
    #[must_use]
    pub(crate) fn broadcast_to(&self, target: &Shape) -> Layout {
        let rank = target.rank();
        let lead = rank - self.shape.rank();
        let mut strides: Strides = SmallVec::from_elem(0, rank);
        for i in 0..self.shape.rank() {
            strides[lead + i] = if self.shape[i] == 1 && target[lead + i] != 1 { 0 } else { self.strides[i] };
        }
        Layout { shape: target.clone(), strides, offset: self.offset }
    }

    /// The dimensions reordered: dimension `i` of the result is `perm[i]` of self.
    #[must_use]
    pub(crate) fn permute(&self, perm: &[usize]) -> Layout {
        let dims: SmallVec<[usize; 4]> = perm.iter().map(|&p| self.shape[p]).collect();
        let strides: Strides = perm.iter().map(|&p| self.strides[p]).collect();
        Layout { shape: Shape::new(&dims), strides, offset: self.offset }
    }

    /// Dimensions `a` and `b` swapped.
    #[must_use]
    pub(crate) fn swap_axes(&self, a: usize, b: usize) -> Layout {
        Layout {
            shape: Shape::from_dims(swapped_dims(self.shape.dims(), a, b)),
            strides: swapped_dims(&self.strides, a, b),
            offset: self.offset,
        }
    }

    /// Elements `start .. start + len` along `axis`.
    #[must_use]
    pub(crate) fn narrow(&self, axis: usize, start: usize, len: usize) -> Layout {
        let mut dims = self.shape.dims().to_vec();
        dims[axis] = len;
        Layout {
            shape: Shape::new(&dims),
            strides: self.strides.clone(),
            offset: self.offset + start * self.strides[axis],
        }
    }
}

/// Merges adjacent dimensions that are laid out back to back in every operand,
/// so strided loops run over as few, as long rows as possible. Returns the
/// merged dims and, for each operand, its merged strides.
#[must_use]
pub(crate) fn coalesce<const N: usize>(dims: &[usize], strides: [&[usize]; N]) -> (Strides, [Strides; N]) {
    let mut out_dims: Strides = SmallVec::new();
    let mut out_strides: [Strides; N] = std::array::from_fn(|_| SmallVec::new());
    for (i, &d) in dims.iter().enumerate() {
        if d == 1 {
            continue;
        }
        let mergeable = !out_dims.is_empty()
            && (0..N).all(|k| {
                let last = *out_strides[k].last().unwrap_or(&0);
                last == strides[k][i] * d
            });
        if mergeable {
            *out_dims.last_mut().expect("non-empty") *= d;
            for k in 0..N {
                *out_strides[k].last_mut().expect("non-empty") = strides[k][i];
            }
        } else {
            out_dims.push(d);
            for k in 0..N {
                out_strides[k].push(strides[k][i]);
            }
        }
    }
    if out_dims.is_empty() {
        out_dims.push(1);
        for s in &mut out_strides {
            s.push(0);
        }
    }
    (out_dims, out_strides)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguity() {
        let l = Layout::contiguous(Shape::new(&[2, 3]));
        assert!(l.is_contiguous());
        assert!(!l.permute(&[1, 0]).is_contiguous());
        assert!(l.narrow(0, 1, 1).is_contiguous());
        assert!(!l.narrow(1, 1, 2).is_contiguous());
        assert!(!l.broadcast_to(&Shape::new(&[4, 2, 3])).is_contiguous());
    }

    #[test]
    fn coalesce_merges_row_major_runs() {
        let (d, [s]) = coalesce(&[2, 3, 4], [&[12, 4, 1]]);
        assert_eq!((d.as_slice(), s.as_slice()), (&[24usize][..], &[1usize][..]));
        // A broadcast row cannot merge with its row index.
        let (d, [a, b]) = coalesce(&[5, 4], [&[4, 1], &[0, 1]]);
        assert_eq!(d.as_slice(), &[5, 4]);
        assert_eq!((a.as_slice(), b.as_slice()), (&[4usize, 1][..], &[0usize, 1][..]));
    }
}
