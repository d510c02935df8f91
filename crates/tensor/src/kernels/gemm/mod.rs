//! General matrix multiply, C ← A·B, after the BLIS design.
//!
//! The loops (labelled as in BLIS and `matrixmultiply`):
//! - LOOP 4 walks the shared dimension in slices of `kc`; A's `m × kc` panel
//!   is packed into `MR`-tall strips once per slice (by the task that owns
//!   the strip), not once per panel of B;
//! - LOOP 5 walks the columns of C in panels of `nc` and packs the `kc × nc`
//!   panel of B into `NR`-wide strips (it stays in L2);
//! - LOOP 3 walks the rows of C in strips of `MR`, in parallel with rayon (the
//!   task's `MR × kc` strip of A stays in L1);
//! - LOOP 2 walks the packed B strips, and LOOP 1 is the register-tiled
//!   micro-kernel, an `MR × NR` block of C held in SIMD registers.
//!
//! Operands are read through their strides while packing, so `A·Bᵀ` and `Aᵀ·B`
//! cost no transpose copy. Every element of C is computed by one task, summing
//! `k` in the same order and the same `kc` slices, so the result does not
//! depend on the number of threads, nor on where a tile falls (edge tiles run
//! the same micro-kernel into a scratch tile).

mod gemv;
mod pack;
mod portable;
#[cfg(target_arch = "x86_64")]
mod x86;
#[cfg(target_arch = "x86_64")]
mod x86_pack;

#[cfg(target_arch = "x86_64")]
pub(crate) use x86_pack::interleave_f32;

use rayon::prelude::*;

use crate::float::Float;

/// A micro-kernel: computes an `MR × NR` tile of C from packed strips.
///
/// `run(kc, a, b, c, ldc, accumulate)`: `a` holds `kc * MR` values (`a[p*MR + i]`),
/// `b` holds `kc * NR` values (`b[p*NR + j]`), and the tile at `c` (row stride
/// `ldc`, unit column stride) becomes `Σ_p a[p,i]·b[p,j]`, plus its old value
/// when `accumulate` is set.
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
    /// The kernel. Unsafe: `a`, `b` must hold `kc*mr`, `kc*nr` values and `c`
    /// must address an `mr × nr` tile with row stride `ldc`.
    pub(crate) run: unsafe fn(usize, *const T, *const T, *mut T, usize, bool),
}

impl<T> std::fmt::Debug for GemmKernel<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GemmKernel({}, {}x{})", self.name, self.mr, self.nr)
    }
}

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

/// `c` (contiguous `m × n`, any values on entry) ← `a (m × k) · b (k × n)`.
/// Every element is written, so the caller need not zero a fresh buffer.
pub(crate) fn gemm<T: Float>(m: usize, n: usize, k: usize, a: MatRef<'_, T>, b: MatRef<'_, T>, c: &mut [T]) {
    gemm_with(T::gemm_kernel(), m, n, k, a, b, c, false);
}

/// `c` (contiguous `m × n`) ← `c + a (m × k) · b (k × n)`: `Tensor::linear`
/// starts `c` as the bias rows, so the bias is added in the product's
/// write-out. (The plain product does not read `c` on its first pass: a
/// fresh zeroed buffer would fault its pages in twice.)
pub(crate) fn gemm_acc<T: Float>(m: usize, n: usize, k: usize, a: MatRef<'_, T>, b: MatRef<'_, T>, c: &mut [T]) {
    gemm_with(T::gemm_kernel(), m, n, k, a, b, c, true);
}

/// [`gemm`] (or, with `acc`, [`gemm_acc`]) with a chosen micro-kernel (tests
/// run every kernel this way).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_with<T: Float>(
    kern: GemmKernel<T>,
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [T],
    acc: bool,
) {
    debug_assert_eq!(c.len(), m * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !acc {
            c.fill(T::zero());
        }
        return;
    }
    if m == 1 {
        // One row (batch-1 inference): dot products, no packing.
        return gemv::gemv(n, k, a, b, c, acc);
    }
    if m * n * k < SMALL {
        // The direct loops accumulate onto c.
        if !acc {
            c.fill(T::zero());
        }
        return small(m, n, k, a, b, c);
    }
    let parallel = m * n * k >= PARALLEL && m > kern.mr && rayon::current_num_threads() > 1;
    if parallel && rayon::current_thread_index().is_none() {
        // Enter the pool once: every parallel loop started from outside it
        // pays a cross-thread wake-up, and a blocked product has several.
        return rayon::scope(|_| blocked(kern, m, n, k, a, b, c, true, acc));
    }
    blocked(kern, m, n, k, a, b, c, parallel, acc);
}

