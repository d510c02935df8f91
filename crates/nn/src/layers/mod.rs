//! Layers: one file each.

pub(crate) mod activation;
pub(crate) mod batch_norm;
pub(crate) mod conv;
pub(crate) mod dense;
pub(crate) mod dropout;
pub(crate) mod layer_norm;
pub(crate) mod linear;
pub(crate) mod mlp;
pub(crate) mod pool;
pub(crate) mod sequential;
