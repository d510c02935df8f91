//! One-row products, `c (1 × n) ← [c +] a (1 × k) · b (k × n)`, without
//! packing: a batch-1 forward pass of a dense layer is this, with `b` the
//! layer's weight read transposed through its strides. Packing that weight
//! (a strided gather of all of it) cost 75% of batch-1 inference; here
//! each output is one dot product over a contiguous weight row (or, for a
//! row-major `b`, the row of `a` scales `b`'s rows onto `c`).
//!
//! The dot product keeps 16 running sums, one per lane, added pairwise at
//! the end, and no multiply and add is fused (Rust never contracts them).
//! On x86-64 the dot products of a transposed weight run in explicit
//! AVX-512F or AVX2 vectors (`x86_gemv`, following the matmul kernel in
//! use); elsewhere, and for the other layouts, portable loops run that LLVM
//! vectorises (compiled for AVX2 where the CPU has it). All of them sum in
//! the same order, so they give the same bits, whatever the CPU.
//!
//! Large one-row products are split by columns across threads
//! ([`PARALLEL_BYTES`]): they are bound by reading the weight, and two
//! cores each read half of it from their own cache.

use std::borrow::Cow;

use rayon::prelude::*;

use super::MatRef;
use crate::float::Float;

const LANES: usize = 16;

/// The lanes' sums added pairwise, then the tail.
#[inline(always)]
fn finish<T: Float>(mut acc: [T; LANES], tail: T) -> T {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            let upper = acc[l + width];
            acc[l] += upper;
        }
    }
    acc[0] + tail
}

#[inline(always)]
pub(super) fn tail_dot<T: Float>(x: &[T], y: &[T]) -> T {
    x.iter().zip(y).fold(T::zero(), |s, (&a, &b)| s + a * b)
}

#[inline(always)]
fn dot<T: Float>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::zero(); LANES];
    let body = x.len() / LANES * LANES;
    for (xc, yc) in x[..body].chunks_exact(LANES).zip(y[..body].chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += xc[l] * yc[l];
        }
    }
    finish(acc, tail_dot(&x[body..], &y[body..]))
}

/// Four dot products of `x` at once, each summed exactly as [`dot`] sums
/// it (so grouping changes no bit): four independent chains of additions
/// keep the adders busy, and each load of `x` serves four rows.
#[inline(always)]
fn dot4<T: Float>(x: &[T], rows: [&[T]; 4]) -> [T; 4] {
    let mut acc = [[T::zero(); LANES]; 4];
    let body = x.len() / LANES * LANES;
    for c in (0..body).step_by(LANES) {
        let xc = &x[c..c + LANES];
        for (r, row) in rows.iter().enumerate() {
            let yc = &row[c..c + LANES];
            for l in 0..LANES {
                acc[r][l] += xc[l] * yc[l];
            }
        }
    }
    let mut out = [T::zero(); 4];
    for r in 0..4 {
        out[r] = finish(acc[r], tail_dot(&x[body..], &rows[r][body..]));
    }
    out
}

#[inline(always)]
fn run<T: Float>(n: usize, k: usize, a: &[T], b: MatRef<'_, T>, c: &mut [T], acc: bool) {
    if b.rs == 1 {
        // Column j of B is contiguous: W[j, ·] of a transposed weight.
        let col = |j: usize| &b.data[b.offset + j * b.cs..][..k];
        let quads = n / 4 * 4;
        for j in (0..quads).step_by(4) {
            let d = dot4(a, [col(j), col(j + 1), col(j + 2), col(j + 3)]);
            for (cj, d) in c[j..j + 4].iter_mut().zip(d) {
                *cj = if acc { *cj + d } else { d };
            }
        }
        for (j, cj) in c.iter_mut().enumerate().skip(quads) {
            let d = dot(a, col(j));
            *cj = if acc { *cj + d } else { d };
        }
    } else if b.cs == 1 {
        // Row-major B: c += a[p]·B[p, ·], row by row.
        if !acc {
            c.fill(T::zero());
        }
        for (p, &s) in a.iter().enumerate() {
            for (cj, &v) in c.iter_mut().zip(&b.data[b.offset + p * b.rs..][..n]) {
                *cj += s * v;
            }
        }
    } else {
        for (j, cj) in c.iter_mut().enumerate() {
            let d = a.iter().enumerate().fold(T::zero(), |s, (p, &x)| s + x * b.data[b.offset + p * b.rs + j * b.cs]);
            *cj = if acc { *cj + d } else { d };
        }
    }
}

/// The portable loops.
fn run_portable<T: Float>(n: usize, k: usize, a: &[T], b: MatRef<'_, T>, c: &mut [T], acc: bool) {
    run(n, k, a, b, c, acc);
}

