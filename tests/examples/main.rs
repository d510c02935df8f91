//! The examples' tests, one binary: each module includes one example's source
//! and drives its `run` function. (One binary instead of one per file keeps
//! `cargo test`'s link time small.)

// Each example declares `mod common;` for itself, as it does when built alone.
#![allow(clippy::duplicate_mod)]

mod example_activations;
mod example_cnn_digits;
mod example_cnn_mnist;
mod example_custom_layer;
mod example_double_backprop;
mod example_gradient_penalty;
mod example_hidden_features;
mod example_mnist;
mod example_mnist_lite;
mod example_transfer;
mod example_xor;
mod idx_files;
mod readme_figures;
