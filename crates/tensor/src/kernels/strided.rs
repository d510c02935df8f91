//! Elementwise loops over strided (possibly broadcast) views.
//!
//! The output is always contiguous. Dimensions are coalesced first so the inner
//! loop is as long as possible, then the output is cut into chunks of whole rows
//! (fixed size, see [`CHUNK`](super::CHUNK)) that rayon may run in parallel.

use std::sync::Arc;

use rayon::prelude::*;
use smallvec::SmallVec;

use super::{par, CHUNK, PAR_THRESHOLD};
use crate::layout::{coalesce, Layout};
use crate::pool;
use crate::storage::Storage;

/// Runs `row(out_row, offsets)` for every row of `out`, where `offsets[k]` is
/// the storage position of operand `k`'s first element in that row.
fn drive<const N: usize, U: Send>(
    out: &mut [U],
    dims: &[usize],
    strides: [&[usize]; N],
    base: [usize; N],
    row: impl Fn(&mut [U], [usize; N]) + Sync,
) {
    let inner = *dims.last().expect("coalesce returns at least one dim");
    if inner == 0 || out.is_empty() {
        return;
    }
    let outer = &dims[..dims.len() - 1];
    let rows_per_chunk = (CHUNK / inner).max(1);
    let process = |chunk_index: usize, chunk: &mut [U]| {
        let mut rest = chunk_index * rows_per_chunk;
        let mut idx: SmallVec<[usize; 4]> = SmallVec::from_elem(0, outer.len());
        for d in (0..outer.len()).rev() {
            idx[d] = rest % outer[d];
            rest /= outer[d];
        }
        let mut offs = base;
        for k in 0..N {
            offs[k] += idx.iter().zip(strides[k]).map(|(i, s)| i * s).sum::<usize>();
        }
        for out_row in chunk.chunks_mut(inner) {
            row(out_row, offs);
            for d in (0..outer.len()).rev() {
                idx[d] += 1;
                for k in 0..N {
                    offs[k] += strides[k][d];
                }
                if idx[d] < outer[d] {
                    break;
                }
                for k in 0..N {
                    offs[k] -= strides[k][d] * outer[d];
                }
                idx[d] = 0;
            }
        }
    };
    let chunk_len = rows_per_chunk * inner;
    if par(out.len()) {
        out.par_chunks_mut(chunk_len).enumerate().for_each(|(i, c)| process(i, c));
    } else {
        out.chunks_mut(chunk_len).enumerate().for_each(|(i, c)| process(i, c));
    }
}

/// A contiguous output of `n` values in a recycled buffer, filled by
/// `write(out, start)` with values `start .. start + out.len()`: in fixed
/// chunks on rayon at and above the parallel threshold, in one call below.
fn contiguous_output<U>(n: usize, write: impl Fn(&mut [U], usize) + Sync + Send) -> Storage<U>
where
    U: Copy + Default + Send + Sync + 'static,
{
    let mut buf = Storage::overwritten(n, U::default());
    let out = buf.as_mut_slice();
    if par(n) {
        out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| write(o, c * CHUNK));
    } else {
        write(out, 0);
    }
    Storage::recycled(buf)
}

