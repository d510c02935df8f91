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
        let i = self.free.iter().rposition(|v| v.len() == len)?;
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

/// A cached buffer of exactly `len` elements (old values), if there is one.
pub(crate) fn take<T: 'static>(len: usize) -> Option<Vec<T>> {
    if len < MIN_LEN {
        return None;
    }
    with_pool(|p: &mut Pool<T>| p.take(len)).flatten()
}

/// Keeps `v` for a later [`take`] of its length (or frees it).
fn give<T: 'static>(v: Vec<T>) {
    if v.len() >= MIN_LEN {
        // A type without a pool, or an unreachable one, frees `v` here.
        let _ = with_pool(|p: &mut Pool<T>| p.give(v));
    }
}

/// A vector that goes back to its thread's pool when dropped, if it came
/// from a type that has one.
pub(crate) struct Recycled<T> {
    pub(crate) vec: Vec<T>,
    home: Option<fn(Vec<T>)>,
}

impl<T: 'static> Recycled<T> {
    /// Wraps `vec`, to be recycled when dropped.
    pub(crate) fn new(vec: Vec<T>) -> Self {
        Recycled { vec, home: Some(give::<T>) }
    }
}

impl<T> Recycled<T> {
    /// Wraps `vec`, to be freed as usual (a caller's own vector).
    pub(crate) fn plain(vec: Vec<T>) -> Self {
        Recycled { vec, home: None }
    }

    /// The vector, which will not be recycled.
    pub(crate) fn into_inner(mut self) -> Vec<T> {
        self.home = None;
        std::mem::take(&mut self.vec)
    }
}

impl<T: Clone> Clone for Recycled<T> {
    fn clone(&self) -> Self {
        Recycled { vec: self.vec.clone(), home: self.home }
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
        let v = vec![1.0f32; MIN_LEN + 3];
        let ptr = v.as_ptr();
        drop(Recycled::new(v));
        assert!(take::<f32>(MIN_LEN + 4).is_none(), "a buffer is matched by its exact length");
        assert!(take::<f64>(MIN_LEN + 3).is_none(), "pools are per element type");
        let again = take::<f32>(MIN_LEN + 3).expect("the dropped buffer");
        assert_eq!(again.as_ptr(), ptr);
        assert!(take::<f32>(MIN_LEN + 3).is_none(), "handed out once");
    }

    #[test]
    fn small_plain_and_unpooled_buffers_are_not_kept() {
        drop(Recycled::new(vec![0.0f64; MIN_LEN - 1]));
        assert!(take::<f64>(MIN_LEN - 1).is_none());
        drop(Recycled::plain(vec![0.0f64; MIN_LEN + 7]));
        assert!(take::<f64>(MIN_LEN + 7).is_none());
        drop(Recycled::new(vec![0u8; MIN_LEN + 1]));
        assert!(take::<u8>(MIN_LEN + 1).is_none());
        let v = Recycled::new(vec![2.0f64; MIN_LEN + 9]).into_inner();
        drop(v);
        assert!(take::<f64>(MIN_LEN + 9).is_none(), "into_inner gives up recycling");
    }

    #[test]
    fn the_pool_is_bounded_by_count_and_bytes() {
        let len = MIN_LEN + 11;
        for _ in 0..MAX_BUFFERS + 10 {
            drop(Recycled::new(vec![0.0f32; len]));
        }
        let mut n = 0;
        while take::<f32>(len).is_some() {
            n += 1;
        }
        assert_eq!(n, MAX_BUFFERS);
        // One buffer larger than the byte budget is freed, not kept.
        drop(Recycled::new(vec![0.0f64; MAX_BYTES / 8 + 1]));
        assert!(take::<f64>(MAX_BYTES / 8 + 1).is_none());
    }
}
