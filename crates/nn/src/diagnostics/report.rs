//! [`LayerReport`]: per-layer statistics of one traced step, and warnings.

use std::fmt;

use strata_autograd::{Activation, Grads};
use strata_tensor::{Float, Tensor};

use crate::diagnostics::thresholds::Thresholds;
use crate::diagnostics::trace::Trace;
use crate::module::Module;

/// What one layer did in a traced step.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerStats {
    /// Layer name (`layers.0`).
    pub name: String,
    /// Layer description (`Dense(64 → 128, relu)`).
    pub kind: String,
    /// The activation, if the layer has one.
    pub activation: Option<Activation>,
    /// Output units: features of a `(N, F)` output, channels of an
    /// `(N, C, H, W)` one (axis 1; a channel's unit is all its positions).
    pub units: usize,
    /// Mean of the layer's outputs over the batch and units.
    pub mean: f64,
    /// Standard deviation of the outputs.
    pub std: f64,
    /// ReLU layers: fraction of units that output zero for every sample of
    /// the batch (for a conv layer, channels zero at every position).
    pub dead_fraction: Option<f64>,
    /// ReLU layers: which units (features, or channels) are dead.
    pub dead_units: Option<Vec<usize>>,
    /// Sigmoid/tanh/hardtanh layers: fraction of pre-activations in the flat tails.
    pub saturated_fraction: Option<f64>,
    /// Sigmoid/tanh/hardtanh layers: the saturated fraction of each unit's
    /// (feature's, or channel's) pre-activations.
    pub saturated_by_unit: Option<Vec<f64>>,
    /// L2 norm of the weight's gradient.
    pub weight_grad_norm: Option<f64>,
    /// L2 norm of the gradient reaching the layer's output.
    pub output_grad_norm: Option<f64>,
    /// `‖ΔW‖ / ‖W‖` of the step after this pass (see [`LayerReport::record_update`]).
    pub update_ratio: Option<f64>,
    /// Parameter elements.
    pub params: usize,
    /// Each weight's id and its values during the traced pass.
    weights: Vec<(u64, Vec<f64>)>,
}

/// Something in a report that deserves a look.
#[derive(Clone, Debug, PartialEq)]
pub enum Warning {
    /// Early layers get far smaller gradients than late ones.
    Vanishing {
        /// First layer with a weight.
        first: String,
        /// Last layer with a weight.
        last: String,
        /// `‖∇W_first‖ / ‖∇W_last‖`.
        ratio: f64,
    },
    /// Gradients that are huge, or grow towards the input.
    Exploding {
        /// The layer.
        layer: String,
        /// Its weight-gradient norm.
        norm: f64,
    },
    /// Most of a ReLU layer's units are dead.
    Dead {
        /// The layer.
        layer: String,
        /// Fraction of dead units.
        fraction: f64,
    },
    /// Most of a sigmoid/tanh layer's pre-activations are saturated.
    Saturated {
        /// The layer.
        layer: String,
        /// Fraction saturated.
        fraction: f64,
    },
    /// Many sigmoid/tanh hidden layers in one stack.
    DeepSaturatingStack {
        /// How many.
        layers: usize,
    },
    /// A ReLU-family layer initialised for tanh (Xavier halves its signal per layer).
    ReluWithXavier {
        /// The layer.
        layer: String,
    },
    /// One step moved a weight by a large fraction of its norm.
    LargeUpdate {
        /// The layer.
        layer: String,
        /// `‖ΔW‖ / ‖W‖`.
        ratio: f64,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Vanishing { first, last, ratio } => write!(
                f,
                "vanishing gradients: ‖∇W‖ of {first} is {ratio:.1e} × that of {last} (try ReLU-family activations, He init, or fewer layers)"
            ),
            Warning::Exploding { layer, norm } => {
                write!(f, "exploding gradients: ‖∇W‖ of {layer} is {norm:.2e} (lower the learning rate or clip the gradient norm)")
            }
            Warning::Dead { layer, fraction } => write!(
                f,
                "{layer}: {:.0}% of ReLU units are dead for the whole batch (try leaky ReLU/ELU, a lower learning rate, or He init)",
                fraction * 100.0
            ),
            Warning::Saturated { layer, fraction } => write!(
                f,
                "{layer}: {:.0}% of pre-activations are saturated, so their gradients are near zero",
                fraction * 100.0
            ),
            Warning::DeepSaturatingStack { layers } => write!(
                f,
                "{layers} sigmoid/tanh hidden layers in one stack: their derivatives multiply, so early layers learn slowly"
            ),
            Warning::ReluWithXavier { layer } => {
                write!(f, "{layer}: ReLU-family activation with Xavier init halves the signal per layer; He init fits it")
            }
            Warning::LargeUpdate { layer, ratio } => {
                write!(f, "{layer}: one step changed the weight by {ratio:.1e} of its norm (about 1e-3 is healthy)")
            }
        }
    }
}

