//! The autograd crate's integration tests, one binary: each module is one topic.
//! (One binary instead of one per file keeps `cargo test`'s link time small.)

mod custom_op;
mod gradcheck;
mod higher_order;
mod tape;
