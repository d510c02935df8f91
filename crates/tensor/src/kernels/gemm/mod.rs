//! General matrix multiply, C ← A·B, after the BLIS design.
//!
//! The loops (labelled as in BLIS and `matrixmultiply`):
//! - LOOP 4 walks the shared dimension in slices of `kc`; A's `m × kc` panel
//!   is packed into `MR`-tall strips once per slice (by the task that owns
//!   the strip), not once per panel of B — or, for a row-major A, read in
//!   place: the kernel broadcasts from `MR` rows of A through its row
//!   stride, as `gemm` does, which saves the packing that small products
//!   cannot amortise (a 64³ product: 80 → 96 GFLOP/s on the AVX2 kernel);
//! - LOOP 5 walks the columns of C in panels of `nc` and packs the `kc × nc`
//!   panel of B into `NR`-wide strips (it stays in L2) — or, for a
//!   row-major B that few strips of A walk (`b_in_place`), reads its full
//!   strips in place through B's row stride and packs only the last,
//!   partial one;
//! - LOOP 3 walks the rows of C in groups of `MR`-row strips, in parallel
//!   with rayon, one task a group;
//! - LOOP 2 walks the B strips, and inside it each strip of the
//!   group (so the current B strip stays in L1 across several kernel
//!   calls), and LOOP 1 is the register-tiled micro-kernel, an `MR × NR`
//!   block of C held in SIMD registers.
//!
//! Operands are read through their strides while packing, so `A·Bᵀ` and `Aᵀ·B`
//! cost no transpose copy. Every element of C is computed by one task, summing
//! `k` in the same order and the same `kc` slices, so the result does not
//! depend on the number of threads, nor on where a tile falls (an edge tile
//! runs a narrower kernel with the same chain of multiply-adds, masked into
//! C, or the full kernel into a scratch tile), nor on whether A was packed.

mod cache;
mod gemv;
mod pack;
mod portable;
#[cfg(target_arch = "x86_64")]
mod x86;
#[cfg(target_arch = "x86_64")]
mod x86_edge;
#[cfg(target_arch = "x86_64")]
mod x86_gemv;
#[cfg(target_arch = "x86_64")]
mod x86_pack;

#[cfg(target_arch = "x86_64")]
pub(crate) use x86_gemv::{dot_rows_f32, dot_rows_f64};
#[cfg(target_arch = "x86_64")]
pub(crate) use x86_pack::interleave_f32;

use rayon::prelude::*;
use smallvec::SmallVec;

use crate::float::Float;

/// A micro-kernel: computes an `MR × NR` tile of C from an A strip and a
/// B strip, each packed or read in place.
///
/// `run(kc, a, lda, b, ldb, c, ldc, accumulate)`: A's element `(i, p)` is
/// `a[p*lda + i]` (a packed strip has `lda = MR`; a column-major A read in
/// place has its column stride), B's `(p, j)` is `b[p*ldb + j]` (a packed
/// strip has `ldb = NR`; a row-major B read in place has its row stride),
/// and the tile at `c` (row stride `ldc`, unit column stride) becomes
/// `Σ_p a[p,i]·b[p,j]`, plus its old value when `accumulate` is set.
#[derive(Clone, Copy)]
pub struct GemmKernel<T> {
    /// Name shown by benchmarks (`"avx512f"`, `"avx2+fma"`, `"portable"`).
    pub name: &'static str,
    /// Rows of the register tile.
    pub mr: usize,
    /// Columns of the register tile.
    pub nr: usize,
    /// Slice of the shared dimension per packed panel.
    pub kc: usize,
    /// Columns of C per packed B panel.
    pub nc: usize,
    /// Whether one thread groups strips of A over a C wider than 512 with
    /// B packed, as it does a narrower one (see `group_size`): measured per
    /// kernel, since it helps one cache and tile shape and hurts another.
    pub group_wide: bool,
    /// The kernel. Unsafe: `a + p*lda + i` must be readable for `i < mr`,
    /// `p < kc`, `b + p*ldb + j` for `j < nr`, `p < kc`, and `c` must
    /// address an `mr × nr` tile with row stride `ldc`.
    pub(crate) run: unsafe fn(usize, *const T, usize, *const T, usize, *mut T, usize, bool),
    /// The same kernel reading A in place: `run_rows(kc, a, lda, b, ldb, c,
    /// ldc, accumulate)` takes A's element `(i, p)` from `a[i*lda + p]`
    /// (`MR` rows of a row-major A), so a small product need not pack A.
    pub(crate) run_rows: unsafe fn(usize, *const T, usize, *const T, usize, *mut T, usize, bool),
    /// The edge tiles' kernel, if this kernel has one (else an edge tile
    /// runs `run` into a scratch tile).
    pub(crate) edge: Option<EdgeKernel<T>>,
}

/// An edge-tile kernel: `edge(mrows, ncols, kc, a, lda, rows, b, ldb, c,
/// ldc, accumulate)` computes the `mrows × ncols` tile at `c` (at most `MR ×
/// NR`) as the full kernel would its part of a whole tile, rounding every
/// element alike. A is read as by `run_rows` when `rows` (then `mrows` is
/// `MR`), else as by `run` (a packed strip's zero-padded rows may be
/// read); B as by `run`, whose strip is zero-padded to whole vectors.
pub(crate) type EdgeKernel<T> =
    unsafe fn(usize, usize, usize, *const T, usize, bool, *const T, usize, *mut T, usize, bool);

impl<T> std::fmt::Debug for GemmKernel<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GemmKernel({}, {}x{})", self.name, self.mr, self.nr)
    }
}

