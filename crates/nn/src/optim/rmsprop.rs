//! RMSprop.

use strata_tensor::Float;

use crate::optim::{Optim, UpdateRule};

/// RMSprop (Hinton, 2012) as PyTorch's `torch.optim.RMSprop` documents it,
/// with its defaults `α = 0.99`, `ε = 1e-8`: `g ← g + λθ`,
/// `v ← αv + (1−α)g²`, centred: `ḡ ← αḡ + (1−α)g`, `d = √(v − ḡ²) + ε`
/// (else `d = √v + ε`); with momentum `b ← μb + g/d`, `θ ← θ − lr·b`,
/// without `θ ← θ − lr·g/d`.
pub type RmsProp = Optim<RmsPropRule>;

/// The options of [`RmsProp`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropRule {
    /// α, the smoothing constant.
    pub alpha: f64,
    /// ε.
    pub eps: f64,
    /// λ, L2 penalty.
    pub weight_decay: f64,
    /// μ.
    pub momentum: f64,
    /// Normalise by the variance estimate rather than the second moment.
    pub centered: bool,
}

impl Optim<RmsPropRule> {
    /// RMSprop with PyTorch's defaults (PyTorch's default `lr` is 0.01).
    #[must_use]
    pub fn new(lr: f64) -> Self {
        Optim::with_rule(RmsPropRule { alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.0, centered: false }, lr)
    }

    /// α.
    #[must_use]
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.rule.alpha = alpha;
        self
    }

    /// ε.
    #[must_use]
    pub fn eps(mut self, eps: f64) -> Self {
        self.rule.eps = eps;
        self
    }

    /// Momentum μ.
    #[must_use]
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.rule.momentum = momentum;
        self
    }

    /// Centred RMSprop.
    #[must_use]
    pub fn centered(mut self, centered: bool) -> Self {
        self.rule.centered = centered;
        self
    }

    /// L2 weight decay λ.
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.rule.weight_decay = weight_decay;
        self
    }
}

impl UpdateRule for RmsPropRule {
    fn name(&self) -> &'static str {
        "rmsprop"
    }

    fn non_negative(&self, buffer: usize) -> bool {
        buffer == 0
    }

    fn buffers(&self) -> Vec<&'static str> {
        let mut b = vec!["square_avg"];
        if self.momentum > 0.0 {
            b.push("momentum_buffer");
        }
        if self.centered {
            b.push("grad_avg");
        }
        b
    }

    fn update<T: Float>(&self, _step: u64, lr: f64, param: &mut [T], grad: &[T], buffers: &mut [Vec<T>]) {
        let (alpha, one_a, eps) = (T::of(self.alpha), T::of(1.0 - self.alpha), T::of(self.eps));
        let (lr, wd, mu) = (T::of(lr), T::of(self.weight_decay), T::of(self.momentum));
        let has_mom = self.momentum > 0.0;
        let (sq, rest) = buffers.split_first_mut().expect("square_avg");
        let (mom, rest) =
            if has_mom { rest.split_first_mut().map(|(a, b)| (Some(a), b)).expect("momentum") } else { (None, rest) };
        let mut ga = if self.centered { rest.first_mut() } else { None };
        let mut mom = mom;
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = g + wd * *p;
            sq[i] = alpha * sq[i] + one_a * g * g;
            let avg = match ga.as_deref_mut() {
                Some(ga) => {
                    ga[i] = alpha * ga[i] + one_a * g;
                    (sq[i] - ga[i] * ga[i]).sqrt() + eps
                }
                None => sq[i].sqrt() + eps,
            };
            match mom.as_deref_mut() {
                Some(b) => {
                    b[i] = mu * b[i] + g / avg;
                    *p -= lr * b[i];
                }
                None => *p -= lr * g / avg,
            }
        }
    }
}
