//! Per-thread bins of buffers kept from one training step for the next:
//! the tape's node columns and a backward pass's gradient slots. A loop
//! records a tape of the same size every step, so reusing the last step's
//! buffers saves large allocations, their growth copies and fresh pages.
//! Type-erased, because the buffers are generic over the float type.

use std::any::Any;
use std::cell::RefCell;
use std::thread::LocalKey;

/// One kind of buffer's bin (a `thread_local!`). Each entry is a box holding
/// `Option<V>`: a taken buffer leaves its box behind, empty, for the next
/// [`keep`] of that type, so a loop that takes and keeps one buffer a step
/// allocates no box either.
pub(crate) type Bin = RefCell<Vec<Box<dyn Any>>>;

/// Most boxes a bin keeps.
const MAX_KEPT: usize = 4;

/// A kept buffer of type `V` from `bin`, if there is one.
pub(crate) fn take<V: Any>(bin: &'static LocalKey<Bin>) -> Option<V> {
    bin.try_with(|bin| {
        let mut bin = bin.try_borrow_mut().ok()?;
        bin.iter_mut().find_map(|b| b.downcast_mut::<Option<V>>().and_then(Option::take))
    })
    .ok()
    .flatten()
}

/// Keeps `buffer` in `bin` for a later [`take`], in an empty box of its type
/// if there is one; else in a new box unless the bin is full (or
/// unreachable, during the thread's teardown), and then it is freed.
pub(crate) fn keep<V: Any>(bin: &'static LocalKey<Bin>, buffer: V) {
    let _ = bin.try_with(|bin| {
        let Ok(mut bin) = bin.try_borrow_mut() else { return };
        let mut buffer = Some(buffer);
        if let Some(slot) = bin.iter_mut().find_map(|b| b.downcast_mut::<Option<V>>().filter(|s| s.is_none())) {
            *slot = buffer.take();
        } else if bin.len() < MAX_KEPT {
            bin.push(Box::new(buffer));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static TEST_BIN: Bin = const { RefCell::new(Vec::new()) };
    }

    #[test]
    fn a_kept_buffer_comes_back_by_type_and_its_box_is_reused() {
        assert_eq!(take::<Vec<u8>>(&TEST_BIN), None);
        keep(&TEST_BIN, vec![1u8, 2]);
        keep(&TEST_BIN, String::from("x"));
        assert_eq!(take::<String>(&TEST_BIN).as_deref(), Some("x"));
        assert_eq!(take::<Vec<u8>>(&TEST_BIN), Some(vec![1, 2]));
        assert_eq!(take::<Vec<u8>>(&TEST_BIN), None);
        // Taking and keeping again fills the emptied boxes, not new ones.
        for i in 0..10u8 {
            keep(&TEST_BIN, vec![i]);
            assert_eq!(take::<Vec<u8>>(&TEST_BIN), Some(vec![i]));
        }
        assert_eq!(TEST_BIN.with(|b| b.borrow().len()), 2);
    }

    #[test]
    fn a_full_bin_frees_what_it_cannot_keep() {
        thread_local! {
            static SMALL_BIN: Bin = const { RefCell::new(Vec::new()) };
        }
        for i in 0..MAX_KEPT + 3 {
            keep(&SMALL_BIN, i);
        }
        assert_eq!(SMALL_BIN.with(|b| b.borrow().len()), MAX_KEPT);
        let back: Vec<usize> = std::iter::from_fn(|| take::<usize>(&SMALL_BIN)).collect();
        assert_eq!(back.len(), MAX_KEPT);
    }
}