/// The blocked loops (see the module docs).
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
    acc: bool,
) {
    let (mr, nr) = (kern.mr, kern.nr);
    let strips = m.div_ceil(mr);
    // This thread's packing buffers, taken out of its slot so that a product
    // run by this thread while it waits on rayon (a nested one) finds the
    // slot empty and allocates its own instead of sharing these.
    let [abuf, bbuf] = T::gemm_scratch().take();
    let mut apack = pack::AlignedBuf::reuse(abuf, strips * mr * kern.kc.min(k));
    let mut bpack = pack::AlignedBuf::reuse(bbuf, kern.kc.min(k) * kern.nc.min(n).div_ceil(nr) * nr);
    // LOOP 4: slices of kc along the shared dimension. Each task packs its
    // strip of A's m × kc panel on the first panel of B and reuses it after.
    for pc in (0..k).step_by(kern.kc) {
        let kc = kern.kc.min(k - pc);
        let ap = &mut apack.as_mut_slice()[..strips * mr * kc];
        // LOOP 5: panels of nc columns of C; each packed B panel stays in L2.
        for jc in (0..n).step_by(kern.nc) {
            let nc = kern.nc.min(n - jc);
            let bp = &mut bpack.as_mut_slice()[..kc * nc.div_ceil(nr) * nr];
            pack::pack_b(bp, b, pc, kc, jc, nc, nr, parallel);
            let bp: &[T] = bp;
            let strip = |(s, (rows, astrip)): (usize, (&mut [T], &mut [T]))| {
                if jc == 0 {
                    pack::pack_a(astrip, a, s * mr, m, pc, kc, mr);
                }
                let mrows = rows.len() / n;
                // LOOP 2 + LOOP 1: every packed B strip against this A strip.
                for (t, bstrip) in bp.chunks_exact(kc * nr).enumerate() {
                    let col = jc + t * nr;
                    let ncols = nr.min(jc + nc - col);
                    tile(kern, kc, astrip, bstrip, &mut rows[col..], n, mrows, ncols, pc > 0 || acc);
                }
            };
            // LOOP 3: strips of mr rows of C, one rayon task each.
            if parallel {
                c.par_chunks_mut(mr * n).zip(ap.par_chunks_mut(kc * mr)).enumerate().for_each(strip);
            } else {
                c.chunks_mut(mr * n).zip(ap.chunks_mut(kc * mr)).enumerate().for_each(strip);
            }
        }
    }
    T::gemm_scratch().set([apack.into_vec(), bpack.into_vec()]);
}

/// One `mrows × ncols` tile of C (at most `MR × NR`), from packed strips.
#[allow(clippy::too_many_arguments)]
#[inline]
fn tile<T: Float>(
    kern: GemmKernel<T>,
    kc: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    ldc: usize,
    mrows: usize,
    ncols: usize,
    accumulate: bool,
) {
    let (mr, nr) = (kern.mr, kern.nr);
    assert!(a.len() >= kc * mr && b.len() >= kc * nr);
    if mrows == mr && ncols == nr {
        assert!(c.len() >= (mr - 1) * ldc + nr);
        // SAFETY: the asserts above bound both packed strips and the C tile
        // (mr rows of row stride ldc, nr columns) inside their slices.
        unsafe { (kern.run)(kc, a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), ldc, accumulate) };
    } else {
        // Edge tile: run the same kernel into a scratch tile, then add the
        // valid part, so edge elements are rounded exactly like inner ones.
        let mut scratch = [T::zero(); 16 * 64];
        assert!(mr * nr <= scratch.len());
        // SAFETY: scratch holds an mr × nr tile with row stride nr (asserted).
        unsafe { (kern.run)(kc, a.as_ptr(), b.as_ptr(), scratch.as_mut_ptr(), nr, false) };
        for i in 0..mrows {
            let row = &mut c[i * ldc..i * ldc + ncols];
            let src = &scratch[i * nr..i * nr + ncols];
            if accumulate {
                row.iter_mut().zip(src).for_each(|(c, &s)| *c += s);
            } else {
                row.copy_from_slice(src);
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