/// Columns of C per packed B panel for a kernel of `nr` columns and `kc`
/// values of `T` per slice of k: as many as make the `kc × nc` panel the
/// size of this core's L2 (read once from Linux's sysfs; 1 MiB when it
/// cannot be read) but at most [`PANEL_BYTES`], in whole strips, between
/// 4 strips and 1,024 columns.
/// On Zen 5 (1 MiB L2) a whole-L2 panel ran 0–6% faster than half of one
/// at n = 256 … 2,048 (f32, kc 512, AVX2 and AVX-512, paired in one
/// process); a Zen 3's 512 KiB L2 gets half as many columns.
pub(super) fn panel_columns(kc: usize, size: usize, nr: usize) -> usize {
    (cache::l2().bytes.min(PANEL_BYTES) / (kc * size) / nr * nr).clamp(4 * nr, 1024)
}

/// The largest B panel, whatever the L2. On an Intel Xeon of family 6
/// model 207 (Emerald Rapids, 2 MiB L2 a core), a panel filling the
/// whole L2 (512 × 1,024 f32) ran 10–16% slower than a 1 MiB one at
/// n = 1,024 and 2,048 on 1 thread, and 5–16% on 2; from 0.5 to 1.25 MiB
/// the rate was flat (AVX-512 and AVX2, paired in one process). A panel that fills
/// the L2 leaves no room there for the A strips and C tiles streaming
/// past it.
const PANEL_BYTES: usize = 1 << 20;

/// The best f32 kernel for this CPU, detected once (every product asks).
/// `STRATA_GEMM_KERNEL` (`portable`, `avx2+fma`, `avx512f`) picks a
/// supported kernel by name instead, so one machine can measure the paths
/// a machine without AVX-512 (or without either) would take.
pub(crate) fn best_f32() -> GemmKernel<f32> {
    static BEST: std::sync::OnceLock<GemmKernel<f32>> = std::sync::OnceLock::new();
    *BEST.get_or_init(|| chosen(all_f32()))
}

/// The best f64 kernel for this CPU, detected once (`STRATA_GEMM_KERNEL` as for f32).
pub(crate) fn best_f64() -> GemmKernel<f64> {
    static BEST: std::sync::OnceLock<GemmKernel<f64>> = std::sync::OnceLock::new();
    *BEST.get_or_init(|| chosen(all_f64()))
}

/// The kernel `STRATA_GEMM_KERNEL` names if this CPU runs it, else the
/// best. An unknown or unsupported name falls back to the best, with a
/// warning on stderr (once: the choice is cached).
fn chosen<T: Copy>(kernels: Vec<GemmKernel<T>>) -> GemmKernel<T> {
    let best = *kernels.last().expect("portable kernel always present");
    let Ok(name) = std::env::var("STRATA_GEMM_KERNEL") else { return best };
    match kernels.iter().find(|k| k.name == name) {
        Some(k) => *k,
        None => {
            let names: Vec<&str> = kernels.iter().map(|k| k.name).collect();
            eprintln!(
                "strata: STRATA_GEMM_KERNEL={name} is not one of this CPU's kernels {names:?}; using {}",
                best.name
            );
            best
        }
    }
}

/// Every f32 kernel this CPU can run, portable first, best last.
pub(crate) fn all_f32() -> Vec<GemmKernel<f32>> {
    let mut ks = vec![portable::F32];
    #[cfg(target_arch = "x86_64")]
    ks.extend(x86::f32_kernels());
    ks
}

/// Every f64 kernel this CPU can run, portable first, best last.
pub(crate) fn all_f64() -> Vec<GemmKernel<f64>> {
    let mut ks = vec![portable::F64];
    #[cfg(target_arch = "x86_64")]
    ks.extend(x86::f64_kernels());
    ks
}

/// A strided matrix operand: element `(i, j)` is `data[offset + i*rs + j*cs]`.
#[derive(Clone, Copy)]
pub(crate) struct MatRef<'a, T> {
    pub data: &'a [T],
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<T: Copy> MatRef<'_, T> {
    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> T {
        self.data[self.offset + i * self.rs + j * self.cs]
    }
}

/// Products smaller than this (`m·n·k`) use the direct loop: packing and
/// tiling cost more than they save below about 32³.
const SMALL: usize = 32 * 32 * 32;

/// Products at least this large (`m·n·k`) are split across rayon threads;
/// below it one thread is faster than fork-join. Measured in `benches/matmul`.
const PARALLEL: usize = 96 * 96 * 96;

/// The same for a caller outside rayon's pool (a thread other than the
/// main one, or any thread when the program built the pool itself): it
/// sleeps while the pool works and waking it again costs 10–30 µs, so 2
/// threads lost to 1 up to 128³ (`matmul_peer` with `STRATA_JOIN_POOL=0`:
/// 96³ 67 vs 172 GFLOP/s, 128³ 111 vs 194) and won from 160³ (233 vs 183).
const PARALLEL_OUTSIDE: usize = 144 * 144 * 144;

/// What C holds before a product adds `a · b` to it.
#[derive(Clone, Copy)]
pub(crate) enum Start<'a, T> {
    /// Nothing: C's values on entry are ignored and overwritten.
    Zero,
    /// C itself: the product is added to it.
    Acc,
    /// The same row in every row of C (a layer's bias, `n` values): each
    /// tile starts from its part of the row in the write-out of the first
    /// `kc` slice, so C is written once, by the thread that owns the tile,
    /// instead of being filled first on the calling thread.
    Rows(&'a [T]),
}