/// The same loops compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2<T: Float>(n: usize, k: usize, a: &[T], b: MatRef<'_, T>, c: &mut [T], acc: bool) {
    run(n, k, a, b, c, acc);
}

/// One-row products whose `b` is at least this many bytes are split by
/// columns across rayon's threads (on a thread in the pool). Batch-1
/// inference is bound by reading the weights, and on two cores each half
/// of the first MNIST layer's 784 KB weight stays in its own core's L2
/// (it does not fit one core's 1 MiB L2 beside the rest of the network):
/// `x · Wᵀ` with W of 256 × 784 went 8.4 → 5.2 µs on 2 threads. A fork
/// costs about 1 µs (the helper starts 0.4 µs later and the caller learns
/// it finished 0.5 µs after), so below about 400 KB (W of 128 × 784) one
/// thread is as fast; measured on a Zen 5.
///
/// A core with a smaller L2 splits from a quarter of it (see
/// [`parallel_bytes`]).
const PARALLEL_BYTES: usize = 512 << 10;

/// The size from which a one-row product is split: [`PARALLEL_BYTES`],
/// or a quarter of this core's L2 if that is less. In a 512 KiB L2 (Zen
/// 2) the half of the first MNIST layer's weight a core keeps (392 KB)
/// leaves no room for the second layer's 128 KB run whole on the calling
/// thread, which then re-reads its half from L3 on every call; split as
/// well, each core holds 392 + 64 KB. Paired in one process on a Zen 2
/// (AVX2, 2 threads, 1,000-call blocks in turn), the MNIST network's
/// batch-1 forward pass went 9.2–9.6 → 8.7–9.0 µs (5–8% faster), and
/// 1 thread was unchanged (15.5 µs both ways).
fn parallel_bytes() -> usize {
    PARALLEL_BYTES.min(super::cache::l2().bytes / 4)
}

/// `c ← [c +] a · b` for a one-row `a`, split by columns across rayon's
/// threads when `b` is large (see [`parallel_bytes`]). Each output is one
/// dot product whichever thread computes it, so the bits do not depend on
/// the thread count.
pub(crate) fn gemv_split<T: Float>(
    kernel: &str,
    n: usize,
    k: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [T],
    acc: bool,
) {
    let large = n >= 8 && n * k * std::mem::size_of::<T>() >= parallel_bytes();
    let threads = if large { crate::threads::current_num_threads() } else { 1 };
    // A caller outside the pool would sleep while the pool works and pay
    // 10–30 µs to wake (see `PARALLEL_OUTSIDE`).
    if threads < 2 || !crate::threads::in_pool() {
        return gemv(kernel, n, k, a, b, c, acc);
    }
    // One contiguous block of columns a thread, so a thread reads the same
    // part of the weight every call (and keeps it in its cache).
    let per = n.div_ceil(threads).next_multiple_of(4);
    // Block `t` of C's columns (`c`), from the weight's matching columns.
    let block = |t: usize, c: &mut [T]| {
        let b = MatRef { offset: b.offset + t * per * b.cs, ..b };
        gemv(kernel, c.len(), k, a, b, c, acc);
    };
    if threads == 2 && per < n {
        // The caller learns that the other half is done by spinning, not
        // through rayon's idle loop (see `join_spinning`): paired in one
        // process on a Zen 4 (2 threads, 2,000-call blocks in turn, three
        // runs), the MNIST network's batch-1 forward pass ran 3–7% faster,
        // 8.0–8.9 → 7.5–8.4 µs.
        let (c0, c1) = c.split_at_mut(per);
        return crate::threads::join_spinning(|| block(0, c0), || block(1, c1));
    }
    c.par_chunks_mut(per).enumerate().for_each(|(t, c)| block(t, c));
}

