//! Adagrad.

use strata_tensor::Float;

use crate::optim::{Optim, UpdateRule};

/// Adagrad (Duchi et al., 2011) as PyTorch's `torch.optim.Adagrad` documents
/// it, with its defaults `ε = 1e-10`, no decay: `g ← g + λθ`,
/// `lr_t = lr / (1 + (t−1)·η)`, `s ← s + g²`, `θ ← θ − lr_t·g / (√s + ε)`.
pub type Adagrad = Optim<AdagradRule>;

/// The options of [`Adagrad`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdagradRule {
    /// η, learning-rate decay per step.
    pub lr_decay: f64,
    /// λ, L2 penalty.
    pub weight_decay: f64,
    /// Starting value of the sum of squares.
    pub initial_accumulator_value: f64,
    /// ε.
    pub eps: f64,
}

impl Optim<AdagradRule> {
    /// Adagrad with PyTorch's defaults (PyTorch's default `lr` is 0.01).
    #[must_use]
    pub fn new(lr: f64) -> Self {
        Optim::with_rule(
            AdagradRule { lr_decay: 0.0, weight_decay: 0.0, initial_accumulator_value: 0.0, eps: 1e-10 },
            lr,
        )
    }

    /// η.
    #[must_use]
    pub fn lr_decay(mut self, lr_decay: f64) -> Self {
        self.rule.lr_decay = lr_decay;
        self
    }

    /// L2 weight decay λ.
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.rule.weight_decay = weight_decay;
        self
    }

    /// Starting value of the sum of squares.
    #[must_use]
    pub fn initial_accumulator_value(mut self, v: f64) -> Self {
        self.rule.initial_accumulator_value = v;
        self
    }

    /// ε.
    #[must_use]
    pub fn eps(mut self, eps: f64) -> Self {
        self.rule.eps = eps;
        self
    }
}

impl UpdateRule for AdagradRule {
    fn name(&self) -> &'static str {
        "adagrad"
    }

    fn buffers(&self) -> Vec<&'static str> {
        vec!["sum"]
    }

    fn non_negative(&self, _buffer: usize) -> bool {
        true
    }

    fn initial(&self, _buffer: usize) -> f64 {
        self.initial_accumulator_value
    }

    fn update<T: Float>(&self, step: u64, lr: f64, param: &mut [T], grad: &[T], buffers: &mut [Vec<T>]) {
        let clr = T::of(lr / (1.0 + (step - 1) as f64 * self.lr_decay));
        let (wd, eps) = (T::of(self.weight_decay), T::of(self.eps));
        for ((p, &g), s) in param.iter_mut().zip(grad).zip(buffers[0].iter_mut()) {
            let g = g + wd * *p;
            *s += g * g;
            *p -= clr * g / (s.sqrt() + eps);
        }
    }
}
