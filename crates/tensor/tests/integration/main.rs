//! The tensor crate's integration tests, one binary: each module is one topic.
//! (One binary instead of one per file keeps `cargo test`'s link time small.)

mod broadcast;
mod conv_reference;
mod matmul_reference;
mod panics;
