//! Reduction loops. Sums use eight independent lanes (so LLVM vectorises them)
//! and fixed-size chunks whose partial sums are added in order, so a result is
//! the same bit for bit on 1 or 16 threads.

use rayon::prelude::*;

use super::{par, CHUNK};
use crate::float::Float;
use crate::storage::Storage;

/// Sum of a slice with eight lanes, then the lanes in a fixed order.
#[inline]
pub(crate) fn sum_lanes<T: Float>(s: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let chunks = s.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..8 {
            acc[l] += c[l];
        }
    }
    let mut total = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for &x in tail {
        total += x;
    }
    total
}

/// Sum of a contiguous slice: partial sums of `CHUNK`-sized pieces, added in order.
pub(crate) fn sum<T: Float>(s: &[T]) -> T {
    if par(s.len()) {
        let parts: Vec<T> = s.par_chunks(CHUNK).map(sum_lanes).collect();
        parts.into_iter().fold(T::zero(), |a, b| a + b)
    } else {
        s.chunks(CHUNK).map(sum_lanes).fold(T::zero(), |a, b| a + b)
    }
}

/// Columns of an `inner`-wide output block handled by one task.
const COLS: usize = 1024;

/// Reduces the middle axis of a contiguous `[outer, len, inner]` array:
/// `out[o, j] = fold_{r < len}(src[o, r, j])`, starting from `init`.
/// Each output element folds its `len` values in order on one thread.
pub(crate) fn fold_axis<T: Float>(
    src: &[T],
    outer: usize,
    len: usize,
    inner: usize,
    init: T,
    f: impl Fn(T, T) -> T + Sync + Send,
) -> Storage<T> {
    // `filled`, not `vec![init; n]`: a zero `init` would go to calloc, which
    // bypasses the allocator's fast path for the tiny outputs of a bias gradient.
    let mut storage = Storage::filled(outer * inner, init);
    if outer * inner == 0 {
        return storage;
    }
    let out = storage.make_mut();
    let parallel = par(src.len());
    let block = |o: usize, j0: usize, dst: &mut [T]| {
        let base = o * len * inner;
        for r in 0..len {
            let row = &src[base + r * inner + j0..base + r * inner + j0 + dst.len()];
            dst.iter_mut().zip(row).for_each(|(d, &x)| *d = f(*d, x));
        }
    };
    let per_outer = |(o, dst): (usize, &mut [T])| {
        if parallel && inner > COLS {
            dst.par_chunks_mut(COLS).enumerate().for_each(|(b, d)| block(o, b * COLS, d));
        } else {
            dst.chunks_mut(COLS).enumerate().for_each(|(b, d)| block(o, b * COLS, d));
        }
    };
    if parallel {
        out.par_chunks_mut(inner).enumerate().for_each(per_outer);
    } else {
        out.chunks_mut(inner).enumerate().for_each(per_outer);
    }
    storage
}

/// Sums the middle axis of `[outer, len, inner]`; rows of a contiguous last
/// axis (`inner == 1`) use the eight-lane sum.
pub(crate) fn sum_axis<T: Float>(src: &[T], outer: usize, len: usize, inner: usize) -> Storage<T> {
    if inner == 1 {
        if len == 0 {
            return Storage::filled(outer, T::zero());
        }
        if par(src.len()) {
            let mut out = Vec::with_capacity(outer);
            src.par_chunks_exact(len).map(sum).collect_into_vec(&mut out);
            return out.into();
        }
        return Storage::Slice(src.chunks_exact(len).map(sum).collect());
    }
    fold_axis(src, outer, len, inner, T::zero(), |a, b| a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_is_exact_on_integers_and_split_invariant() {
        let v: Vec<f64> = (0..100_003).map(|i| (i % 7) as f64).collect();
        let expected: f64 = v.iter().sum();
        assert_eq!(sum(&v), expected);
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let x: Vec<f32> = (0..200_001).map(|i| ((i * 7919) % 1000) as f32 * 1e-3 + 0.1).collect();
        let a = one.install(|| sum(&x));
        let b = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap().install(|| sum(&x));
        assert_eq!(a.to_bits(), b.to_bits());
    }

    #[test]
    fn fold_axis_reduces_middle() {
        // [2, 3, 2]
        let src: Vec<f32> = (0..12).map(|i| i as f32).collect();
        assert_eq!(*sum_axis(&src, 2, 3, 2), [6.0, 9.0, 24.0, 27.0]);
        assert_eq!(*sum_axis(&src, 4, 3, 1), [3.0, 12.0, 21.0, 30.0]);
        assert_eq!(*fold_axis(&src, 1, 12, 1, f32::MIN, f32::max), [11.0]);
    }
}
