//! Per-thread bins of buffers kept from one training step for the next:
//! the tape's node columns and a backward pass's gradient slots. A loop
//! records a tape of the same size every step, so reusing the last step's
//! buffers saves large allocations, their growth copies and fresh pages.
//! Type-erased, because the buffers are generic over the float type.

use std::any::Any;
use std::cell::RefCell;
use std::thread::LocalKey;

/// One kind of buffer's bin (a `thread_local!`).
pub(crate) type Bin = RefCell<Vec<Box<dyn Any>>>;

/// Most buffers a bin keeps.
const MAX_KEPT: usize = 4;

/// A kept buffer of type `V` from `bin`, if there is one.
pub(crate) fn take<V: Any>(bin: &'static LocalKey<Bin>) -> Option<V> {
    bin.try_with(|bin| {
        let mut bin = bin.try_borrow_mut().ok()?;
        let at = bin.iter().position(|b| b.is::<V>())?;
        bin.swap_remove(at).downcast::<V>().ok().map(|b| *b)
    })
    .ok()
    .flatten()
}

/// Keeps `buffer` in `bin` for a later [`take`], unless the bin is full
/// (or unreachable, during the thread's teardown): then it is freed.
pub(crate) fn keep<V: Any>(bin: &'static LocalKey<Bin>, buffer: V) {
    let _ = bin.try_with(|bin| {
        if let Ok(mut bin) = bin.try_borrow_mut()
            && bin.len() < MAX_KEPT
        {
            bin.push(Box::new(buffer));
        }
    });
}