/// `c` (contiguous `m × n`, any values on entry) ← `a (m × k) · b (k × n)`.
/// Every element is written, so the caller need not zero a fresh buffer.
pub(crate) fn gemm<T: Float>(m: usize, n: usize, k: usize, a: MatRef<'_, T>, b: MatRef<'_, T>, c: &mut [T]) {
    gemm_with(T::gemm_kernel(), m, n, k, a, b, c, Start::Zero);
}

/// `c` (contiguous `m × n`) ← `c + a (m × k) · b (k × n)` (a convolution's
/// weight gradient, summed over a batch).
pub(crate) fn gemm_acc<T: Float>(m: usize, n: usize, k: usize, a: MatRef<'_, T>, b: MatRef<'_, T>, c: &mut [T]) {
    gemm_with(T::gemm_kernel(), m, n, k, a, b, c, Start::Acc);
}

/// [`gemm`] or [`gemm_acc`], or from a start row (`Tensor::linear`'s bias,
/// rounded as if C had been filled with it and the product added), as
/// `start` says, with a chosen micro-kernel (tests run every kernel).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_with<T: Float>(
    kern: GemmKernel<T>,
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [T],
    start: Start<'_, T>,
) {
    debug_assert_eq!(c.len(), m * n);
    if let Start::Rows(row) = start {
        assert_eq!(row.len(), n, "gemm: a start row of {} values for {n} columns", row.len());
    }
    if m == 0 || n == 0 {
        return;
    }
    // The paths without tiles start C here, then accumulate.
    let start_here = |c: &mut [T]| match start {
        Start::Zero => c.fill(T::zero()),
        Start::Acc => {}
        Start::Rows(row) => c.chunks_exact_mut(n).for_each(|r| r.copy_from_slice(row)),
    };
    if k == 0 {
        return start_here(c);
    }
    if m == 1 {
        // One row (batch-1 inference): dot products, no packing.
        if let Start::Rows(row) = start {
            c.copy_from_slice(row);
        }
        return gemv::gemv_split(kern.name, n, k, a, b, c, !matches!(start, Start::Zero));
    }
    if m * n * k < SMALL {
        // The direct loops accumulate onto c.
        start_here(c);
        return small(m, n, k, a, b, c);
    }
    let parallel = m * n * k >= PARALLEL && m > kern.mr && crate::threads::current_num_threads() > 1;
    if parallel && rayon::current_thread_index().is_none() {
        if m * n * k < PARALLEL_OUTSIDE {
            return blocked(kern, m, n, k, a, b, c, false, start);
        }
        // Enter the pool once: every parallel loop started from outside it
        // pays a cross-thread wake-up, and a blocked product has several.
        return rayon::scope(|_| blocked(kern, m, n, k, a, b, c, true, start));
    }
    blocked(kern, m, n, k, a, b, c, parallel, start);
}

/// The blocked loops (see the module docs).
///
/// In parallel, a product with few rows and enough columns (a training
/// layer's `x·Wᵀ`, `dy·W`, `dyᵀ·x`: batch or features × features) is split
/// by columns instead: each task owns a block of `NR`-strips of C, packs its
/// own B strips and runs every slice of `k` on its block, so the product
/// forks once rather than twice per `kc` slice, and the tiles split evenly
/// (a 128-row batch is 11 strips of 12 rows: 6 and 5 by rows). An A that
/// is not read in place is packed whole first, once, for every task.
#[allow(clippy::too_many_arguments)]
fn blocked<T: Float>(
    kern: GemmKernel<T>,
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [T],
    parallel: bool,
    start: Start<'_, T>,
) {
    assert!(c.len() >= m * n);
    // Slices of k as even as the kernel's kc allows (784 = 4 × 196, not
    // 3 × 256 + 16): a short last slice costs a whole pass over C.
    let kern = GemmKernel { kc: k.div_ceil(k.div_ceil(kern.kc)), ..kern };
    let out = Out { ptr: c.as_mut_ptr(), m, n };
    let col_strips = n.div_ceil(kern.nr);
    let threads = rayon::current_num_threads();
    if !(parallel && m <= COLUMN_SPLIT_ROWS && col_strips >= 2 * threads) {
        return panels(kern, m, k, a, None, b, out, 0..n, parallel, start);
    }
    // The whole of A, packed slice by slice, unless it is read in place:
    // in this thread's third scratch buffer, out of its slot while the
    // tasks (one of them on this thread) use the other two.
    let [abuf, bbuf, whole] = T::gemm_scratch().take();
    T::gemm_scratch().set([abuf, bbuf, Vec::new()]);
    let strips = m.div_ceil(kern.mr);
    let (mut packed, kept) = if a_in_place(&a, kern.mr).is_some() {
        (None, whole)
    } else {
        (Some(pack::AlignedBuf::reuse(whole, strips * kern.mr * k)), Vec::new())
    };
    // Packed in parallel: on one thread, this packing of the MNIST layers'
    // `dyᵀ` (AVX2 f32, A read through its column stride) was 1% of a
    // 2-thread step, with the other thread idle meanwhile.
    if let Some(dst) = packed.as_mut().map(pack::AlignedBuf::as_mut_slice) {
        for pc in (0..k).step_by(kern.kc) {
            let kc = kern.kc.min(k - pc);
            let slice = &mut dst[strips * kern.mr * pc..][..strips * kern.mr * kc];
            slice.par_chunks_exact_mut(kc * kern.mr).enumerate().with_min_len(PACK_STRIPS).for_each(|(s, strip)| {
                pack::pack_a(strip, a, s * kern.mr, m, pc, kc, kern.mr);
            });
        }
    }
    let packed_a = packed.as_mut().map(|p| &*p.as_mut_slice());
    // One block a thread. Four a thread (so that one woken late from sleep
    // would take fewer) ran slower, paired in one process on a Zen 2 (AVX2,
    // 2 threads): the MNIST step 4–6% (SGD and AdamW, five runs), 128³ …
    // 512³ 2–5%: each block packs its own B strips and walks all of A; and
    // a block a late thread has not yet taken is run by the other thread
    // once its own is done.
    let per = col_strips.div_ceil(threads);
    (0..col_strips.div_ceil(per)).into_par_iter().for_each(|t| {
        let (j0, j1) = (t * per * kern.nr, ((t + 1) * per * kern.nr).min(n));
        panels(kern, m, k, a, packed_a, b, out, j0..j1, false, start);
    });
    let [abuf, bbuf, _] = T::gemm_scratch().take();
    T::gemm_scratch().set([abuf, bbuf, packed.map_or(kept, pack::AlignedBuf::into_vec)]);
}