/// Per-layer statistics of one traced step, with warnings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerReport {
    layers: Vec<LayerStats>,
    warnings: Vec<Warning>,
    thresholds: Option<Thresholds>,
}

impl LayerReport {
    pub(crate) fn from_trace<T: Float>(trace: &Trace<'_, T>, grads: Option<&Grads<T>>, th: Thresholds) -> Self {
        let mut layers = Vec::new();
        for l in trace.layers() {
            let y = l.output.value();
            let (mean, std) = mean_std(&y);
            let units = unit_layout(y.dims()).1;
            let dead_units = match l.activation {
                Some(Activation::Relu) => Some(dead_units(&y)),
                _ => None,
            };
            let dead_fraction = dead_units.as_ref().map(|d| d.len() as f64 / units.max(1) as f64);
            let limit = match l.activation {
                Some(Activation::Sigmoid) => Some((-th.sigmoid_saturation, th.sigmoid_saturation)),
                Some(Activation::Tanh) => Some((-th.tanh_saturation, th.tanh_saturation)),
                Some(Activation::Hardtanh(lo, hi)) => Some((lo, hi)),
                _ => None,
            };
            let (saturated_fraction, saturated_by_unit) = match (limit, &l.pre_activation) {
                (Some((lo, hi)), Some(z)) => {
                    let z = z.value();
                    let data = z.contiguous_data();
                    let n = data.iter().filter(|v| v.as_f64() < lo || v.as_f64() > hi).count();
                    (Some(n as f64 / data.len().max(1) as f64), Some(saturated_by_unit(&z, lo, hi)))
                }
                _ => (None, None),
            };
            // Over all of the layer's weights together: √Σ‖∇W_k‖².
            let weight_grad_norm = grads.and_then(|g| {
                let sq: Vec<f64> = l.weights.iter().filter_map(|w| g.by_tag(w.id())).map(|d| norm(d).powi(2)).collect();
                (!sq.is_empty()).then(|| sq.iter().sum::<f64>().sqrt())
            });
            let output_grad_norm = grads.and_then(|g| g.wrt(&l.output).map(norm));
            let weights = l
                .weights
                .iter()
                .map(|w| (w.id(), w.value().contiguous_data().iter().map(|x| x.as_f64()).collect()))
                .collect();
            layers.push(LayerStats {
                name: l.name.clone(),
                kind: l.kind.clone(),
                activation: l.activation,
                units,
                mean,
                std,
                dead_fraction,
                dead_units,
                saturated_fraction,
                saturated_by_unit,
                weight_grad_norm,
                output_grad_norm,
                update_ratio: None,
                params: l.params,
                weights,
            });
        }
        let mut report = LayerReport { layers, warnings: Vec::new(), thresholds: Some(th) };
        report.warnings = report.judge(trace, th);
        report
    }