/// `f` applied to every element of the view `src[layout]`, in row-major order.
pub(crate) fn map<T, U>(src: &[T], layout: &Layout, f: impl Fn(T) -> U + Sync + Send) -> Storage<U>
where
    T: Copy + Send + Sync,
    U: Copy + Default + Send + Sync + 'static,
{
    let n = layout.shape.numel();
    if layout.is_contiguous() {
        let s = &src[layout.offset..layout.offset + n];
        if n < pool::MIN_LEN {
            // An exact-size iterator collects into one allocation, written in place.
            return Storage::Slice(s.iter().map(|&x| f(x)).collect::<Arc<[U]>>());
        }
        return contiguous_output(n, |o, at| o.iter_mut().zip(&s[at..]).for_each(|(o, &x)| *o = f(x)));
    }
    if let ([rows, cols], [rs, cs]) = (layout.shape.dims(), &layout.strides[..])
        && n > 0
        && n < PAR_THRESHOLD
    {
        // A small matrix view (a transpose, a column slice): two plain
        // loops, without the general walk's set-up.
        let mut storage = Storage::filled(n, U::default());
        let out = storage.make_mut();
        for (i, row) in out.chunks_exact_mut(*cols).take(*rows).enumerate() {
            let start = layout.offset + i * rs;
            row.iter_mut().enumerate().for_each(|(j, y)| *y = f(src[start + j * cs]));
        }
        return storage;
    }
    let (dims, [st]) = coalesce(layout.shape.dims(), [&layout.strides]);
    let mut storage = Storage::filled(n, U::default());
    let out = storage.make_mut();
    let inner_stride = *st.last().expect("non-empty");
    drive(out, &dims, [&st], [layout.offset], |o, [off]| match inner_stride {
        1 => {
            let len = o.len();
            o.iter_mut().zip(&src[off..off + len]).for_each(|(y, &x)| *y = f(x));
        }
        0 => o.fill(f(src[off])),
        s => o.iter_mut().enumerate().for_each(|(j, y)| *y = f(src[off + j * s])),
    });
    storage
}

/// `f(a, b)` for every element of two views that have the same (broadcast) shape.
pub(crate) fn zip<T, U>(a: &[T], la: &Layout, b: &[T], lb: &Layout, f: impl Fn(T, T) -> U + Sync + Send) -> Storage<U>
where
    T: Copy + Send + Sync,
    U: Copy + Default + Send + Sync + 'static,
{
    debug_assert_eq!(la.shape, lb.shape);
    let n = la.shape.numel();
    if la.is_contiguous() && lb.is_contiguous() {
        let (sa, sb) = (&a[la.offset..la.offset + n], &b[lb.offset..lb.offset + n]);
        if n < pool::MIN_LEN {
            return Storage::Slice(sa.iter().zip(sb).map(|(&x, &y)| f(x, y)).collect::<Arc<[U]>>());
        }
        return contiguous_output(n, |o, at| {
            o.iter_mut().zip(sa[at..].iter().zip(&sb[at..])).for_each(|(o, (&x, &y))| *o = f(x, y));
        });
    }
    let (dims, [s1, s2]) = coalesce(la.shape.dims(), [&la.strides, &lb.strides]);
    let mut storage = Storage::filled(n, U::default());
    let out = storage.make_mut();
    let (i1, i2) = (*s1.last().expect("non-empty"), *s2.last().expect("non-empty"));
    drive(out, &dims, [&s1, &s2], [la.offset, lb.offset], |o, [p, q]| {
        let len = o.len();
        match (i1, i2) {
            (1, 1) => o.iter_mut().zip(a[p..p + len].iter().zip(&b[q..q + len])).for_each(|(y, (&x, &z))| *y = f(x, z)),
            (1, 0) => {
                let z = b[q];
                o.iter_mut().zip(&a[p..p + len]).for_each(|(y, &x)| *y = f(x, z));
            }
            (0, 1) => {
                let x = a[p];
                o.iter_mut().zip(&b[q..q + len]).for_each(|(y, &z)| *y = f(x, z));
            }
            (s, t) => o.iter_mut().enumerate().for_each(|(j, y)| *y = f(a[p + j * s], b[q + j * t])),
        }
    });
    storage
}

/// `f(x, r)` for every element `x` of the contiguous `full`, with `r` the
/// matching element of `row`, which repeats along `full` (`full.len()` is a
/// multiple of `row.len()`): a broadcast of trailing dimensions, as when a
/// bias is added to every row of a batch.
pub(crate) fn zip_rows<T, U>(full: &[T], row: &[T], f: impl Fn(T, T) -> U) -> Storage<U>
where
    T: Copy,
    U: Copy + Default + 'static,
{
    let mut storage = Storage::filled(full.len(), U::default());
    if row.is_empty() {
        return storage;
    }
    let out = storage.make_mut();
    for (o, x) in out.chunks_exact_mut(row.len()).zip(full.chunks_exact(row.len())) {
        o.iter_mut().zip(x.iter().zip(row)).for_each(|(o, (&x, &r))| *o = f(x, r));
    }
    storage
}
