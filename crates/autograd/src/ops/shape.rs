//! Reductions and shape ops on vars.

use std::sync::Arc;

use strata_tensor::{Float, OrPanic, Tensor};

use crate::error::AutogradError;
use crate::op::Op;
use crate::var::Var;

impl<'t, T: Float> Var<'t, T> {
    /// Sum of all elements (a 0-d var). `d = 1` everywhere.
    #[must_use]
    pub fn sum(self) -> Var<'t, T> {
        self.unary(Op::SumAll(self.index), |a| Tensor::scalar(a.sum_all()))
    }

    /// Mean of all elements. `d = 1/n` everywhere.
    #[must_use]
    pub fn mean(self) -> Var<'t, T> {
        self.unary(Op::MeanAll(self.index), |a| Tensor::scalar(a.mean_all()))
    }

    /// Sum along `axis` (negative counts from the end). `d = 1`, broadcast back.
    ///
    /// # Panics
    /// If the axis is out of range.
    #[must_use]
    #[track_caller]
    pub fn sum_axis(self, axis: isize, keepdim: bool) -> Var<'t, T> {
        let ax = self.shape().axis(axis, "sum_axis");
        self.unary(Op::SumAxis(self.index, ax, keepdim), |a| a.sum_axis(ax as isize, keepdim))
    }

    /// Mean along `axis`. `d = 1/len`, broadcast back.
    ///
    /// # Panics
    /// If the axis is out of range.
    #[must_use]
    #[track_caller]
    pub fn mean_axis(self, axis: isize, keepdim: bool) -> Var<'t, T> {
        let ax = self.shape().axis(axis, "mean_axis");
        self.unary(Op::MeanAxis(self.index, ax, keepdim), |a| a.mean_axis(ax as isize, keepdim))
    }

    /// Largest value along `axis` (NaN propagates). The gradient goes to the
    /// element taken (the first of equal maxima), as PyTorch's `amax` does
    /// for a unique maximum.
    ///
    /// # Panics
    /// If the axis is out of range or has length 0.
    #[must_use]
    #[track_caller]
    pub fn max_axis(self, axis: isize, keepdim: bool) -> Var<'t, T> {
        self.pick_axis(axis, keepdim, true)
    }

    /// Smallest value along `axis`; see [`max_axis`](Self::max_axis).
    ///
    /// # Panics
    /// If the axis is out of range or has length 0.
    #[must_use]
    #[track_caller]
    pub fn min_axis(self, axis: isize, keepdim: bool) -> Var<'t, T> {
        self.pick_axis(axis, keepdim, false)
    }

    #[track_caller]
    fn pick_axis(self, axis: isize, keepdim: bool, max: bool) -> Var<'t, T> {
        let name = if max { "max_axis" } else { "min_axis" };
        let shape = self.shape();
        let ax = shape.axis(axis, name);
        let dims = shape.dims();
        let (outer, len, inner) = (dims[..ax].iter().product::<usize>(), dims[ax], dims[ax + 1..].iter().product());
        assert!(len > 0, "{name}: axis {axis} of shape {dims:?} is empty");
        let mut out_dims = dims.to_vec();
        if keepdim {
            out_dims[ax] = 1;
        } else {
            out_dims.remove(ax);
        }
        let (values, taken) = {
            let nodes = self.tape.nodes.borrow();
            let data = nodes.values[self.index].contiguous_data();
            let mut values = Vec::with_capacity(outer * inner);
            let mut taken = Vec::with_capacity(outer * inner);
            for o in 0..outer {
                for j in 0..inner {
                    let mut best = o * len * inner + j;
                    for r in 1..len {
                        let (at, v, b) = ((o * len + r) * inner + j, data[(o * len + r) * inner + j], data[best]);
                        let better = if max { v > b } else { v < b };
                        if !b.is_nan() && (better || v.is_nan()) {
                            best = at;
                        }
                    }
                    values.push(data[best]);
                    taken.push(best);
                }
            }
            (values, taken)
        };
        let out = Tensor::from_vec(values, out_dims).expect("one value per output");
        self.tape.record(Op::PickAxis(self.index, Arc::new(taken), max), out)
    }

    /// The same values in another shape. The gradient is reshaped back.
    ///
    /// # Panics
    /// If the element counts differ.
    #[must_use]
    #[track_caller]
    pub fn reshape(self, dims: &[usize]) -> Var<'t, T> {
        self.try_reshape(dims).or_panic()
    }

    /// [`reshape`](Self::reshape) that returns an error instead of panicking,
    /// for shapes that come from data.
    ///
    /// # Errors
    /// [`AutogradError::Tensor`] if the element counts differ.
    pub fn try_reshape(self, dims: &[usize]) -> Result<Var<'t, T>, AutogradError> {
        let out = self.tape.nodes.borrow().values[self.index].try_reshape(dims)?;
        Ok(self.tape.record(Op::Reshape(self.index), out))
    }

    /// Axes reordered. The gradient is permuted back.
    ///
    /// # Panics
    /// If `perm` is not a permutation of the axes.
    #[must_use]
    #[track_caller]
    pub fn permute(self, perm: &[usize]) -> Var<'t, T> {
        self.unary(Op::Permute(self.index, perm.to_vec()), |a| a.permute(perm))
    }

    /// Axes `a` and `b` swapped.
    ///
    /// # Panics
    /// If an axis is out of range.
    #[must_use]
    #[track_caller]
    pub fn transpose(self, a: isize, b: isize) -> Var<'t, T> {
        let shape = self.shape();
        let (a, b) = (shape.axis(a, "transpose"), shape.axis(b, "transpose"));
        self.unary(Op::Transpose(self.index, a, b), |t| t.transpose(a as isize, b as isize))
    }

    /// The last two axes swapped (matrix transpose).
    ///
    /// # Panics
    /// If the var has fewer than 2 dimensions.
    #[must_use]
    #[track_caller]
    pub fn t(self) -> Var<'t, T> {
        self.transpose(-2, -1)
    }

    /// Entries at `indices` along `axis`. The gradient is scattered back
    /// (repeated indices accumulate).
    ///
    /// # Panics
    /// If the axis or an index is out of range.
    #[must_use]
    #[track_caller]
    pub fn index_select(self, axis: isize, indices: &[usize]) -> Var<'t, T> {
        let ax = self.shape().axis(axis, "index_select");
        let idx: Arc<[usize]> = indices.into();
        self.unary(Op::IndexSelect(self.index, ax, idx), |a| a.index_select(ax as isize, indices))
    }

    /// Rows at `indices` (`index_select(0, ...)`).
    ///
    /// # Panics
    /// If an index is out of range.
    #[must_use]
    #[track_caller]
    pub fn select_rows(self, indices: &[usize]) -> Var<'t, T> {
        self.index_select(0, indices)
    }

    /// Entries `start .. start + len` along `axis`. The gradient is padded with zeros.
    ///
    /// # Panics
    /// If the axis or range is out of bounds.
    #[must_use]
    #[track_caller]
    pub fn narrow(self, axis: isize, start: usize, len: usize) -> Var<'t, T> {
        let ax = self.shape().axis(axis, "narrow");
        self.unary(Op::Narrow(self.index, ax, start), |a| a.narrow(ax as isize, start, len))
    }

    /// Vars joined along `axis`. Each part's gradient is its slice of the output's.
    ///
    /// # Panics
    /// If `parts` is empty, the vars come from different tapes, or the shapes
    /// do not fit (the message names them).
    #[must_use]
    #[track_caller]
    pub fn concat(parts: &[Var<'t, T>], axis: isize) -> Var<'t, T> {
        let first = *parts.first().expect("concat: no vars to concatenate");
        for p in parts {
            first.same_tape(p, "concat");
        }
        let ax = first.shape().axis(axis, "concat");
        let out = {
            let nodes = first.tape.nodes.borrow();
            let values: Vec<&Tensor<T>> = parts.iter().map(|p| &nodes.values[p.index]).collect();
            Tensor::concat(&values, ax as isize)
        };
        first.tape.record(Op::Concat(parts.iter().map(|p| p.index).collect(), ax), out)
    }
}
