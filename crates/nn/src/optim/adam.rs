//! Adam and AdamW.

use strata_tensor::Float;

use crate::optim::{Optim, UpdateRule};

/// Adam (Kingma & Ba, 2015) as PyTorch's `torch.optim.Adam` documents it, with
/// its defaults `β = (0.9, 0.999)`, `ε = 1e-8`, no weight decay:
/// `g ← g + λθ`, `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
/// `θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)`.
pub type Adam = Optim<AdamRule>;

/// AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay
/// `θ ← θ·(1 − lr·λ)` before the Adam step; PyTorch's default `λ = 0.01`.
pub type AdamW = Optim<AdamWRule>;

/// The options of [`Adam`] and [`AdamW`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamRule {
    /// β₁, β₂.
    pub betas: (f64, f64),
    /// ε.
    pub eps: f64,
    /// λ.
    pub weight_decay: f64,
    /// Decoupled (AdamW) rather than L2 (Adam) weight decay.
    pub decoupled: bool,
}

/// The options of [`AdamW`]: [`AdamRule`] with decoupled weight decay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWRule(pub AdamRule);

/// The option methods both Adams share.
macro_rules! adam_options {
    ($rule:ty, $get:ident) => {
        impl Optim<$rule> {
            /// β₁ and β₂.
            #[must_use]
            pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
                $get!(self.rule).betas = (beta1, beta2);
                self
            }

            /// ε.
            #[must_use]
            pub fn eps(mut self, eps: f64) -> Self {
                $get!(self.rule).eps = eps;
                self
            }

            /// Weight decay λ (L2 for Adam, decoupled for AdamW).
            #[must_use]
            pub fn weight_decay(mut self, weight_decay: f64) -> Self {
                $get!(self.rule).weight_decay = weight_decay;
                self
            }
        }
    };
}

macro_rules! itself {
    ($r:expr) => {
        $r
    };
}
macro_rules! inner {
    ($r:expr) => {
        $r.0
    };
}
adam_options!(AdamRule, itself);
adam_options!(AdamWRule, inner);

impl Optim<AdamRule> {
    /// Adam with PyTorch's defaults and learning rate `lr` (PyTorch's default is 1e-3).
    #[must_use]
    pub fn new(lr: f64) -> Self {
        Optim::with_rule(AdamRule { betas: (0.9, 0.999), eps: 1e-8, weight_decay: 0.0, decoupled: false }, lr)
    }
}

impl Optim<AdamWRule> {
    /// AdamW with PyTorch's defaults (`weight_decay = 0.01`) and learning rate `lr`.
    #[must_use]
    pub fn new(lr: f64) -> Self {
        Optim::with_rule(
            AdamWRule(AdamRule { betas: (0.9, 0.999), eps: 1e-8, weight_decay: 0.01, decoupled: true }),
            lr,
        )
    }
}

impl UpdateRule for AdamWRule {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn buffers(&self) -> Vec<&'static str> {
        self.0.buffers()
    }
    fn non_negative(&self, buffer: usize) -> bool {
        self.0.non_negative(buffer)
    }
    fn update<T: Float>(&self, step: u64, lr: f64, param: &mut [T], grad: &[T], buffers: &mut [Vec<T>]) {
        self.0.update(step, lr, param, grad, buffers);
    }
}

impl UpdateRule for AdamRule {
    fn name(&self) -> &'static str {
        if self.decoupled {
            "adamw"
        } else {
            "adam"
        }
    }

    fn buffers(&self) -> Vec<&'static str> {
        vec!["exp_avg", "exp_avg_sq"]
    }

    fn non_negative(&self, buffer: usize) -> bool {
        buffer == 1
    }

    fn update<T: Float>(&self, step: u64, lr: f64, param: &mut [T], grad: &[T], buffers: &mut [Vec<T>]) {
        let (b1, b2) = self.betas;
        let t = step as i32;
        let bc1 = 1.0 - b1.powi(t);
        let bc2_sqrt = (1.0 - b2.powi(t)).sqrt();
        let step_size = T::of(lr / bc1);
        let (b1t, b2t, eps, bc2s) = (T::of(b1), T::of(b2), T::of(self.eps), T::of(bc2_sqrt));
        let (one_b1, one_b2) = (T::of(1.0 - b1), T::of(1.0 - b2));
        let wd = T::of(self.weight_decay);
        let decay = T::of(1.0 - lr * self.weight_decay);
        let (m, v) = buffers.split_at_mut(1);
        for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m[0].iter_mut()).zip(v[0].iter_mut()) {
            let g = if self.decoupled {
                *p *= decay;
                g
            } else {
                g + wd * *p
            };
            *m = b1t * *m + one_b1 * g;
            *v = b2t * *v + one_b2 * g * g;
            *p -= step_size * *m / (v.sqrt() / bc2s + eps);
        }
    }
}
