//! Packing: copying a block of a strided operand into the contiguous,
//! zero-padded strip order the micro-kernels read.

use rayon::prelude::*;

use super::MatRef;
use crate::float::Float;

/// A buffer whose usable part starts on a 64-byte boundary, so the kernels'
/// vector loads never straddle a cache line. Its contents are whatever the
/// last product left: packing writes every value a kernel reads (the slots
/// of a strip's missing rows or columns are zeroed when it is packed).
pub(crate) struct AlignedBuf<T> {
    buf: Vec<T>,
    start: usize,
    len: usize,
}

impl<T: Float> AlignedBuf<T> {
    /// A buffer of `len` usable values on top of `buf`, which is reused as
    /// it is when it is large enough.
    pub(crate) fn reuse(buf: Vec<T>, len: usize) -> Self {
        let pad = 64 / std::mem::size_of::<T>();
        let buf = if buf.len() >= len + pad { buf } else { vec![T::zero(); len + pad] };
        let start = buf.as_ptr().align_offset(64).min(pad);
        AlignedBuf { buf, start, len }
    }
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.buf[self.start..self.start + self.len]
    }
    /// The storage, to be kept for the next product.
    pub(crate) fn into_vec(self) -> Vec<T> {
        self.buf
    }
}

/// Packs rows `row0 .. row0+MR` (those below `m`), columns `pc .. pc+kc` of A
/// as one strip: `dst[p*mr + i] = A[row0+i, pc+p]`, rows past `m` zero.
pub(crate) fn pack_a<T: Float>(
    strip: &mut [T],
    a: MatRef<'_, T>,
    row0: usize,
    m: usize,
    pc: usize,
    kc: usize,
    mr: usize,
) {
    let mrows = mr.min(m - row0);
    if mrows < mr {
        strip.fill(T::zero());
    }
    if a.cs == 1 {
        // Row-major A: each of the strip's rows is one contiguous run.
        let row = |i: usize| {
            let base = a.offset + (row0 + i) * a.rs + pc;
            &a.data[base..base + kc]
        };
        interleave(strip, mr, mrows, kc, row);
    } else if a.rs == 1 {
        // A transposed row-major matrix (`dYᵀ` in a weight gradient): each
        // column of the strip is one contiguous run.
        copy_runs(strip, mr, mrows, kc, |p| {
            let base = a.offset + row0 + (pc + p) * a.cs;
            &a.data[base..base + mrows]
        });
    } else {
        for p in 0..kc {
            let base = a.offset + row0 * a.rs + (pc + p) * a.cs;
            for (i, d) in strip[p * mr..p * mr + mrows].iter_mut().enumerate() {
                *d = a.data[base + i * a.rs];
            }
        }
    }
}

/// Packs rows `pc .. pc+kc`, columns `jc .. jc+nc` of B as `NR`-wide strips:
/// strip `t` holds `dst[t*kc*nr + p*nr + j] = B[pc+p, jc+t*nr+j]`, columns past
/// the edge zero.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pack_b<T: Float>(
    dst: &mut [T],
    b: MatRef<'_, T>,
    pc: usize,
    kc: usize,
    jc: usize,
    nc: usize,
    nr: usize,
    parallel: bool,
) {
    if b.cs == 1 {
        // Row-major B: row by row across a group of strips (all of them on
        // one thread), so each read is one run of the group's columns, in
        // order. Strip by strip, each row of a strip is a 128-byte run on
        // its own page when B's rows are 4 KiB apart: at 1,024³ on 1 thread
        // (Intel Xeon, AVX-512) packing B fell from 5.6% of the product's
        // time to 4.4%, the rest being the reads of B from L3.
        let strips = nc.div_ceil(nr);
        let per = if parallel { strips.div_ceil(2 * rayon::current_num_threads()) } else { strips };
        let group = |(g, dst): (usize, &mut [T])| {
            let t0 = g * per;
            let cols = (jc + t0 * nr)..(jc + nc).min(jc + (t0 + per) * nr);
            pack_b_rows(dst, b, pc, kc, cols, nr);
        };
        if parallel {
            dst.par_chunks_mut(per * kc * nr).enumerate().for_each(group);
        } else {
            dst.chunks_mut(per * kc * nr).enumerate().for_each(group);
        }
        return;
    }
    let one = |(t, strip): (usize, &mut [T])| {
        let col0 = jc + t * nr;
        let ncols = nr.min(jc + nc - col0);
        if ncols < nr {
            strip.fill(T::zero());
        }
        if b.rs == 1 {
            // A transposed row-major matrix (`x·Wᵀ`): each column is one
            // contiguous run, as A's rows are above.
            let col = |j: usize| {
                let base = b.offset + pc + (col0 + j) * b.cs;
                &b.data[base..base + kc]
            };
            interleave(strip, nr, ncols, kc, col);
        } else {
            for j in 0..ncols {
                let base = b.offset + pc * b.rs + (col0 + j) * b.cs;
                for p in 0..kc {
                    strip[p * nr + j] = b.data[base + p * b.rs];
                }
            }
        }
    };
    if parallel {
        dst.par_chunks_mut(kc * nr).enumerate().for_each(one);
    } else {
        dst.chunks_mut(kc * nr).enumerate().for_each(one);
    }
}

