//! Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

use strata_tensor::Float;

use crate::optim::chunks::for_each_chunk;
use crate::optim::{Optim, UpdateRule};

/// SGD as PyTorch's `torch.optim.SGD` documents it: with `g ← g + λθ`,
/// `b₁ = g`, `b_t = μ·b_{t−1} + (1 − τ)·g`, the step uses `g + μ·b_t`
/// (Nesterov) or `b_t`, and `θ ← θ − lr·step`.
pub type Sgd = Optim<SgdRule>;

/// The options of [`Sgd`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SgdRule {
    /// μ (0 = plain SGD).
    pub momentum: f64,
    /// τ.
    pub dampening: f64,
    /// Use Nesterov momentum.
    pub nesterov: bool,
    /// λ, L2 penalty added to the gradient.
    pub weight_decay: f64,
}

impl Optim<SgdRule> {
    /// Plain SGD with learning rate `lr`.
    #[must_use]
    pub fn new(lr: f64) -> Self {
        Optim::with_rule(SgdRule::default(), lr)
    }

    /// Momentum μ.
    #[must_use]
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.rule.momentum = momentum;
        self
    }

    /// Dampening τ of the momentum buffer.
    #[must_use]
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.rule.dampening = dampening;
        self
    }

    /// Nesterov momentum (needs momentum > 0 and no dampening, as in PyTorch).
    ///
    /// # Panics
    /// If momentum is 0 or dampening is not 0 when this is called.
    #[must_use]
    #[track_caller]
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        assert!(
            !nesterov || (self.rule.momentum > 0.0 && self.rule.dampening == 0.0),
            "Sgd::nesterov: needs momentum > 0 and zero dampening (set momentum first)"
        );
        self.rule.nesterov = nesterov;
        self
    }

    /// L2 weight decay λ.
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.rule.weight_decay = weight_decay;
        self
    }
}

impl UpdateRule for SgdRule {
    fn name(&self) -> &'static str {
        "sgd"
    }

    fn buffers(&self) -> Vec<&'static str> {
        if self.momentum != 0.0 {
            vec!["momentum_buffer"]
        } else {
            vec![]
        }
    }

    fn update<T: Float>(&self, step: u64, lr: f64, param: &mut [T], grad: &[T], buffers: &mut [Vec<T>]) {
        let (lr, wd, mu) = (T::of(lr), T::of(self.weight_decay), T::of(self.momentum));
        let keep = T::of(1.0 - self.dampening);
        if self.momentum == 0.0 {
            for_each_chunk(param, grad, &mut [], move |param, grad, _| {
                for (p, &g) in param.iter_mut().zip(grad) {
                    *p -= lr * (g + wd * *p);
                }
            });
            return;
        }
        let nesterov = self.nesterov;
        for_each_chunk(param, grad, buffers, move |param, grad, buffers| {
            for ((p, &g), b) in param.iter_mut().zip(grad).zip(buffers[0].iter_mut()) {
                let d = g + wd * *p;
                *b = if step == 1 { d } else { mu * *b + keep * d };
                let s = if nesterov { d + mu * *b } else { *b };
                *p -= lr * s;
            }
        });
    }
}
