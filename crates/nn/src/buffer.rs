//! [`Buffer`]: module state that gradients do not train (batch norm's
//! running statistics), saved in checkpoints beside the parameters as
//! PyTorch saves its buffers.

use std::cell::Cell;

use strata_tensor::{Float, Tensor};

/// A module's non-trainable state, as [`Module::visit_buffers`](crate::Module::visit_buffers) shows it.
#[derive(Clone, Debug)]
pub enum Buffer<T: Float = f32> {
    /// A tensor in the model's float type (`running_mean`, `running_var`).
    Float(Tensor<T>),
    /// A count (`num_batches_tracked`): a 0-d `I64` tensor in checkpoints, as
    /// PyTorch stores it.
    Count(i64),
}

impl<T: Float> Buffer<T> {
    /// The tensor, if this is a float buffer.
    #[must_use]
    pub fn as_tensor(&self) -> Option<&Tensor<T>> {
        match self {
            Buffer::Float(t) => Some(t),
            Buffer::Count(_) => None,
        }
    }

    /// The count, if this is a count buffer.
    #[must_use]
    pub fn as_count(&self) -> Option<i64> {
        match self {
            Buffer::Float(_) => None,
            Buffer::Count(c) => Some(*c),
        }
    }
}

thread_local! {
    static INSPECTING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with buffer updates switched off on this thread: a forward pass
/// inside it leaves every module's state as it was. [`Summary`](crate::Summary)
/// uses it, so printing a summary of a model in training mode does not move
/// its batch-norm statistics towards a batch of zeros.
pub fn without_buffer_updates<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            INSPECTING.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(INSPECTING.with(|c| c.replace(true)));
    f()
}

/// False inside [`without_buffer_updates`].
#[must_use]
pub fn buffer_updates_enabled() -> bool {
    !INSPECTING.with(Cell::get)
}