    fn judge<T: Float>(&self, trace: &Trace<'_, T>, th: Thresholds) -> Vec<Warning> {
        let mut w = Vec::new();
        for s in &self.layers {
            if let Some(f) = s.dead_fraction.filter(|&f| f > th.dead_warning) {
                w.push(Warning::Dead { layer: s.name.clone(), fraction: f });
            }
            if let Some(f) = s.saturated_fraction.filter(|&f| f > th.saturated_warning) {
                w.push(Warning::Saturated { layer: s.name.clone(), fraction: f });
            }
            if let Some(n) = s.weight_grad_norm.filter(|&n| n > th.exploding_norm || !n.is_finite()) {
                w.push(Warning::Exploding { layer: s.name.clone(), norm: n });
            }
        }
        let with_grad: Vec<&LayerStats> = self.layers.iter().filter(|s| s.weight_grad_norm.is_some()).collect();
        if let (Some(first), Some(last)) = (with_grad.first(), with_grad.last()) {
            let (a, b) = (first.weight_grad_norm.unwrap_or(0.0), last.weight_grad_norm.unwrap_or(0.0));
            if with_grad.len() > 1 && b > 0.0 {
                let ratio = a / b;
                if ratio < th.vanishing_ratio || a < 1e-7 {
                    w.push(Warning::Vanishing { first: first.name.clone(), last: last.name.clone(), ratio });
                } else if ratio > 1.0 / th.vanishing_ratio {
                    w.push(Warning::Exploding { layer: first.name.clone(), norm: a });
                }
            }
        }
        let saturating = trace
            .layers()
            .iter()
            .filter(|l| matches!(l.activation, Some(Activation::Sigmoid | Activation::Tanh)) && !l.weights.is_empty())
            .count();
        if saturating >= th.deep_saturating_layers {
            w.push(Warning::DeepSaturatingStack { layers: saturating });
        }
        for l in trace.layers() {
            let relu_family = matches!(
                l.activation,
                Some(Activation::Relu | Activation::LeakyRelu(_) | Activation::Elu(_) | Activation::Selu)
            );
            if relu_family && l.init.is_some_and(|i| i.is_xavier()) {
                w.push(Warning::ReluWithXavier { layer: l.name.clone() });
            }
        }
        w
    }

    /// Measures `‖ΔW‖ / ‖W‖` for every layer, comparing the weights seen by the
    /// traced pass with `model`'s current ones; call it right after the
    /// optimizer step. Adds a warning for steps larger than the threshold.
    pub fn record_update<T: Float, M: Module<T> + ?Sized>(&mut self, model: &M) {
        let mut current = std::collections::HashMap::new();
        model.visit_params(&mut |_, p| {
            current.insert(p.id(), p.value().clone());
        });
        let limit = self.thresholds.unwrap_or_default().update_ratio_warning;
        for s in &mut self.layers {
            let (mut d2, mut w2, mut seen) = (0.0f64, 0.0f64, false);
            for (id, before) in &s.weights {
                let Some(now) = current.get(id) else { continue };
                seen = true;
                for (&b, a) in before.iter().zip(now.contiguous_data().iter()) {
                    d2 += (a.as_f64() - b).powi(2);
                    w2 += b * b;
                }
            }
            if !seen {
                continue;
            }
            let ratio = d2.sqrt() / w2.sqrt().max(1e-30);
            s.update_ratio = Some(ratio);
            if ratio > limit {
                self.warnings.push(Warning::LargeUpdate { layer: s.name.clone(), ratio });
            }
        }
    }

    /// The layers, in forward order.
    #[must_use]
    pub fn layers(&self) -> &[LayerStats] {
        &self.layers
    }

    /// The layer named `name` (`"layers.0"`).
    #[must_use]
    pub fn layer(&self, name: &str) -> Option<&LayerStats> {
        self.layers.iter().find(|s| s.name == name)
    }

    /// The warnings.
    #[must_use]
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// `‖∇W‖` of the first layer with a weight over that of the last: near 1
    /// when gradients reach early layers intact, tiny when they vanish.
    #[must_use]
    pub fn grad_norm_ratio(&self) -> Option<f64> {
        let norms: Vec<f64> = self.layers.iter().filter_map(|s| s.weight_grad_norm).collect();
        match (norms.first(), norms.last()) {
            (Some(a), Some(b)) if norms.len() > 1 && *b > 0.0 => Some(a / b),
            _ => None,
        }
    }
}

