//! The element types a [`Tensor`](crate::Tensor) can hold.
//!
//! `Float` is sealed: it is implemented for `f32` and `f64` only, because each
//! element type needs its own matmul micro-kernels (chosen at run time for the
//! CPU's SIMD level), and a third-party type could not supply them.

use std::cell::Cell;
use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};
use std::thread::LocalKey;

use crate::kernels::gemm::GemmKernel;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type: `f32` or `f64`.
///
/// Everything `num_traits::Float` offers is available, plus what the tensor
/// kernels need (thread safety, compound assignment, a dtype name).
pub trait Float:
    num_traits::Float
    + num_traits::FromPrimitive
    + num_traits::NumAssign
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
    + sealed::Sealed
{
    /// The dtype's name as NumPy and safetensors spell it (`"f32"`, `"f64"`).
    const DTYPE: &'static str;

    /// Converts from `f64`, rounding to the nearest representable value.
    fn of(x: f64) -> Self;

    /// Widens (or keeps) to `f64`.
    fn as_f64(self) -> f64;

    /// The matmul micro-kernel this CPU runs best for this type.
    #[doc(hidden)]
    fn gemm_kernel() -> GemmKernel<Self>;

    /// Every micro-kernel this CPU can run for this type, the portable one first
    /// (used by tests that check each SIMD kernel against the portable one).
    #[doc(hidden)]
    fn gemm_kernels() -> Vec<GemmKernel<Self>>;

    /// This thread's matmul packing buffers (A strips, B panel, and all of
    /// A packed once for the tasks of a column-split product), kept between
    /// products so a product neither allocates nor zeroes them.
    #[doc(hidden)]
    fn gemm_scratch() -> &'static LocalKey<Cell<[Vec<Self>; 3]>>;

    /// `dst[i] = tanh(src[i])` (slices of equal length), vectorised for `f32`.
    #[doc(hidden)]
    fn tanh_slice(src: &[Self], dst: &mut [Self]);

    /// `dst[p*w + i] = runs[i][p]` (matmul packing's transpose) with SIMD
    /// shuffles where this type and CPU have them; false, with nothing
    /// written, where they do not and the caller's scalar loop must run.
    #[doc(hidden)]
    fn interleave_simd(dst: &mut [Self], w: usize, kc: usize, runs: &[&[Self]]) -> bool;

    /// `out[j] ← [out[j] +] x · w[j·stride ..][..x.len()]` (a one-row
    /// product's dot products) with the vectors of the matmul kernel named
    /// `kernel`; false, with nothing written, where there are none.
    #[doc(hidden)]
    fn dot_rows_simd(kernel: &str, x: &[Self], w: &[Self], stride: usize, out: &mut [Self], acc: bool) -> bool;
}

impl Float for f32 {
    const DTYPE: &'static str = "f32";
    #[inline]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    fn gemm_kernel() -> GemmKernel<Self> {
        crate::kernels::gemm::best_f32()
    }
    fn gemm_kernels() -> Vec<GemmKernel<Self>> {
        crate::kernels::gemm::all_f32()
    }
    fn gemm_scratch() -> &'static LocalKey<Cell<[Vec<Self>; 3]>> {
        thread_local! { static SCRATCH: Cell<[Vec<f32>; 3]> = const { Cell::new([Vec::new(), Vec::new(), Vec::new()]) }; }
        &SCRATCH
    }
    fn tanh_slice(src: &[Self], dst: &mut [Self]) {
        crate::kernels::tanh::tanh_f32(src, dst);
    }
    fn interleave_simd(dst: &mut [Self], w: usize, kc: usize, runs: &[&[Self]]) -> bool {
        #[cfg(target_arch = "x86_64")]
        return crate::kernels::gemm::interleave_f32(dst, w, kc, runs);
        #[cfg(not(target_arch = "x86_64"))]
        return false;
    }
    fn dot_rows_simd(kernel: &str, x: &[Self], w: &[Self], stride: usize, out: &mut [Self], acc: bool) -> bool {
        #[cfg(target_arch = "x86_64")]
        return crate::kernels::gemm::dot_rows_f32(kernel, x, w, stride, out, acc);
        #[cfg(not(target_arch = "x86_64"))]
        return false;
    }
}

impl Float for f64 {
    const DTYPE: &'static str = "f64";
    #[inline]
    fn of(x: f64) -> Self {
        x
    }
    #[inline]
    fn as_f64(self) -> f64 {
        self
    }
    fn gemm_kernel() -> GemmKernel<Self> {
        crate::kernels::gemm::best_f64()
    }
    fn gemm_kernels() -> Vec<GemmKernel<Self>> {
        crate::kernels::gemm::all_f64()
    }
    fn gemm_scratch() -> &'static LocalKey<Cell<[Vec<Self>; 3]>> {
        thread_local! { static SCRATCH: Cell<[Vec<f64>; 3]> = const { Cell::new([Vec::new(), Vec::new(), Vec::new()]) }; }
        &SCRATCH
    }
    fn tanh_slice(src: &[Self], dst: &mut [Self]) {
        assert_eq!(src.len(), dst.len(), "tanh_slice: slice lengths differ");
        dst.iter_mut().zip(src).for_each(|(d, &x)| *d = x.tanh());
    }
    fn interleave_simd(_: &mut [Self], _: usize, _: usize, _: &[&[Self]]) -> bool {
        false
    }
    fn dot_rows_simd(kernel: &str, x: &[Self], w: &[Self], stride: usize, out: &mut [Self], acc: bool) -> bool {
        #[cfg(target_arch = "x86_64")]
        return crate::kernels::gemm::dot_rows_f64(kernel, x, w, stride, out, acc);
        #[cfg(not(target_arch = "x86_64"))]
        return false;
    }
}