/// Strips of A a task packs at least, when `blocked` packs all of A in
/// parallel: a strip of 6 × 128 takes well under a microsecond.
const PACK_STRIPS: usize = 8;

/// Products with at most this many rows are split by columns on several
/// threads (see [`blocked`]); taller ones by groups of row strips, which
/// share one packed B panel.
const COLUMN_SPLIT_ROWS: usize = 512;

/// The output C (`m × n`, row-major, row stride `n`) as a pointer, so that
/// tasks can write disjoint column blocks of it: tasks of one product write
/// disjoint tiles (split by rows or by columns), never the same element.
#[derive(Clone, Copy)]
struct Out<T> {
    ptr: *mut T,
    m: usize,
    n: usize,
}

// SAFETY: an `Out` is only created by `blocked` from a `&mut [T]` of at
// least m·n elements that outlives the product's tasks, and the tasks write
// disjoint tiles of it (see `Out`); T itself is Send.
unsafe impl<T: Send> Send for Out<T> {}
// SAFETY: as for Send: shared across tasks, each writing only its own tiles.
unsafe impl<T: Send> Sync for Out<T> {}

/// LOOP 4 and 5 over the columns `cols` of C (see the module docs), with
/// this thread's packing buffers; LOOP 3 in parallel when `parallel`.
/// `packed_a`, when given, is all of A packed by [`blocked`] (slice `pc`
/// at `strips·MR·pc`), used instead of packing it here.
#[allow(clippy::too_many_arguments)]
fn panels<T: Float>(
    kern: GemmKernel<T>,
    m: usize,
    k: usize,
    a: MatRef<'_, T>,
    packed_a: Option<&[T]>,
    b: MatRef<'_, T>,
    out: Out<T>,
    cols: std::ops::Range<usize>,
    parallel: bool,
    start: Start<'_, T>,
) {
    let (mr, nr) = (kern.mr, kern.nr);
    let strips = m.div_ceil(mr);
    let a_in_place = a_in_place(&a, mr);
    let b_in_place = b_in_place(&b, m, kern.kc.min(k));
    let group = group_size(strips, parallel, out.n, b_in_place, kern.group_wide);
    // This thread's packing buffers, taken out of its slot so that a product
    // run by this thread while it waits on rayon (a nested one) finds the
    // slot empty and allocates its own instead of sharing these.
    let [abuf, bbuf, whole] = T::gemm_scratch().take();
    let alen = if packed_a.is_some() { 0 } else { strips * mr * kern.kc.min(k) };
    let mut apack = pack::AlignedBuf::reuse(abuf, alen);
    let width = cols.end - cols.start;
    let mut bpack = pack::AlignedBuf::reuse(bbuf, kern.kc.min(k) * kern.nc.min(width).div_ceil(nr) * nr);
    // LOOP 4: slices of kc along the shared dimension. Each task packs its
    // strips of A's m × kc panel (those not read in place) on the first
    // panel of B and reuses them after.
    for pc in (0..k).step_by(kern.kc) {
        let kc = kern.kc.min(k - pc);
        let ap = &mut apack.as_mut_slice()[..alen.min(strips * mr * kc)];
        let pre = packed_a.map(|p| &p[strips * mr * pc..][..strips * mr * kc]);
        // LOOP 5: panels of nc columns of C; each packed B panel stays in L2.
        for jc in cols.clone().step_by(kern.nc) {
            let nc = kern.nc.min(cols.end - jc);
            let bp = &mut bpack.as_mut_slice()[..kc * nc.div_ceil(nr) * nr];
            let full = nc / nr;
            if !b_in_place {
                pack::pack_b(bp, b, pc, kc, jc, nc, nr, parallel);
            } else if full * nr < nc {
                // Only the last, partial strip is packed (zero-padded).
                pack::pack_b(&mut bp[full * kc * nr..], b, pc, kc, jc + full * nr, nc - full * nr, nr, false);
            }
            let bp: &[T] = bp;
            // Strip t of the panel, and its stride between steps of k.
            let bstrip = |t: usize| {
                if b_in_place && t < full {
                    (&b.data[b.offset + pc * b.rs + jc + t * nr..], b.rs)
                } else {
                    (&bp[t * kc * nr..(t + 1) * kc * nr], nr)
                }
            };
            let first_panel = jc == cols.start;
            // A group of strips: every B strip is run against each of the
            // group's A strips in turn, so the current B strip stays in L1.
            // A full strip of an A with unit stride along rows or columns
            // (its first row given) is read in place; the rest (a strided
            // A, the last partial strip) is packed.
            let in_place = |row: usize| if row + mr <= m { a_in_place } else { None };
            let run_group = |g: usize, agroup: &[T]| {
                let row0 = g * group * mr;
                let nstrips = group.min(strips - g * group);
                // The group's A strips, worked out once for all its B
                // strips: worked out per tile, the indexing cost 5% of a
                // 1-thread MNIST step in `perf`, and paired in one process
                // on a Zen 2 (AVX2, 1 and 2 threads) this ran the MNIST
                // layers' products 0–2% faster (layer 3's `dy·W` 10%).
                // On the stack up to 32 strips: every group of a product
                // split by columns (at most 512 rows) and most others.
                let astrips: SmallVec<[AStrip<'_, T>; 32]> = (0..nstrips)
                    .map(|s| {
                        let start = a.offset + (row0 + s * mr) * a.rs + pc * a.cs;
                        match in_place(row0 + s * mr) {
                            None => AStrip::Packed(&agroup[s * kc * mr..(s + 1) * kc * mr]),
                            Some(InPlace::Rows) => AStrip::Rows { data: &a.data[start..], lda: a.rs },
                            Some(InPlace::Cols) => AStrip::Cols { data: &a.data[start..], lda: a.cs },
                        }
                    })
                    .collect();
                for t in 0..nc.div_ceil(nr) {
                    let (bstrip, ldb) = bstrip(t);
                    let col = jc + t * nr;
                    let ncols = nr.min(jc + nc - col);
                    // The first slice of k overwrites C, adds to it, or
                    // starts each tile from its part of the start row.
                    let first = match start {
                        _ if pc > 0 => Start::Acc,
                        Start::Rows(r) => Start::Rows(&r[col..col + ncols]),
                        other => other,
                    };
                    // Whole tiles with no start row to copy in go straight
                    // to the kernel, the rest through `tile`.
                    let whole =
                        if ncols == nr && !matches!(first, Start::Rows(_)) { nstrips.min((m - row0) / mr) } else { 0 };
                    let accumulate = !matches!(first, Start::Zero);
                    whole_tiles(kern, kc, &astrips[..whole], bstrip, ldb, out, row0, col, accumulate);
                    for s in whole..nstrips {
                        let row = row0 + s * mr;
                        let mrows = mr.min(m - row);
                        tile(kern, kc, astrips[s], bstrip, ldb, out, row, col, mrows, ncols, first);
                    }
                }
            };
            let pack_group = |g: usize, agroup: &mut [T]| {
                let row0 = g * group * mr;
                if first_panel {
                    for (s, astrip) in agroup.chunks_exact_mut(kc * mr).enumerate() {
                        if in_place(row0 + s * mr).is_none() {
                            pack::pack_a(astrip, a, row0 + s * mr, m, pc, kc, mr);
                        }
                    }
                }
            };
            // LOOP 3: groups of strips of mr rows of C, one rayon task each.
            // A packed whole by `blocked` comes with a column task, which
            // runs its rows on its own thread.
            let gsize = group * kc * mr;
            let pack_and_run = |(g, ag): (usize, &mut [T])| {
                pack_group(g, ag);
                run_group(g, ag);
            };
            if let Some(pre) = pre {
                debug_assert!(!parallel, "a column task runs its rows on one thread");
                pre.chunks(gsize).enumerate().for_each(|(g, ag)| run_group(g, ag));
            } else if parallel {
                ap.par_chunks_mut(gsize).enumerate().for_each(pack_and_run);
            } else {
                ap.chunks_mut(gsize).enumerate().for_each(pack_and_run);
            }
        }
    }
    T::gemm_scratch().set([apack.into_vec(), bpack.into_vec(), whole]);
}

/// Strips of A per task. Up to eight for a C at most 512 wide: the current
/// B strip then stays in L1 across several kernel calls (2–4% faster at
/// n ≤ 256 than one strip a task, in paired in-process runs). One for a
/// wider C, whose tiles in one column of strips are a whole row stride
/// apart (4 KiB and more, one L1 set): n = 1,024 and 2,048 ran 8% and 19%
/// slower grouped. A parallel product splits its strips into about four
/// groups a thread, however many strips that puts in a group: capped at
/// eight, a 1,024-row batch on 2 threads made 11 groups of 8, and paired in
/// one process (Intel Xeon, AVX-512) groups of 11 instead ran the MNIST
/// layers at batch 1,024 15%, 20% and 14% faster (784 → 256, 256 → 128,
/// 128 → 10), 800 × 400 × 300 10%, 4,096 × 128 × 128 11%, 1,024 × 512 ×
/// 512 6%, and 2,048 × 256 × 256 the same.
///
/// A B read in place (`b_in_place`) is grouped at any width: its strip is
/// `kc` rows a whole row stride apart, slow to fetch, and worth keeping in
/// L1. Paired in one process on an Intel Xeon (AVX-512, 1 thread), eight
/// strips against one: the MNIST layer-1 weight gradient (256 × 784 × 128,
/// A a transposed view) +7% (+10% on 2 threads), 256 × 784 × 128 with a
/// row-major A +6%, 64 × 2,000 × 256 +4.5%, 128 × 1,568 × 128 +3.5%, and
/// three other shapes within ±0.6%; with B packed, the same shapes ran
/// 0–17% slower grouped.
///
/// Those wide-C slowdowns are the AVX-512 kernels' (12 tile rows). The
/// AVX2 f32 kernel (6 rows of 16) is the other way round on one thread
/// (`group_wide`): paired in one process on Zen 2 (512 KiB L2, 1 thread),
/// eight strips against one ran 1,024³ 2–3% faster, 2,048³ 3–5%, 1,000³
/// 3%, 768³ 1.5–2%, 1,536³ 1.6%, 512 × 1,024 × 512 3.8% and 600³ the same,
/// while the AVX2 f64 kernel (6 × 8, kc 128) ran 1–8% slower grouped and
/// keeps one strip. On 2 threads both ways tied at 1,024³, so a parallel
/// product keeps one strip a task.
fn group_size(strips: usize, parallel: bool, n: usize, b_in_place: bool, group_wide: bool) -> usize {
    let grouped = n <= 512 || b_in_place || (group_wide && !parallel);
    match (grouped, parallel) {
        (false, _) => 1,
        (true, false) => 8,
        (true, true) => strips.div_ceil(4 * rayon::current_num_threads()).max(1),
    }
}

/// How full strips of A are read in place.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum InPlace {
    /// A is row-major: a strip is `MR` rows.
    Rows,
    /// A is column-major (a transposed view, a layer's `dyᵀ`): a strip is
    /// `MR` consecutive values of each column, laid out as a packed strip
    /// is but with the column stride between them.
    Cols,
}

