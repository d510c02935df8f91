//! # strata-nn
//!
//! Hidden layers, models, initialisers, losses, optimizers, checkpoints,
//! data and layer diagnostics on [`strata_autograd`].
//!
//! A hidden layer is `activation(W·x + b)` ([`Dense`]); an [`Mlp`] stacks
//! them; any struct of modules that implements [`Module`] is a model.
//! Parameters carry stable ids, so an optimizer finds their gradients by id
//! and a checkpoint names them as PyTorch's state dicts do.
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use strata_autograd::{Activation, Tape};
//! use strata_nn::{data::Dataset, optim::Adam, Mlp, Module};
//!
//! let mut rng = StdRng::seed_from_u64(7);
//! let data = Dataset::digits()?.split(0.8, &mut rng).standardized();
//! let mut model = Mlp::new(&[64, 32, 10], Activation::Relu, &mut rng);
//! let mut opt = Adam::new(3e-3);
//! for _epoch in 0..5 {
//!     for (x, y) in data.train.batches(64, &mut rng) {
//!         let tape = Tape::new();
//!         let loss = model.forward(&tape, tape.constant(x)).cross_entropy(&y);
//!         opt.step(&mut model, &loss.backward());
//!     }
//! }
//! let accuracy = strata_nn::accuracy(&model, &data.test);
//! assert!(accuracy > 0.9, "{accuracy}");
//! # Ok::<(), strata_nn::Error>(())
//! ```
#![deny(missing_docs)]

mod buffer;
pub mod checkpoint;
pub mod data;
pub mod diagnostics;
mod error;
mod eval;
mod gradcheck;
mod higher;
mod init;
mod layers;
pub mod loss;
mod module;
pub mod optim;
mod param;
mod summary;

pub use buffer::{buffer_updates_enabled, without_buffer_updates, Buffer};
pub use error::Error;
pub use eval::{accuracy, confusion_matrix, predict};
pub use gradcheck::{gradcheck_module, ModuleGradCheckError};
pub use higher::{hvp_params, param_grads_graph};
pub use init::{gain, Dist, Init};
pub use layers::batch_norm::{BatchNorm, BatchNorm1d, BatchNorm2d};
pub use layers::conv::Conv2d;
pub use layers::dense::Dense;
pub use layers::dropout::Dropout;
pub use layers::layer_norm::LayerNorm;
pub use layers::linear::Linear;
pub use layers::mlp::Mlp;
pub use layers::pool::{AvgPool2d, Flatten, MaxPool2d};
pub use layers::sequential::Sequential;
pub use module::{visit_child, visit_child_buffers, visit_child_buffers_mut, visit_child_mut, Module};
pub use param::{Param, ParamTape};
pub use strata_autograd::Activation;
/// `#[derive(Module)]`: a custom architecture's parameter visitors and
/// `set_training`, written from its fields (see [`strata_derive`]). Code that
/// depends on `strata-nn` rather than `strata` adds `#[module(crate = strata_nn)]`.
pub use strata_derive::Module;
pub use summary::{Summary, SummaryRow};

/// What `#[derive(Module)]` expands to refers to, by one stable path.
#[doc(hidden)]
pub mod __derive {
    pub use crate::buffer::Buffer;
    pub use crate::diagnostics::{LayerTrace, Trace};
    pub use crate::module::{visit_child, visit_child_buffers, visit_child_buffers_mut, visit_child_mut, Module};
    pub use crate::param::Param;
    pub use strata_autograd::{Tape, Var};
}
