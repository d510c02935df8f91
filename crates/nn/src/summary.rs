//! [`Summary`]: a Keras-style table of a model's layers.

use std::fmt;

use strata_autograd::Tape;
use strata_tensor::{Float, Tensor};

use crate::diagnostics::Trace;
use crate::module::Module;

/// One row of a [`Summary`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryRow {
    /// Layer name (`layers.0`).
    pub name: String,
    /// Description (`Dense(64 → 128, relu)`).
    pub kind: String,
    /// Output shape for the summary's input shape.
    pub output: Vec<usize>,
    /// Parameter elements.
    pub params: usize,
}

/// Each layer's name, output shape and parameter count, and the totals, as
/// Keras' `model.summary()` or torchinfo print them.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use strata_autograd::Activation;
/// use strata_nn::{Mlp, Module};
///
/// let model = Mlp::new(&[64, 128, 10], Activation::Relu, &mut StdRng::seed_from_u64(0));
/// let s = model.summary(&[1, 64]);
/// assert_eq!(s.rows[0].output, vec![1, 128]);
/// assert_eq!(s.total, 9610);
/// println!("{s}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The model's description.
    pub model: String,
    /// Input shape used.
    pub input: Vec<usize>,
    /// One row per traced layer.
    pub rows: Vec<SummaryRow>,
    /// All parameter elements.
    pub total: usize,
    /// Those not frozen.
    pub trainable: usize,
}

impl Summary {
    /// Summarises `model` for an input of shape `input` (one forward pass on
    /// zeros, gradients off).
    pub fn of<T: Float, M: Module<T> + ?Sized>(model: &M, input: &[usize]) -> Summary {
        let tape = Tape::<T>::new();
        let rows = crate::without_buffer_updates(|| {
            tape.no_grad(|| {
                let mut trace = Trace::new();
                let x = tape.constant(Tensor::zeros(input.to_vec()));
                let _ = model.forward_traced(&tape, x, &mut trace);
                trace
                    .layers()
                    .iter()
                    .map(|l| SummaryRow {
                        name: l.name.clone(),
                        kind: l.kind.clone(),
                        output: l.output.dims(),
                        params: l.params,
                    })
                    .collect()
            })
        });
        Summary {
            model: model.describe(),
            input: input.to_vec(),
            rows,
            total: model.num_params(),
            trainable: model.num_trainable_params(),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shape = |d: &[usize]| format!("{d:?}");
        let name_w = self.rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(5).max(5);
        let kind_w = self.rows.iter().map(|r| r.kind.chars().count()).max().unwrap_or(4).max(4);
        let out_w = self.rows.iter().map(|r| shape(&r.output).len()).max().unwrap_or(6).max(12);
        let rule = "─".repeat(name_w + kind_w + out_w + 18);
        writeln!(f, "{}  (input {})", self.model, shape(&self.input))?;
        writeln!(f, "{rule}")?;
        writeln!(f, "{:<name_w$}  {:<kind_w$}  {:<out_w$}  {:>10}", "layer", "kind", "output shape", "params")?;
        writeln!(f, "{rule}")?;
        for r in &self.rows {
            let pad = kind_w - r.kind.chars().count();
            writeln!(
                f,
                "{:<name_w$}  {}{}  {:<out_w$}  {:>10}",
                r.name,
                r.kind,
                " ".repeat(pad),
                shape(&r.output),
                r.params
            )?;
        }
        writeln!(f, "{rule}")?;
        writeln!(
            f,
            "total params: {}   trainable: {}   frozen: {}",
            self.total,
            self.trainable,
            self.total - self.trainable
        )
    }
}
