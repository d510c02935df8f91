//! Data: a [`Dataset`] of features and class labels with seeded shuffles,
//! splits and mini-batches; the shipped digits set; an IDX reader for MNIST;
//! feature standardisation fitted on the training split.

mod dataset;
mod digits;
mod gzip;
pub mod idx;
mod mnist;
mod standardize;

pub use dataset::{Batches, Dataset, Split};
pub use standardize::Standardizer;
