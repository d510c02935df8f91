//! Hidden-layer diagnostics: what each layer does during training.
//!
//! A traced forward pass ([`Module::forward_traced`](crate::Module::forward_traced))
//! records each layer's pre-activations and outputs; after backward,
//! [`Trace::report`] turns them into a [`LayerReport`]: per layer the output
//! mean and standard deviation, the fraction of dead ReLU units (zero for the
//! whole batch), the fraction of saturated sigmoid/tanh pre-activations, the
//! gradient norms of the weight and of the layer's output, and — after
//! [`LayerReport::record_update`] — the update-to-weight ratio of the step.
//! Warnings name vanishing or exploding gradients, dead or saturated layers,
//! and risky stacks (deep sigmoid/tanh, ReLU after Xavier init).
//!
//! [`picture`] draws what conv layers learned as PNG files: filters,
//! feature maps and the input patches that excite each unit most.
//!
//! The report prints as a compact table and its numbers are fields, keyed
//! by layer name ([`LayerReport::layer`]).

pub mod picture;
mod report;
mod thresholds;
mod trace;

pub use report::{LayerReport, LayerStats, Warning};
pub use thresholds::Thresholds;
pub use trace::{LayerTrace, Trace};
