//! Elementwise ops: unary maps, broadcasting binary ops, scalar ops and
//! comparisons (which return 0/1 masks of the same float type).

use rayon::prelude::*;

use crate::error::{OrPanic, TensorError};
use crate::float::Float;
use crate::kernels::{par, strided, CHUNK, PAR_THRESHOLD};
use crate::scalar::sigmoid;
use crate::shape::Shape;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// Defines a binary op in two forms: `try_name` returns a `Result`, `name`
/// panics with the same message (naming the op and both shapes).
macro_rules! binary_ops {
    ($( $(#[$doc:meta])* $name:ident, $try_name:ident, $opname:literal, |$a:ident, $b:ident| $body:expr; )*) => {
        impl<T: Float> Tensor<T> {
            $(
                $(#[$doc])*
                ///
                /// Shapes are broadcast as in NumPy.
                ///
                /// # Errors
                /// [`TensorError::Broadcast`] if the shapes are incompatible.
                pub fn $try_name(&self, other: &Tensor<T>) -> Result<Tensor<T>, TensorError> {
                    self.try_zip_with(other, $opname, |$a, $b| $body)
                }

                $(#[$doc])*
                ///
                /// Shapes are broadcast as in NumPy.
                ///
                /// # Panics
                /// If the shapes cannot be broadcast together; the message names
                /// the op and both shapes.
                #[must_use]
                #[track_caller]
                pub fn $name(&self, other: &Tensor<T>) -> Tensor<T> {
                    self.zip_or_panic(other, $opname, |$a, $b| $body)
                }
            )*
        }
    };
}

binary_ops! {
    /// Elementwise sum.
    add, try_add, "add", |x, y| x + y;
    /// Elementwise difference.
    sub, try_sub, "sub", |x, y| x - y;
    /// Elementwise product.
    mul, try_mul, "mul", |x, y| x * y;
    /// Elementwise quotient.
    div, try_div, "div", |x, y| x / y;
    /// Elementwise maximum (NaN if either is NaN).
    maximum, try_maximum, "maximum", |x, y| if x.is_nan() || y.is_nan() { T::nan() } else { x.max(y) };
    /// Elementwise minimum (NaN if either is NaN).
    minimum, try_minimum, "minimum", |x, y| if x.is_nan() || y.is_nan() { T::nan() } else { x.min(y) };
    /// Elementwise power `self^other`.
    pow, try_pow, "pow", |x, y| x.powf(y);
    /// 1 where `self > other`, else 0.
    gt, try_gt, "gt", |x, y| mask(x > y);
    /// 1 where `self >= other`, else 0.
    ge, try_ge, "ge", |x, y| mask(x >= y);
    /// 1 where `self < other`, else 0.
    lt, try_lt, "lt", |x, y| mask(x < y);
    /// 1 where `self <= other`, else 0.
    le, try_le, "le", |x, y| mask(x <= y);
    /// 1 where `self == other`, else 0.
    eq_elem, try_eq_elem, "eq", |x, y| mask(x == y);
}

#[inline(always)]
fn mask<T: Float>(b: bool) -> T {
    if b {
        T::one()
    } else {
        T::zero()
    }
}

/// Defines unary maps.
macro_rules! unary_ops {
    ($( $(#[$doc:meta])* $name:ident, |$x:ident| $body:expr; )*) => {
        impl<T: Float> Tensor<T> {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $name(&self) -> Tensor<T> {
                    self.map(|$x| $body)
                }
            )*
        }
    };
}

unary_ops! {
    /// `e^x`.
    exp, |x| x.exp();
    /// Natural logarithm.
    ln, |x| x.ln();
    /// Square root.
    sqrt, |x| x.sqrt();
    /// Absolute value.
    abs, |x| x.abs();
    /// Negation.
    neg, |x| -x;
    /// `1 / x`.
    recip, |x| x.recip();
    /// `x²`.
    square, |x| x * x;
    /// Sine.
    sin, |x| x.sin();
    /// Cosine.
    cos, |x| x.cos();
    /// Sign: -1, 0 or 1 (NaN stays NaN).
    signum, |x| if x == T::zero() { T::zero() } else { x.signum() };
    /// Round toward negative infinity.
    floor, |x| x.floor();
    /// Round toward positive infinity.
    ceil, |x| x.ceil();
    /// Round half away from zero.
    round, |x| x.round();
    /// Logistic sigmoid `1 / (1 + e^-x)`, computed without overflow for large |x|.
    sigmoid, |x| sigmoid(x);
    /// `max(x, 0)`.
    relu, |x| if x > T::zero() { x } else { T::zero() };
    /// 1 where the value is NaN, else 0.
    isnan, |x| mask(x.is_nan());
}

impl<T: Float> Tensor<T> {
    /// Hyperbolic tangent ([`scalar::tanh`](crate::scalar::tanh)), through a
    /// vectorised kernel for `f32`.
    #[must_use]
    pub fn tanh(&self) -> Tensor<T> {
        let src = self.contiguous_data();
        let mut storage = Storage::scratch(src.len(), T::zero());
        let out = storage.make_mut();
        if par(src.len()) {
            out.par_chunks_mut(CHUNK).zip(src.par_chunks(CHUNK)).for_each(|(o, s)| T::tanh_slice(s, o));
        } else {
            T::tanh_slice(&src, out);
        }
        Tensor::from_parts(storage, self.shape().clone())
    }

    /// [`tanh`](Self::tanh) in place, with the same kernel and the same
    /// values (copied first if the storage is shared, as any write).
    pub fn tanh_in_place(&mut self) {
        /// Elements copied aside at a time: the kernel reads one slice and
        /// writes another.
        const RUN: usize = 256;
        let run = |data: &mut [T]| {
            for piece in data.chunks_mut(RUN) {
                let mut src = [T::zero(); RUN];
                src[..piece.len()].copy_from_slice(piece);
                T::tanh_slice(&src[..piece.len()], piece);
            }
        };
        let data = self.as_mut_slice();
        if par(data.len()) {
            data.par_chunks_mut(CHUNK).for_each(run);
        } else {
            run(data);
        }
    }

    /// `f` applied to every element in place (PyTorch's `apply_`), parallel
    /// above a size threshold; copied first if the storage is shared.
    pub fn map_in_place(&mut self, f: impl Fn(T) -> T + Sync + Send) {
        let data = self.as_mut_slice();
        let run = |d: &mut [T]| d.iter_mut().for_each(|x| *x = f(*x));
        if par(data.len()) {
            data.par_chunks_mut(CHUNK).for_each(run);
        } else {
            run(data);
        }
    }

    /// `f` applied to every element (parallel above a size threshold).
    #[must_use]
    pub fn map(&self, f: impl Fn(T) -> T + Sync + Send) -> Tensor<T> {
        Tensor::from_parts(strided::map(&self.data, &self.layout, f), self.shape().clone())
    }

    /// `f(a, b)` over the broadcast shape of `self` and `other`.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast together.
    #[must_use]
    #[track_caller]
    pub fn zip_with(&self, other: &Tensor<T>, f: impl Fn(T, T) -> T + Sync + Send) -> Tensor<T> {
        self.zip_or_panic(other, "zip_with", f)
    }

    fn try_zip_with(
        &self,
        other: &Tensor<T>,
        op: &'static str,
        f: impl Fn(T, T) -> T + Sync + Send,
    ) -> Result<Tensor<T>, TensorError> {
        let shape = self.broadcast_for(other, op)?;
        Ok(self.zip_in(other, shape, f))
    }

    /// The panicking form of [`try_zip_with`](Self::try_zip_with): only the
    /// (small) broadcast shape passes through a `Result`, not the output
    /// tensor, which keeps the hot path of every binary op lean.
    #[track_caller]
    #[inline]
    fn zip_or_panic(&self, other: &Tensor<T>, op: &'static str, f: impl Fn(T, T) -> T + Sync + Send) -> Tensor<T> {
        let shape = self.broadcast_for(other, op).or_panic();
        self.zip_in(other, shape, f)
    }

    /// `None` when the shapes are equal, else their broadcast shape.
    #[inline]
    fn broadcast_for(&self, other: &Tensor<T>, op: &'static str) -> Result<Option<Shape>, TensorError> {
        if self.shape() == other.shape() {
            Ok(None)
        } else {
            self.shape().broadcast(other.shape(), op).map(Some)
        }
    }

    /// `f` over both operands, broadcast to `shape` (`None`: both have this one's).
    #[inline]
    fn zip_in(&self, other: &Tensor<T>, shape: Option<Shape>, f: impl Fn(T, T) -> T + Sync + Send) -> Tensor<T> {
        let Some(shape) = shape else {
            let out = strided::zip(&self.data, &self.layout, &other.data, &other.layout, f);
            return Tensor::from_parts(out, self.shape().clone());
        };
        // A bias added to every row: both contiguous, one operand's shape the
        // trailing dimensions of the other's. Common and small, so it skips
        // the general strided walk.
        if self.numel() < PAR_THRESHOLD
            && let (Some(a), Some(b)) = (self.as_slice(), other.as_slice())
        {
            if &shape == self.shape() && self.dims().ends_with(other.dims()) {
                return Tensor::from_parts(strided::zip_rows(a, b, f), shape);
            }
            if &shape == other.shape() && other.dims().ends_with(self.dims()) {
                return Tensor::from_parts(strided::zip_rows(b, a, |y, x| f(x, y)), shape);
            }
        }
        let la = self.layout.broadcast_to(&shape);
        let lb = other.layout.broadcast_to(&shape);
        Tensor::from_parts(strided::zip(&self.data, &la, &other.data, &lb, f), shape)
    }

    /// Every element plus `s`.
    #[must_use]
    pub fn add_scalar(&self, s: T) -> Tensor<T> {
        self.map(|x| x + s)
    }

    /// Every element minus `s`.
    #[must_use]
    pub fn sub_scalar(&self, s: T) -> Tensor<T> {
        self.map(|x| x - s)
    }

    /// Every element times `s`.
    #[must_use]
    pub fn mul_scalar(&self, s: T) -> Tensor<T> {
        self.map(|x| x * s)
    }

    /// Every element divided by `s`.
    #[must_use]
    pub fn div_scalar(&self, s: T) -> Tensor<T> {
        self.map(|x| x / s)
    }

    /// Every element to the power `p`.
    #[must_use]
    pub fn powf(&self, p: T) -> Tensor<T> {
        self.map(|x| x.powf(p))
    }

    /// Every element to the integer power `n`.
    #[must_use]
    pub fn powi(&self, n: i32) -> Tensor<T> {
        self.map(|x| x.powi(n))
    }

    /// Every element clamped to `[lo, hi]` (NaN stays NaN).
    #[must_use]
    pub fn clamp(&self, lo: T, hi: T) -> Tensor<T> {
        self.map(|x| {
            if x < lo {
                lo
            } else if x > hi {
                hi
            } else {
                x
            }
        })
    }

    /// 1 where the element is greater than `s`, else 0.
    #[must_use]
    pub fn gt_scalar(&self, s: T) -> Tensor<T> {
        self.map(|x| mask(x > s))
    }

    /// 1 where the element is less than `s`, else 0.
    #[must_use]
    pub fn lt_scalar(&self, s: T) -> Tensor<T> {
        self.map(|x| mask(x < s))
    }

    /// `mask ? self : other` elementwise, broadcasting all three (a mask value
    /// counts as true when it is non-zero).
    ///
    /// # Panics
    /// If the three shapes cannot be broadcast together.
    #[must_use]
    #[track_caller]
    pub fn where_mask(&self, mask: &Tensor<T>, other: &Tensor<T>) -> Tensor<T> {
        let shape = self
            .shape()
            .broadcast(mask.shape(), "where_mask")
            .and_then(|s| s.broadcast(other.shape(), "where_mask"))
            .or_panic();
        let (m, a, b) = (mask.broadcast_to(&shape), self.broadcast_to(&shape), other.broadcast_to(&shape));
        let out = m.to_vec().into_iter().zip(a.to_vec()).zip(b.to_vec());
        Tensor::from_parts(out.map(|((m, a), b)| if m != T::zero() { a } else { b }).collect::<Vec<T>>(), shape)
    }

    /// True if any element is NaN or infinite.
    #[must_use]
    pub fn has_non_finite(&self) -> bool {
        self.contiguous_data().iter().any(|x| !x.is_finite())
    }

    /// A tensor of the given shape filled from `self` by broadcasting (a view).
    ///
    /// # Panics
    /// If `self` cannot be broadcast to `shape`.
    #[must_use]
    #[track_caller]
    pub fn broadcast_to(&self, shape: impl Into<Shape>) -> Tensor<T> {
        let shape = shape.into();
        let ok = self.shape().broadcast(&shape, "broadcast_to").map(|s| s == shape).unwrap_or(false);
        assert!(ok, "broadcast_to: shape {:?} cannot be broadcast to {:?}", self.shape(), shape);
        self.with_layout(self.layout.broadcast_to(&shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f32], s: &[usize]) -> Tensor<f32> {
        Tensor::from_slice(v, s).unwrap()
    }

    #[test]
    fn in_place_maps_match_the_copying_ones_and_leave_sharers_alone() {
        // Lengths around the copy-aside run of 256 and the parallel cut.
        for n in [1, 7, 255, 256, 257, 1000, PAR_THRESHOLD + 3] {
            let v: Vec<f32> = (0..n).map(|i| ((i * 7919 % 2003) as f32 - 1001.0) / 97.0).collect();
            let a = Tensor::from_vec(v.clone(), [n]).unwrap();
            let mut b = a.clone();
            b.tanh_in_place();
            assert_eq!(b.to_vec(), a.tanh().to_vec(), "tanh, {n} elements");
            let mut c = a.clone();
            c.map_in_place(|x| x.max(0.0) * 3.0);
            assert_eq!(c.to_vec(), a.map(|x| x.max(0.0) * 3.0).to_vec(), "map, {n} elements");
            assert_eq!(a.to_vec(), v, "the shared original is unchanged");
        }
        // A strided view is written as a contiguous copy.
        let m = t(&[1.0, -2.0, 3.0, -4.0, 5.0, -6.0], &[2, 3]);
        let mut v = m.t();
        v.map_in_place(|x| -x);
        assert_eq!(v.to_vec(), m.t().neg().to_vec());
        assert_eq!(m.to_vec(), vec![1.0, -2.0, 3.0, -4.0, 5.0, -6.0]);
    }

    #[test]
    fn broadcast_binary() {
        let a = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        let row = t(&[10.0, 20.0, 30.0], &[3]);
        let col = t(&[100.0, 200.0], &[2, 1]);
        assert_eq!(a.add(&row).to_vec(), vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
        assert_eq!(a.add(&col).to_vec(), vec![101.0, 102.0, 103.0, 204.0, 205.0, 206.0]);
        assert_eq!(col.sub(&row).dims(), &[2, 3]);
        assert_eq!(a.t().mul(&col.t()).to_vec(), vec![100.0, 800.0, 200.0, 1000.0, 300.0, 1200.0]);
        // The row-broadcast fast path, with the repeated operand on either
        // side of an op that does not commute, and over two leading axes.
        assert_eq!(a.sub(&row).to_vec(), vec![-9.0, -18.0, -27.0, -6.0, -15.0, -24.0]);
        assert_eq!(row.sub(&a).to_vec(), vec![9.0, 18.0, 27.0, 6.0, 15.0, 24.0]);
        let cube = a.reshape([2, 1, 3]).broadcast_to([2, 2, 3]).contiguous();
        assert_eq!(a.reshape([1, 2, 3]).div(&cube).dims(), &[2, 2, 3]);
        assert_eq!(cube.sub(&a).to_vec(), vec![0.0, 0.0, 0.0, -3.0, -3.0, -3.0, 3.0, 3.0, 3.0, 0.0, 0.0, 0.0]);
        assert_eq!(Tensor::<f32>::zeros([0, 3]).add(&row).dims(), &[0, 3]);
        assert_eq!(Tensor::<f32>::zeros([2, 0]).add(&Tensor::zeros([0])).dims(), &[2, 0]);
    }

    #[test]
    #[should_panic(expected = "add: shapes [2, 3] and [2] cannot be broadcast together")]
    fn mismatched_add_panics() {
        let _ = Tensor::<f32>::zeros([2, 3]).add(&Tensor::zeros([2]));
    }

    #[test]
    fn try_form_returns_error() {
        let e = Tensor::<f64>::zeros([3]).try_mul(&Tensor::zeros([4])).unwrap_err();
        assert!(matches!(e, TensorError::Broadcast { op: "mul", .. }));
    }

    #[test]
    fn sigmoid_is_stable() {
        let x = t(&[-1e4, 0.0, 1e4], &[3]);
        assert_eq!(x.sigmoid().to_vec(), vec![0.0, 0.5, 1.0]);
    }

    #[test]
    fn masks_and_where() {
        let a = t(&[1.0, -2.0, 3.0], &[3]);
        let m = a.gt_scalar(0.0);
        assert_eq!(m.to_vec(), vec![1.0, 0.0, 1.0]);
        let other = Tensor::full([3], f32::NAN);
        let w = a.where_mask(&m, &other);
        assert_eq!(w.get(&[0]), 1.0);
        assert!(w.get(&[1]).is_nan());
        assert_eq!(a.maximum(&t(&[0.0], &[1])).to_vec(), vec![1.0, 0.0, 3.0]);
        assert!(a.maximum(&t(&[f32::NAN], &[1])).get(&[0]).is_nan());
    }
}