/// Whether (and how) full strips of A are read in place rather than
/// packed (`mr`: the kernel's rows). A must have unit stride along rows or
/// columns, and its other stride must not be a multiple of 4 KiB, where
/// all of a strip's reads would fall in one L1 set (12 rows in an 8-way L1
/// on Zen 3/4) — packing costs under 1% of a product that large.
///
/// By columns, each step of k reads `mr` consecutive values from its own
/// cache line, so only a strip of at least 48 bytes is read in place (the
/// AVX-512 kernels', and AVX2's for f64): in paired runs on Zen 5 that
/// was 1–9% faster than packing at every size from 96³ to 1,000³ on 1 and
/// 2 threads, while AVX2's 24-byte f32 strips ran 5% slower at 1,000³.
fn a_in_place<T>(a: &MatRef<'_, T>, mr: usize) -> Option<InPlace> {
    let size = std::mem::size_of::<T>();
    let spread = |stride: usize| !(stride * size).is_multiple_of(4096);
    if a.cs == 1 && spread(a.rs) {
        Some(InPlace::Rows)
    } else if a.rs == 1 && spread(a.cs) && mr * size >= 48 {
        Some(InPlace::Cols)
    } else {
        None
    }
}

/// Whether full strips of a row-major B (unit column stride) are read in
/// place rather than packed, for an `m`-row product sliced by `kc`: its
/// row stride must not be a multiple of 4 KiB (see [`a_in_place`]), and
/// `m · kc · row stride` (bytes), times the stride's [`crowding`] of the
/// L2, at most [`B_IN_PLACE`].
///
/// Packing a B panel costs one pass over it; reading it in place costs a
/// little on every one of the `m / MR` passes the kernel makes over it,
/// more the wider the strip's rows are spread (a TLB page every row or
/// few, lines split by unaligned rows). In paired in-process runs on Zen 5
/// (AVX-512 and AVX2, 1 and 2 threads), reading in place was 4–14% faster
/// from 64³ to 256³, 3–11% on the MNIST layers' `dy·W` and `dyᵀ·x`
/// (128 × 256 × 784, 256 × 128 × 784), 5–33% on convolutions' im2col
/// products (32 × 288 × 784, 64 × 576 × 196), even at 384³ to 768³ and on
/// 256 × 256 × 784, and 9–15% slower at 1,000³.
fn b_in_place<T>(b: &MatRef<'_, T>, m: usize, kc: usize) -> bool {
    let size = std::mem::size_of::<T>();
    let row = b.rs * size;
    b.cs == 1 && !row.is_multiple_of(4096) && m * kc * row * crowding(row) <= B_IN_PLACE
}

