//! Packing: copying a block of a strided operand into the contiguous,
//! zero-padded strip order the micro-kernels read.

use rayon::prelude::*;

use super::MatRef;
use crate::float::Float;

/// A zero-initialised buffer whose usable part starts on a 64-byte boundary,
/// so the kernels' vector loads never straddle a cache line.
pub(crate) struct AlignedBuf<T> {
    buf: Vec<T>,
    start: usize,
    len: usize,
}

impl<T: Float> AlignedBuf<T> {
    pub(crate) fn new(len: usize) -> Self {
        let pad = 64 / std::mem::size_of::<T>();
        let buf = vec![T::zero(); len + pad];
        let start = buf.as_ptr().align_offset(64).min(pad);
        AlignedBuf { buf, start, len }
    }
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.buf[self.start..self.start + self.len]
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
        // Row-major A: walk the strip's rows in lock-step so the writes are
        // contiguous and each row is read as one sequential stream.
        let rows: Vec<&[T]> = (0..mrows)
            .map(|i| {
                let base = a.offset + (row0 + i) * a.rs + pc;
                &a.data[base..base + kc]
            })
            .collect();
        for (p, out) in strip.chunks_exact_mut(mr).enumerate() {
            for (d, row) in out.iter_mut().zip(&rows) {
                *d = row[p];
            }
        }
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
    let one = |(t, strip): (usize, &mut [T])| {
        let col0 = jc + t * nr;
        let ncols = nr.min(jc + nc - col0);
        if ncols < nr {
            strip.fill(T::zero());
        }
        if b.cs == 1 {
            for p in 0..kc {
                let base = b.offset + (pc + p) * b.rs + col0;
                strip[p * nr..p * nr + ncols].copy_from_slice(&b.data[base..base + ncols]);
            }
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
