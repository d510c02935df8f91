//! Adam and AdamW.

use strata_tensor::Float;

use crate::optim::chunks::for_each_chunk;
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
        let k = Consts { decoupled: self.decoupled, decay, wd, b1: b1t, b2: b2t, one_b1, one_b2, step_size, bc2s, eps };
        for_each_chunk(param, grad, buffers, move |param, grad, buffers| {
            let [m, v] = buffers else { unreachable!("Adam keeps two buffers") };
            update_dispatch(&k, param, grad, m, v);
        });
    }
}

/// One Adam step's scalars, in the parameter's float type.
#[derive(Clone, Copy)]
struct Consts<T> {
    decoupled: bool,
    decay: T,
    wd: T,
    b1: T,
    b2: T,
    one_b1: T,
    one_b2: T,
    step_size: T,
    bc2s: T,
    eps: T,
}

/// The update loop, compiled for the widest vectors this CPU has. Each
/// element goes through the same IEEE operations at any width (Rust never
/// fuses a multiply and an add on its own), so every build gives the same
/// bits; AVX-512 does the divisions and square roots 16 at a time, where
/// the baseline build does 4.
fn update_dispatch<T: Float>(k: &Consts<T>, param: &mut [T], grad: &[T], m: &mut [T], v: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked on the line above).
            return unsafe { update_avx512(k, param, grad, m, v) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked on the line above).
            return unsafe { update_avx2(k, param, grad, m, v) };
        }
    }
    update_loop(k, param, grad, m, v);
}

/// [`update_loop`] compiled with AVX-512F.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn update_avx512<T: Float>(k: &Consts<T>, param: &mut [T], grad: &[T], m: &mut [T], v: &mut [T]) {
    update_loop(k, param, grad, m, v);
}

/// [`update_loop`] compiled with AVX2.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_avx2<T: Float>(k: &Consts<T>, param: &mut [T], grad: &[T], m: &mut [T], v: &mut [T]) {
    update_loop(k, param, grad, m, v);
}

#[inline(always)]
fn update_loop<T: Float>(k: &Consts<T>, param: &mut [T], grad: &[T], m: &mut [T], v: &mut [T]) {
    let k = *k;
    for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = if k.decoupled {
            *p *= k.decay;
            g
        } else {
            g + k.wd * *p
        };
        *m = k.b1 * *m + k.one_b1 * g;
        *v = k.b2 * *v + k.one_b2 * g * g;
        *p -= k.step_size * *m / (v.sqrt() / k.bc2s + k.eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vector_width_gives_the_portable_loops_bits() {
        let n = 1000;
        let vals = |seed: u32| -> Vec<f32> {
            (0..n)
                .map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) as f32 / u32::MAX as f32) - 0.5)
                .collect()
        };
        for decoupled in [false, true] {
            let k = Consts {
                decoupled,
                decay: 0.999f32,
                wd: 0.01,
                b1: 0.9,
                b2: 0.999,
                one_b1: 0.1,
                one_b2: 0.001,
                step_size: 1e-3 / 0.19,
                bc2s: 0.0447,
                eps: 1e-8,
            };
            let (grad, m0, v0) = (vals(1), vals(2), vals(3).iter().map(|x| x * x).collect::<Vec<_>>());
            let mut want = (vals(4), m0.clone(), v0.clone());
            update_loop(&k, &mut want.0, &grad, &mut want.1, &mut want.2);
            let mut got = (vals(4), m0, v0);
            update_dispatch(&k, &mut got.0, &grad, &mut got.1, &mut got.2);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got.0), bits(&want.0), "parameters, decoupled = {decoupled}");
            assert_eq!(bits(&got.1), bits(&want.1));
            assert_eq!(bits(&got.2), bits(&want.2));
        }
    }
}