/// How crowded into few sets of this core's L2 the rows of a B strip read
/// in place are, `row` bytes apart: 1 where they may spread over at least
/// [`STRIP_LINES`] lines ([`cache::strip_lines`]), 2 where over half as
/// many, and so on.
///
/// Rows 1 KiB apart fall in every 16th set: 64 sets of 8 ways, 512 lines,
/// in a Zen 2's or Zen 3's 512 KiB L2 (1,024 sets); 1,024 lines in a
/// 1 MiB one (Zen 4's 2,048 sets of 8 ways, Zen 5's 1,024 of 16); 2,048 in
/// a 2 MiB Intel L2 (2,048 sets of 16). Paired
/// in one process on a Zen 2 (AVX2, f32, 1 thread), packing B against
/// reading it in place: rows 1 KiB apart, 128 × 256 × 512 (m × n × k)
/// +14–31% and 256³ +4–8%, but 128 × 256 × 128 and 128 × 256 × 256 2–4%
/// slower; 2 KiB apart (256 lines), 128 × 512 × 128 +6%, 128 × 512 × 256
/// +36%; 3 KiB apart, 128 × 768 × 128 +5%; 512 bytes apart (1,024
/// lines), 128 × 128 × 512 8% slower. Without the factor every one of
/// those was read in place; with it, those that gained are packed there
/// and the rest still read in place, while the 1 MiB and 2 MiB L2s, where
/// the rest of the rule was measured, keep their choices at the MNIST
/// training shapes and at 256³.
fn crowding(row: usize) -> usize {
    (STRIP_LINES / cache::strip_lines(cache::l2(), row)).max(1)
}

/// See [`crowding`].
const STRIP_LINES: usize = 2048;

