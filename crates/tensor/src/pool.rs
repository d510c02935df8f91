//! A per-thread cache of large element buffers, so the tensors of a training
//! step reuse the last step's memory instead of asking the OS for it again.
//!
//! Why: a step allocates and frees the same large buffers every time
//! (activations, products, gradients). Freed, they return to glibc, which
//! may shrink its heap (`brk`) or unmap them, and the next step faults
//! every page back in. Whether it does depends on where unrelated small
//! allocations happen to sit: the same MNIST step measured 770 µs or
//! 1,200 µs a step depending on the size of one unrelated `Vec` allocated
//! before training, 344 page faults a step in the slow case. Recycling the
//! buffers here makes a step's memory traffic independent of the heap's
//! layout.
//!
//! Only `f32` and `f64` buffers of at least [`MIN_LEN`] elements are kept,
//! matched by exact length (a training loop asks for the same shapes every
//! step), at most [`MAX_BUFFERS`] of them and [`MAX_BYTES`] per thread;
//! past that the oldest is freed. A buffer comes back with the values its
//! last tensor left: callers overwrite it (see `Storage::filled`).

use std::any::{Any, TypeId};
use std::cell::RefCell;

/// Buffers smaller than this many elements are left to the allocator (its
/// thread cache serves them well, and they are not what faults).
pub(crate) const MIN_LEN: usize = 1 << 12;

/// Most buffers kept per thread and element type.
const MAX_BUFFERS: usize = 64;

/// Most bytes kept per thread and element type.
const MAX_BYTES: usize = 64 << 20;

/// The free buffers of one element type, oldest first.
struct Pool<T> {
    free: Vec<Vec<T>>,
    bytes: usize,
}

impl<T> Pool<T> {
    const fn new() -> Self {
        Pool { free: Vec::new(), bytes: 0 }
    }

    fn take(&mut self, len: usize) -> Option<Vec<T>> {
        let i = self.free.iter().rposition(|v| v.len() - aligned_start(v) == len)?;
        let v = self.free.remove(i);
        self.bytes -= std::mem::size_of_val(v.as_slice());
        Some(v)
    }

    fn give(&mut self, v: Vec<T>) {
        let size = std::mem::size_of_val(v.as_slice());
        if size > MAX_BYTES {
            return;
        }
        while !self.free.is_empty() && (self.free.len() >= MAX_BUFFERS || self.bytes + size > MAX_BYTES) {
            let old = self.free.remove(0);
            self.bytes -= std::mem::size_of_val(old.as_slice());
        }
        self.bytes += size;
        self.free.push(v);
    }
}

thread_local! {
    static F32: RefCell<Pool<f32>> = const { RefCell::new(Pool::new()) };
    static F64: RefCell<Pool<f64>> = const { RefCell::new(Pool::new()) };
}

/// Runs `f` on this thread's pool for `T`, if `T` has one and the pool is
/// reachable (not during thread teardown, not re-entered).
fn with_pool<T: 'static, R>(f: impl FnOnce(&mut Pool<T>) -> R) -> Option<R> {
    fn run<U: 'static, T: 'static, R>(
        key: &'static std::thread::LocalKey<RefCell<Pool<U>>>,
        f: impl FnOnce(&mut Pool<T>) -> R,
    ) -> Option<R> {
        key.try_with(|cell| {
            let mut pool = cell.try_borrow_mut().ok()?;
            let any: &mut dyn Any = &mut *pool;
            any.downcast_mut::<Pool<T>>().map(f)
        })
        .ok()
        .flatten()
    }
    let t = TypeId::of::<T>();
    if t == TypeId::of::<f32>() {
        run(&F32, f)
    } else if t == TypeId::of::<f64>() {
        run(&F64, f)
    } else {
        None
    }
}

/// A cached buffer of exactly `len` elements (old values) past its aligned
/// start, if there is one.
fn take<T: 'static>(len: usize) -> Option<Vec<T>> {
    if len < MIN_LEN {
        return None;
    }
    with_pool(|p: &mut Pool<T>| p.take(len)).flatten()
}

/// Keeps `v` for a later [`take`] of its length past its aligned start (or
/// frees it).
fn give<T: 'static>(v: Vec<T>) {
    if v.len() - aligned_start(&v) >= MIN_LEN {
        // A type without a pool, or an unreachable one, frees `v` here.
        let _ = with_pool(|p: &mut Pool<T>| p.give(v));
    }
}

/// Elements of padding in front of a pooled buffer, enough to start its
/// values on a 64-byte boundary.
const fn pad<T>() -> usize {
    // A zero-sized type (never pooled) needs none; this only avoids a
    // division by zero.
    match 64usize.checked_div(std::mem::size_of::<T>()) {
        Some(pad) => pad,
        None => 1,
    }
}

/// Where a pooled buffer's values start in `vec`: its first element on a
/// 64-byte boundary (the allocator gives 16; glibc's large, mmapped blocks
/// are 16 bytes past a page), or 0 if that is past the padding.
fn aligned_start<T>(vec: &[T]) -> usize {
    let start = vec.as_ptr().align_offset(64);
    if start < pad::<T>() && start <= vec.len() {
        start
    } else {
        0
    }
}

/// A tensor's element buffer, which goes back to its thread's pool when
/// dropped if it came from a type that has one.
///
/// Pooled buffers start their values on a 64-byte boundary: a matmul's
/// output tiles are then whole cache lines (16 f32), so a row of a tile is
/// one line written, not two, and two threads that write neighbouring
/// column blocks of one output never write the same line. With the 16-byte
/// alignment the allocator gives, the 2-thread column split of a 128³
/// product ran 15–25% slower than with a private output for the second
/// thread (Zen 2, AVX2), how much slower varying from process to process
/// with where the heap put C.
pub(crate) struct Recycled<T> {
    /// The values are `vec[start..]`.
    vec: Vec<T>,
    start: usize,
    home: Option<fn(Vec<T>)>,
}