/// Packs rows `pc .. pc+kc`, columns `cols` of a row-major B (unit column
/// stride) into `dst` as [`pack_b`] does, reading one run of `cols` a row.
fn pack_b_rows<T: Float>(
    dst: &mut [T],
    b: MatRef<'_, T>,
    pc: usize,
    kc: usize,
    cols: std::ops::Range<usize>,
    nr: usize,
) {
    let width = cols.len();
    let full = width / nr;
    let dst = &mut dst[..width.div_ceil(nr) * kc * nr];
    if full * nr < width {
        dst[full * kc * nr..].fill(T::zero());
    }
    for p in 0..kc {
        let base = b.offset + (pc + p) * b.rs + cols.start;
        let row = &b.data[base..base + width];
        match nr {
            16 => copy_row::<T, 16>(dst, p, kc, row),
            32 => copy_row::<T, 32>(dst, p, kc, row),
            _ => {
                for (t, run) in row.chunks_exact(nr).enumerate() {
                    dst[(t * kc + p) * nr..][..nr].copy_from_slice(run);
                }
            }
        }
        let rest = &row[full * nr..];
        if !rest.is_empty() {
            dst[(full * kc + p) * nr..][..rest.len()].copy_from_slice(rest);
        }
    }
}

/// Row `p` of every full strip of width `W` in `dst` (`kc` rows a strip)
/// from one row of B, a fixed-size copy a strip.
#[inline(always)]
fn copy_row<T: Float, const W: usize>(dst: &mut [T], p: usize, kc: usize, row: &[T]) {
    for (t, run) in row.chunks_exact(W).enumerate() {
        let out: &mut [T; W] = (&mut dst[(t * kc + p) * W..][..W]).try_into().expect("one row of a strip");
        *out = run.try_into().expect("a run of the strip's width");
    }
}

/// `dst[p*w .. p*w + used] = run(p)` for `p < kc`: a strip whose rows are
/// contiguous runs of the operand. A run of a kernel's full width is copied
/// as a fixed-size array (a few vector moves), not through `memcpy`, whose
/// call cost as much as the copy for 48- and 128-byte runs.
fn copy_runs<'a, T: Float>(dst: &mut [T], w: usize, used: usize, kc: usize, run: impl Fn(usize) -> &'a [T]) {
    match (w, used) {
        (6, 6) => copy_n::<T, 6>(dst, kc, run),
        (12, 12) => copy_n::<T, 12>(dst, kc, run),
        (16, 16) => copy_n::<T, 16>(dst, kc, run),
        (32, 32) => copy_n::<T, 32>(dst, kc, run),
        _ => {
            for (p, out) in dst.chunks_exact_mut(w).take(kc).enumerate() {
                out[..used].copy_from_slice(run(p));
            }
        }
    }
}

#[inline(always)]
fn copy_n<'a, T: Float, const W: usize>(dst: &mut [T], kc: usize, run: impl Fn(usize) -> &'a [T]) {
    for (p, out) in dst.chunks_exact_mut(W).take(kc).enumerate() {
        let out: &mut [T; W] = out.try_into().expect("one row of the strip");
        let src: &[T; W] = run(p).try_into().expect("a run of the strip's width");
        *out = *src;
    }
}

/// `dst[p*w + i] = run(i)[p]` for `i < used`, `p < kc`: interleaves `used`
/// contiguous runs of length `kc` into a strip of width `w` (the slots of
/// rows `used..w` are left alone; the caller zeroes them). Packing is a
/// transpose, and at small sizes it costs as much as the micro-kernel: the
/// widths the kernels use get a copy unrolled over a fixed number of runs,
/// whose bounds checks are hoisted out of the loop; f32 on a CPU with
/// AVX2 transposes in registers instead (`x86_pack`).
fn interleave<'a, T: Float>(dst: &mut [T], w: usize, used: usize, kc: usize, run: impl Fn(usize) -> &'a [T]) {
    if used <= 32 {
        let runs: [&[T]; 32] = std::array::from_fn(|i| if i < used { run(i) } else { &[] });
        if T::interleave_simd(dst, w, kc, &runs[..used]) {
            return;
        }
    }
    match (w, used) {
        (6, 6) => interleave_n::<T, 6>(dst, kc, std::array::from_fn(&run)),
        (12, 12) => interleave_n::<T, 12>(dst, kc, std::array::from_fn(&run)),
        (16, 16) => interleave_n::<T, 16>(dst, kc, std::array::from_fn(&run)),
        (32, 32) => interleave_n::<T, 32>(dst, kc, std::array::from_fn(&run)),
        _ => {
            for i in 0..used {
                for (d, &v) in dst.iter_mut().skip(i).step_by(w).zip(&run(i)[..kc]) {
                    *d = v;
                }
            }
        }
    }
}

/// [`interleave`] of exactly `W` runs into a strip of width `W`, eight
/// columns at a time: each run's eight values are read as one contiguous
/// load and written with stride `W`, so the loop is bound by stores, not
/// by index arithmetic.
#[inline(always)]
fn interleave_n<T: Float, const W: usize>(dst: &mut [T], kc: usize, runs: [&[T]; W]) {
    const B: usize = 8;
    let dst = &mut dst[..kc * W];
    let runs: [&[T]; W] = runs.map(|r| &r[..kc]);
    let full = kc / B * B;
    for p0 in (0..full).step_by(B) {
        let block = &mut dst[p0 * W..(p0 + B) * W];
        for (i, r) in runs.iter().enumerate() {
            let vals: &[T; B] = r[p0..p0 + B].try_into().expect("eight values");
            for (q, &v) in vals.iter().enumerate() {
                block[q * W + i] = v;
            }
        }
    }
    for p in full..kc {
        let out: &mut [T; W] = (&mut dst[p * W..(p + 1) * W]).try_into().expect("one row of the strip");
        for (o, r) in out.iter_mut().zip(&runs) {
            *o = r[p];
        }
    }
}