/// See [`b_in_place`]: 128 × 256 × 784 is 103 MB, 256 × 256 × 784 205 MB.
const B_IN_PLACE: usize = 128 << 20;

/// Where a tile's A strip is read from.
#[derive(Clone, Copy)]
enum AStrip<'a, T> {
    /// Packed: element `(i, p)` at `[p*MR + i]`.
    Packed(&'a [T]),
    /// In place: `MR` rows of a row-major A, element `(i, p)` at `[i*lda + p]`.
    Rows { data: &'a [T], lda: usize },
    /// In place: `MR` columns' worth of a column-major A, element `(i, p)`
    /// at `[p*lda + i]`.
    Cols { data: &'a [T], lda: usize },
}

impl<T> AStrip<'_, T> {
    /// Asserts that the strip holds `kc` steps of `mr` rows, as the kernels
    /// read it (see the variants).
    fn assert_holds(&self, kc: usize, mr: usize) {
        match *self {
            AStrip::Packed(a) => assert!(a.len() >= kc * mr),
            AStrip::Rows { data, lda } => assert!(data.len() >= (mr - 1) * lda + kc),
            AStrip::Cols { data, lda } => assert!(data.len() >= (kc - 1) * lda + mr),
        }
    }
}

/// The full kernel on one `MR × NR` tile at `c` (row stride `ldc`), from
/// the A strip `a` and the B strip `b` (row stride `ldb`), onto the tile's
/// values or not as `accumulate` says.
///
/// # Safety
/// `a` holds `kc` steps of `MR` rows ([`AStrip::assert_holds`]), `b` holds
/// `kc` rows of stride `ldb` and `NR` columns, and `c` addresses an `MR ×
/// NR` tile of row stride `ldc` that no other thread writes meanwhile.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn run_full<T>(
    kern: GemmKernel<T>,
    kc: usize,
    a: AStrip<'_, T>,
    b: &[T],
    ldb: usize,
    c: *mut T,
    ldc: usize,
    accumulate: bool,
) {
    // SAFETY: the caller's contract, with the packed strip's row stride MR.
    unsafe {
        match a {
            AStrip::Packed(a) => (kern.run)(kc, a.as_ptr(), kern.mr, b.as_ptr(), ldb, c, ldc, accumulate),
            AStrip::Cols { data, lda } => (kern.run)(kc, data.as_ptr(), lda, b.as_ptr(), ldb, c, ldc, accumulate),
            AStrip::Rows { data, lda } => (kern.run_rows)(kc, data.as_ptr(), lda, b.as_ptr(), ldb, c, ldc, accumulate),
        }
    }
}

