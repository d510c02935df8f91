//! The nn crate's integration tests, one binary: each module is one topic.
//! (One binary instead of one per file keeps `cargo test`'s link time small.)

mod allocations;
mod checkpoint;
mod cnn;
mod determinism;
mod diagnostics;
mod higher;
mod hostile_files;
mod inference;
mod mnist_files;
mod modules;
mod optimizers;