fn mean_std<T: Float>(t: &Tensor<T>) -> (f64, f64) {
    let d = t.contiguous_data();
    let n = d.len().max(1) as f64;
    let mean = d.iter().map(|x| x.as_f64()).sum::<f64>() / n;
    let var = d.iter().map(|x| (x.as_f64() - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// `(outer, units, inner)` of an output: units on axis 1 (features of
/// `(N, F)`, channels of `(N, C, …)`), a 1-D output's elements otherwise.
fn unit_layout(dims: &[usize]) -> (usize, usize, usize) {
    match dims {
        [] => (1, 1, 1),
        [u] => (1, *u, 1),
        [n, u, rest @ ..] => (*n, *u, rest.iter().product()),
    }
}

/// The units that are exactly zero for every sample (and position).
fn dead_units<T: Float>(y: &Tensor<T>) -> Vec<usize> {
    let d = y.contiguous_data();
    let (outer, units, inner) = unit_layout(y.dims());
    let mut alive = vec![false; units];
    for o in 0..outer {
        for (u, a) in alive.iter_mut().enumerate() {
            *a |= d[(o * units + u) * inner..][..inner].iter().any(|v| *v != T::zero());
        }
    }
    alive.iter().enumerate().filter(|(_, a)| !**a).map(|(u, _)| u).collect()
}

/// Each unit's fraction of values outside `[lo, hi]`.
fn saturated_by_unit<T: Float>(z: &Tensor<T>, lo: f64, hi: f64) -> Vec<f64> {
    let d = z.contiguous_data();
    let (outer, units, inner) = unit_layout(z.dims());
    let mut count = vec![0usize; units];
    for o in 0..outer {
        for (u, c) in count.iter_mut().enumerate() {
            *c += d[(o * units + u) * inner..][..inner].iter().filter(|v| v.as_f64() < lo || v.as_f64() > hi).count();
        }
    }
    count.iter().map(|&c| c as f64 / (outer * inner).max(1) as f64).collect()
}

fn norm<T: Float>(t: &Tensor<T>) -> f64 {
    t.contiguous_data().iter().map(|x| x.as_f64() * x.as_f64()).sum::<f64>().sqrt()
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "-".to_string(), f)
}

impl fmt::Display for LayerReport {
    /// A compact table, one row per layer, then the warnings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_w = self.layers.iter().map(|s| s.name.chars().count()).max().unwrap_or(5).max(5);
        let kind_w = self.layers.iter().map(|s| s.kind.chars().count()).max().unwrap_or(4).max(4);
        writeln!(
            f,
            "{:<name_w$}  {:<kind_w$}  {:>8} {:>7} {:>6} {:>6} {:>8} {:>8} {:>8}",
            "layer", "kind", "mean", "std", "dead", "sat", "|dW|", "|dOut|", "upd/W"
        )?;
        for s in &self.layers {
            let pad = kind_w - s.kind.chars().count();
            writeln!(
                f,
                "{:<name_w$}  {}{}  {:>8.3} {:>7.3} {:>6} {:>6} {:>8} {:>8} {:>8}",
                s.name,
                s.kind,
                " ".repeat(pad),
                s.mean,
                s.std,
                opt(s.dead_fraction, |v| format!("{:.0}%", v * 100.0)),
                opt(s.saturated_fraction, |v| format!("{:.0}%", v * 100.0)),
                opt(s.weight_grad_norm, |v| format!("{v:.1e}")),
                opt(s.output_grad_norm, |v| format!("{v:.1e}")),
                opt(s.update_ratio, |v| format!("{v:.1e}")),
            )?;
        }
        for w in &self.warnings {
            writeln!(f, "  ! {w}")?;
        }
        Ok(())
    }
}
