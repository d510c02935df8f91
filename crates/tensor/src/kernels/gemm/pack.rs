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
    pub(crate) fn as_slice(&self) -> &[T] {
        &self.buf[self.start..self.start + self.len]
    }
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.buf[self.start..self.start + self.len]
    }
}

/// Packs rows `row0 .. row0+mrows`, columns `pc .. pc+kc` of A as one strip:
/// `dst[p*mr + i] = A[row0+i, pc+p]`, rows past `mrows` zero.
pub(crate) fn pack_a<T: Float>(dst: &mut [T], a: MatRef<'_, T>, row0: usize, mrows: usize, pc: usize, kc: usize, mr: usize) {
    debug_assert!(dst.len() >= kc * mr && mrows <= mr);
    if mrows < mr {
        dst[..kc * mr].fill(T::zero());
    }
    for i in 0..mrows {
        let base = a.offset + (row0 + i) * a.rs + pc * a.cs;
        if a.cs == 1 {
            let src = &a.data[base..base + kc];
            for (p, &v) in src.iter().enumerate() {
                dst[p * mr + i] = v;
            }
        } else {
            for p in 0..kc {
                dst[p * mr + i] = a.data[base + p * a.cs];
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