/// The whole `MR × NR` tiles of C at rows `row0 + s·MR`, one for each A
/// strip `astrips[s]`, and columns `col ..`, from those and one B strip (as for
/// [`tile`]), onto C or not as `accumulate` says. What [`tile`] does for
/// such a tile, without its per-tile branches: in paired in-process runs
/// on a Zen 2 (AVX2, 1 thread) the loop through `tile` cost 7% of a 64³
/// product, and calling the kernel directly ran 64³ … 256³ 1–5% faster
/// (128 × 784 × 256 +2–5%). The caller's task owns the tiles.
#[allow(clippy::too_many_arguments)]
#[inline]
fn whole_tiles<T: Float>(
    kern: GemmKernel<T>,
    kc: usize,
    astrips: &[AStrip<'_, T>],
    b: &[T],
    ldb: usize,
    out: Out<T>,
    row0: usize,
    col: usize,
    accumulate: bool,
) {
    if astrips.is_empty() {
        return;
    }
    let (mr, nr) = (kern.mr, kern.nr);
    assert!(b.len() >= (kc - 1) * ldb + nr);
    assert!(row0 + astrips.len() * mr <= out.m && col + nr <= out.n);
    for (s, &a) in astrips.iter().enumerate() {
        a.assert_holds(kc, mr);
        // SAFETY: the tile's corner is inside C (asserted above).
        let c = unsafe { out.ptr.add((row0 + s * mr) * out.n + col) };
        // SAFETY: the A strip's bound is asserted just above, the B strip's
        // (kc rows of stride ldb, nr columns) and C's mr × nr tile of row
        // stride n before the loop; the caller's task owns the tile.
        unsafe { run_full(kern, kc, a, b, ldb, c, out.n, accumulate) }
    }
}

/// The `mrows × ncols` tile of C at `(row, col)` (at most `MR × NR`), from
/// an A strip and a B strip (packed, `ldb = NR`, or a row-major B's `NR`
/// columns in place, `ldb` its row stride), onto what `start` says (a `Rows` start
/// holds the tile's `ncols` values). The caller's task owns that tile.
#[allow(clippy::too_many_arguments)]
#[inline]
fn tile<T: Float>(
    kern: GemmKernel<T>,
    kc: usize,
    a: AStrip<'_, T>,
    b: &[T],
    ldb: usize,
    out: Out<T>,
    row: usize,
    col: usize,
    mrows: usize,
    ncols: usize,
    start: Start<'_, T>,
) {
    let (mr, nr) = (kern.mr, kern.nr);
    assert!(b.len() >= (kc - 1) * ldb + nr);
    assert!(mrows <= mr && ncols <= nr && row + mrows <= out.m && col + ncols <= out.n);
    // A strip read in place has MR whole rows (a partial one is packed).
    assert!(matches!(a, AStrip::Packed(_)) || mrows == mr);
    a.assert_holds(kc, mr);
    // SAFETY (every call): the asserts above bound the A strip and the B
    // strip (kc rows of stride ldb and nr columns); the caller passes the C
    // tile (asserted inside C below) or a scratch tile, mr rows of stride
    // ldc and nr columns.
    let run = |c: *mut T, ldc: usize, accumulate: bool| unsafe { run_full(kern, kc, a, b, ldb, c, ldc, accumulate) };
    // SAFETY: (row, col) is inside C's m × n elements (asserted above).
    let corner = unsafe { out.ptr.add(row * out.n + col) };
    // SAFETY: row `row + i` < m of C, columns col .. col + ncols ≤ n
    // (asserted above), written only by the task that owns the tile.
    let c_row = |i: usize| unsafe { std::slice::from_raw_parts_mut(corner.add(i * out.n), ncols) };
    if let Start::Rows(start) = start {
        assert_eq!(start.len(), ncols);
        (0..mrows).for_each(|i| c_row(i).copy_from_slice(start));
    }
    let accumulate = !matches!(start, Start::Zero);
    if mrows == mr && ncols == nr {
        run(corner, out.n, accumulate);
    } else if let Some(edge) = kern.edge {
        let (data, lda, rows) = match a {
            AStrip::Packed(a) => (a, mr, false),
            AStrip::Cols { data, lda } => (data, lda, false),
            AStrip::Rows { data, lda } => (data, lda, true),
        };
        // SAFETY: as for `run` above (the strips are asserted full-size,
        // a packed one zero-padded), with C's mrows × ncols tile in place.
        unsafe { edge(mrows, ncols, kc, data.as_ptr(), lda, rows, b.as_ptr(), ldb, corner, out.n, accumulate) };
    } else {
        // Edge tile: run the same kernel into a scratch tile, then add the
        // valid part, so edge elements are rounded exactly like inner ones.
        // Not zeroed first: a kernel that does not accumulate writes every
        // value of its MR × NR tile (a 4 KiB memset an edge tile was 1% of
        // the MNIST layers' products, whose 128-row batch ends in one).
        let mut scratch = [std::mem::MaybeUninit::<T>::uninit(); 16 * 64];
        assert!(mr * nr <= scratch.len());
        run(scratch.as_mut_ptr().cast(), nr, false);
        // SAFETY: the kernel wrote all mr × nr values just above (see
        // `GemmKernel::run`), and `T` is a plain float.
        let written = unsafe { std::slice::from_raw_parts(scratch.as_ptr().cast::<T>(), mr * nr) };
        for (i, src) in written.chunks_exact(nr).take(mrows).enumerate() {
            let dst = c_row(i);
            if accumulate {
                dst.iter_mut().zip(src).for_each(|(c, &s)| *c += s);
            } else {
                dst.copy_from_slice(&src[..ncols]);
            }
        }
    }
}

/// Columns-times-depth of B up to which a small product copies a strided B
/// into a row-major stack buffer first (a `Wᵀ` view in a tiny layer).
const SMALL_PACK: usize = 64;

/// Products up to this size (`m·n·k`) are one scalar dot product per
/// element of C: a vectorised row loop's set-up costs more than a few
/// multiply-adds (XOR's products have 32 to 64).
const TINY: usize = 512;

/// The direct loops for small products. Every element of C becomes
/// `c + Σ_p a·b`, summed in order of `p` whichever loop runs, so the branch
/// taken never changes a result:
/// - a single column of C (a matrix-vector product), or a tiny product, is
///   one dot product per element;
/// - otherwise i-p-j order, whose inner loop runs along rows of C and B and
///   vectorises; a B with strided rows (a transposed view) is first copied
///   row-major into a stack buffer when it fits.
fn small<T: Float>(m: usize, n: usize, k: usize, a: MatRef<'_, T>, b: MatRef<'_, T>, c: &mut [T]) {
    if n == 1 || m * n * k <= TINY {
        for (i, crow) in c.chunks_exact_mut(n).enumerate().take(m) {
            for (j, cij) in crow.iter_mut().enumerate() {
                let mut acc = *cij;
                for p in 0..k {
                    acc += a.at(i, p) * b.at(p, j);
                }
                *cij = acc;
            }
        }
        return;
    }
    if b.cs != 1 && k * n <= SMALL_PACK {
        let mut buf = [T::zero(); SMALL_PACK];
        for (p, row) in buf.chunks_exact_mut(n).take(k).enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = b.at(p, j);
            }
        }
        let packed = MatRef { data: &buf[..k * n], offset: 0, rs: n, cs: 1 };
        return small_rows(m, n, k, a, packed, c);
    }
    if b.cs == 1 {
        return small_rows(m, n, k, a, b, c);
    }
    for (i, crow) in c.chunks_exact_mut(n).enumerate().take(m) {
        for p in 0..k {
            let aip = a.at(i, p);
            crow.iter_mut().enumerate().for_each(|(j, c)| *c += aip * b.at(p, j));
        }
    }
}

/// [`small`] for a B with contiguous rows (`b.cs == 1`).
#[inline(always)]
fn small_rows<T: Float>(m: usize, n: usize, k: usize, a: MatRef<'_, T>, b: MatRef<'_, T>, c: &mut [T]) {
    let brows = &b.data[b.offset..b.offset + (k - 1) * b.rs + n];
    for (i, crow) in c.chunks_exact_mut(n).enumerate().take(m) {
        for p in 0..k {
            let aip = a.at(i, p);
            let brow = &brows[p * b.rs..p * b.rs + n];
            crow.iter_mut().zip(brow).for_each(|(c, &bv)| *c += aip * bv);
        }
    }
}

#[cfg(test)]
mod tests;
