//! Evaluation helpers: predictions, accuracy, confusion matrix.

use strata_autograd::Tape;
use strata_tensor::{Float, Tensor};

use crate::data::Dataset;
use crate::module::Module;

/// The arg-max class of `model`'s output for each row of `x` (no gradients
/// recorded). Evaluation uses batches of 1024 to bound memory.
#[must_use]
pub fn predict<T: Float, M: Module<T> + ?Sized>(model: &M, x: &Tensor<T>) -> Vec<usize> {
    let n = x.dims()[0];
    let mut out = Vec::with_capacity(n);
    for start in (0..n).step_by(1024) {
        let len = 1024.min(n - start);
        let tape = Tape::new();
        let logits = tape.no_grad(|| model.forward(&tape, tape.constant(x.narrow(0, start, len))).value());
        out.extend(logits.argmax_axis(-1));
    }
    out
}

/// Fraction of `data` that `model` classifies correctly.
#[must_use]
pub fn accuracy<T: Float, M: Module<T> + ?Sized>(model: &M, data: &Dataset<T>) -> f64 {
    let pred = predict(model, data.features());
    let right = pred.iter().zip(data.labels()).filter(|(p, l)| p == l).count();
    right as f64 / data.len().max(1) as f64
}

/// `m[true][predicted]` counts over `data`.
#[must_use]
pub fn confusion_matrix<T: Float, M: Module<T> + ?Sized>(model: &M, data: &Dataset<T>) -> Vec<Vec<usize>> {
    let k = data.classes();
    let mut m = vec![vec![0; k]; k];
    for (p, &l) in predict(model, data.features()).iter().zip(data.labels()) {
        m[l][(*p).min(k - 1)] += 1;
    }
    m
}