/// `c ← [c +] a · b` for a one-row `a` (`c` need not be zero unless `acc`).
/// `kernel` names the matmul kernel whose vectors the dot products use.
pub(crate) fn gemv<T: Float>(
    kernel: &str,
    n: usize,
    k: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [T],
    acc: bool,
) {
    debug_assert_eq!(c.len(), n);
    let row: Cow<'_, [T]> = if a.cs == 1 {
        Cow::Borrowed(&a.data[a.offset..a.offset + k])
    } else {
        Cow::Owned((0..k).map(|p| a.data[a.offset + p * a.cs]).collect())
    };
    if b.rs == 1 && T::dot_rows_simd(kernel, &row, &b.data[b.offset..], b.cs, c, acc) {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked on the line above; the
        // loops index only within the slices (bounds-checked).
        unsafe { run_avx2(n, k, &row, b, c, acc) };
        return;
    }
    run_portable(n, k, &row, b, c, acc);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(n: usize, k: usize, a: &[f64], b: MatRef<'_, f64>) -> Vec<f64> {
        (0..n).map(|j| (0..k).map(|p| a[p] * b.data[b.offset + p * b.rs + j * b.cs]).sum()).collect()
    }

    #[test]
    fn every_layout_matches_the_definition_and_every_kernel_agrees_bitwise() {
        let (n, k) = (37, 53);
        let a: Vec<f64> = (0..k).map(|i| (i as f64 * 0.37).sin()).collect();
        let w: Vec<f64> = (0..2 * n * k + 200).map(|i| (i as f64 * 0.11).cos()).collect();
        let am = MatRef { data: &a, offset: 0, rs: k, cs: 1 };
        for b in [
            MatRef { data: &w, offset: 3, rs: 1, cs: k }, // a transposed (n × k) weight
            MatRef { data: &w, offset: 2, rs: n, cs: 1 }, // row-major (k × n)
            MatRef { data: &w, offset: 0, rs: 2, cs: 2 * k - 1 }, // strided both ways
        ] {
            let want = reference(n, k, &a, b);
            let mut portable = vec![f64::NAN; n];
            run_portable(n, k, &a, b, &mut portable, false);
            for kern in crate::kernels::gemm::all_f64() {
                let mut c = vec![1.0; n];
                gemv(kern.name, n, k, am, b, &mut c, true);
                for (got, w) in c.iter().zip(&want) {
                    assert!((got - (w + 1.0)).abs() < 1e-12, "{}: {got} vs {}", kern.name, w + 1.0);
                }
                let mut dispatched = vec![f64::NAN; n];
                gemv(kern.name, n, k, am, b, &mut dispatched, false);
                assert_eq!(portable, dispatched, "{}", kern.name);
            }
        }
        // Four rows at once sum each row exactly as one row alone does.
        let cols: Vec<&[f64]> = (0..4).map(|j| &w[j * k..(j + 1) * k]).collect();
        let four = dot4(&a, [cols[0], cols[1], cols[2], cols[3]]);
        for (j, v) in four.iter().enumerate() {
            assert_eq!(v.to_bits(), dot(&a, cols[j]).to_bits(), "row {j}");
        }
    }

    /// The SIMD dot products (`x86_gemv`) against the portable ones, bit for
    /// bit, for f32: row counts that leave every group size's remainder,
    /// lengths with and without a tail of fewer than 16, and values whose
    /// sums round differently in any other order.
    #[test]
    fn simd_dot_rows_give_the_portable_bits_for_f32() {
        for (n, k) in [(1, 5), (3, 16), (9, 31), (13, 784), (17, 130), (27, 47)] {
            let stride = k + 3;
            let x: Vec<f32> = (0..k).map(|i| ((i * 7919) % 1000) as f32 * 1.0e-3 - 0.5).collect();
            let w: Vec<f32> =
                (0..n * stride).map(|i| ((i as f32) * 0.377).sin() * 10f32.powi((i % 7) as i32 - 3)).collect();
            let b = MatRef { data: &w, offset: 0, rs: 1, cs: stride };
            let mut portable = vec![f32::NAN; n];
            run_portable(n, k, &x, b, &mut portable, false);
            let am = MatRef { data: &x, offset: 0, rs: k, cs: 1 };
            for kern in crate::kernels::gemm::all_f32() {
                let mut got = vec![f32::NAN; n];
                gemv(kern.name, n, k, am, b, &mut got, false);
                let (p, g): (Vec<u32>, Vec<u32>) =
                    (portable.iter().map(|v| v.to_bits()).collect(), got.iter().map(|v| v.to_bits()).collect());
                assert_eq!(p, g, "{} at n = {n}, k = {k}", kern.name);
            }
        }
    }

    #[test]
    fn a_split_product_equals_the_serial_one_bitwise() {
        // W of 160 × 1,024 f32 (640 KB) is past PARALLEL_BYTES: on a pool
        // of 3 threads it splits into three blocks of columns, on 2 into two.
        let (n, k) = (160, 1024);
        let x: Vec<f32> = (0..k).map(|i| (i as f32 * 0.37).sin()).collect();
        let w: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.011).cos()).collect();
        let am = MatRef { data: &x, offset: 0, rs: k, cs: 1 };
        let b = MatRef { data: &w, offset: 0, rs: 1, cs: k };
        let kernel = crate::kernels::gemm::best_f32().name;
        let mut serial = vec![0.5f32; n];
        gemv(kernel, n, k, am, b, &mut serial, true);
        // Three threads split through rayon's loop, two through `join_spinning`.
        for threads in [3, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut split = vec![0.5f32; n];
            pool.install(|| gemv_split(kernel, n, k, am, b, &mut split, true));
            assert_eq!(serial, split, "{threads} threads");
        }
    }
}