impl<T: Copy + 'static> Recycled<T> {
    /// `n` values, 64-byte aligned, from this thread's pool (with whatever
    /// values they last held) or newly set to `value`; recycled when
    /// dropped.
    pub(crate) fn aligned(n: usize, value: T) -> Self {
        let vec = take::<T>(n).unwrap_or_else(|| {
            let mut v = vec![value; n + pad::<T>()];
            let start = aligned_start(&v);
            v.truncate(start + n);
            v
        });
        let start = aligned_start(&vec);
        debug_assert_eq!(vec.len() - start, n);
        Recycled { vec, start, home: Some(give::<T>) }
    }
}

impl<T> Recycled<T> {
    /// Wraps `vec`, to be freed as usual (a caller's own vector).
    pub(crate) fn plain(vec: Vec<T>) -> Self {
        Recycled { vec, start: 0, home: None }
    }

    pub(crate) fn as_slice(&self) -> &[T] {
        &self.vec[self.start..]
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.vec[self.start..]
    }

    /// The values as a vector, which will not be recycled (moved to its
    /// front first if they start past a padding).
    pub(crate) fn into_inner(mut self) -> Vec<T> {
        self.home = None;
        let mut vec = std::mem::take(&mut self.vec);
        vec.drain(..self.start);
        vec
    }
}

impl<T: Copy + 'static> Clone for Recycled<T> {
    /// A copy in a buffer of its own kind: aligned and pooled, or plain.
    fn clone(&self) -> Self {
        match self.home {
            Some(_) if self.as_slice().is_empty() => Recycled { vec: Vec::new(), start: 0, home: self.home },
            Some(_) => {
                let mut copy = Recycled::aligned(self.as_slice().len(), self.as_slice()[0]);
                copy.as_mut_slice().copy_from_slice(self.as_slice());
                copy
            }
            None => Recycled::plain(self.vec.clone()),
        }
    }
}

impl<T> Drop for Recycled<T> {
    fn drop(&mut self) {
        if let Some(home) = self.home {
            home(std::mem::take(&mut self.vec));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_buffer_is_handed_out_again_for_its_length_only() {
        let b = Recycled::aligned(MIN_LEN + 3, 1.0f32);
        let ptr = b.as_slice().as_ptr();
        drop(b);
        assert!(take::<f32>(MIN_LEN + 4).is_none(), "a buffer is matched by its exact length");
        assert!(take::<f64>(MIN_LEN + 3).is_none(), "pools are per element type");
        let again = Recycled::aligned(MIN_LEN + 3, 0.0f32);
        assert_eq!(again.as_slice().as_ptr(), ptr);
        assert_eq!(again.as_slice()[MIN_LEN + 2], 1.0, "with the values it held");
        assert!(take::<f32>(MIN_LEN + 3).is_none(), "handed out once");
    }

    #[test]
    fn buffers_start_on_64_bytes_new_recycled_and_cloned() {
        for n in [MIN_LEN, MIN_LEN + 1, MIN_LEN + 5, 3 * MIN_LEN + 7, 5, 0] {
            let held: Vec<Recycled<f32>> = (0..4).map(|_| Recycled::aligned(n, 2.0)).collect();
            let wide: Vec<Recycled<f64>> = (0..4).map(|_| Recycled::aligned(n, 2.0)).collect();
            drop((held, wide));
            for _ in 0..2 {
                let (a, b) = (Recycled::aligned(n, 2.0f32), Recycled::aligned(n, 2.0f64));
                for (len, addr) in [
                    (a.as_slice().len(), a.as_slice().as_ptr() as usize),
                    (b.as_slice().len(), b.as_slice().as_ptr() as usize),
                ] {
                    assert_eq!(len, n);
                    assert_eq!(addr % 64, 0, "{n} values at {addr:#x}");
                }
                let c = a.clone();
                assert!(n == 0 || (c.as_slice().as_ptr() as usize).is_multiple_of(64));
                assert_eq!(c.as_slice(), a.as_slice());
                let v = b.into_inner();
                assert_eq!(v, vec![2.0; n], "into_inner returns exactly the values");
            }
        }
    }

    #[test]
    fn small_plain_and_unpooled_buffers_are_not_kept() {
        drop(Recycled::aligned(MIN_LEN - 1, 0.0f64));
        assert!(take::<f64>(MIN_LEN - 1).is_none());
        drop(Recycled::plain(vec![0.0f64; MIN_LEN + 7]));
        assert!(take::<f64>(MIN_LEN + 7).is_none());
        drop(Recycled::aligned(MIN_LEN + 1, 0u8));
        assert!(take::<u8>(MIN_LEN + 1).is_none());
        let v = Recycled::aligned(MIN_LEN + 9, 2.0f64).into_inner();
        drop(v);
        assert!(take::<f64>(MIN_LEN + 9).is_none(), "into_inner gives up recycling");
    }

    #[test]
    fn the_pool_is_bounded_by_count_and_bytes() {
        let len = MIN_LEN + 11;
        let held: Vec<Recycled<f32>> = (0..MAX_BUFFERS + 10).map(|_| Recycled::aligned(len, 0.0)).collect();
        drop(held);
        let mut n = 0;
        while take::<f32>(len).is_some() {
            n += 1;
        }
        assert_eq!(n, MAX_BUFFERS);
        // One buffer larger than the byte budget is freed, not kept.
        drop(Recycled::aligned(MAX_BYTES / 8 + 1, 0.0f64));
        assert!(take::<f64>(MAX_BYTES / 8 + 1).is_none());
    }
}
