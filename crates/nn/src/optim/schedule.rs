//! Learning-rate schedules: closed forms of the learning rate at step `t`
//! (an epoch or an iteration, as the caller counts), set with
//! [`Optim::set_lr`](crate::optim::Optim::set_lr) between steps.
//!
//! ```
//! use strata_nn::optim::{CosineAnnealing, LinearWarmup, LrSchedule};
//! let sched = LinearWarmup::new(5, 0.1, CosineAnnealing::new(95, 0.0));
//! assert!((sched.lr_at(0, 1e-3) - 1e-4).abs() < 1e-12);     // warm-up starts at 10 %
//! assert!((sched.lr_at(5, 1e-3) - 1e-3).abs() < 1e-12);     // then the cosine from the top
//! assert!(sched.lr_at(100, 1e-3).abs() < 1e-12);
//! ```

/// A learning rate as a function of the step.
pub trait LrSchedule {
    /// The learning rate at step `t` for a base rate `base`.
    fn lr_at(&self, t: usize, base: f64) -> f64;
}

/// The base rate at every step.
#[derive(Clone, Copy, Debug, Default)]
pub struct Constant;

impl LrSchedule for Constant {
    fn lr_at(&self, _t: usize, base: f64) -> f64 {
        base
    }
}

/// `base · γ^⌊t / step_size⌋` (PyTorch's `StepLR`).
#[derive(Clone, Copy, Debug)]
pub struct StepLr {
    /// Steps between decays.
    pub step_size: usize,
    /// Factor per decay.
    pub gamma: f64,
}

impl StepLr {
    /// Multiplies the rate by `gamma` every `step_size` steps.
    ///
    /// # Panics
    /// If `step_size` is 0.
    #[must_use]
    #[track_caller]
    pub fn new(step_size: usize, gamma: f64) -> Self {
        assert!(step_size > 0, "StepLr::new: step_size must be positive");
        StepLr { step_size, gamma }
    }
}

impl LrSchedule for StepLr {
    fn lr_at(&self, t: usize, base: f64) -> f64 {
        base * self.gamma.powi((t / self.step_size) as i32)
    }
}

/// `base · γ^t` (PyTorch's `ExponentialLR`).
#[derive(Clone, Copy, Debug)]
pub struct ExponentialLr {
    /// Factor per step.
    pub gamma: f64,
}

impl ExponentialLr {
    /// Multiplies the rate by `gamma` every step.
    #[must_use]
    pub fn new(gamma: f64) -> Self {
        ExponentialLr { gamma }
    }
}

impl LrSchedule for ExponentialLr {
    fn lr_at(&self, t: usize, base: f64) -> f64 {
        base * self.gamma.powi(t as i32)
    }
}

/// `η_min + (base − η_min)·(1 + cos(π·t/T))/2`, held at `η_min` after `T`
/// (the closed form of PyTorch's `CosineAnnealingLR`, without restarts).
#[derive(Clone, Copy, Debug)]
pub struct CosineAnnealing {
    /// `T`, the steps from the base rate down to `eta_min`.
    pub t_max: usize,
    /// The floor.
    pub eta_min: f64,
}

impl CosineAnnealing {
    /// Anneals from the base rate to `eta_min` over `t_max` steps.
    ///
    /// # Panics
    /// If `t_max` is 0.
    #[must_use]
    #[track_caller]
    pub fn new(t_max: usize, eta_min: f64) -> Self {
        assert!(t_max > 0, "CosineAnnealing::new: t_max must be positive");
        CosineAnnealing { t_max, eta_min }
    }
}

impl LrSchedule for CosineAnnealing {
    fn lr_at(&self, t: usize, base: f64) -> f64 {
        let t = t.min(self.t_max) as f64;
        self.eta_min + (base - self.eta_min) * (1.0 + (std::f64::consts::PI * t / self.t_max as f64).cos()) / 2.0
    }
}

/// A linear warm-up from `start_factor·base` to `base` over `steps` steps
/// (PyTorch's `LinearLR`), then `after` counted from the end of the warm-up.
#[derive(Clone, Copy, Debug)]
pub struct LinearWarmup<S> {
    /// Warm-up length.
    pub steps: usize,
    /// Fraction of the base rate at step 0.
    pub start_factor: f64,
    /// The schedule after the warm-up.
    pub after: S,
}

impl<S: LrSchedule> LinearWarmup<S> {
    /// Warm-up over `steps` from `start_factor·base`, then `after`.
    #[must_use]
    pub fn new(steps: usize, start_factor: f64, after: S) -> Self {
        LinearWarmup { steps, start_factor, after }
    }
}

impl<S: LrSchedule> LrSchedule for LinearWarmup<S> {
    fn lr_at(&self, t: usize, base: f64) -> f64 {
        if t < self.steps {
            base * (self.start_factor + (1.0 - self.start_factor) * t as f64 / self.steps as f64)
        } else {
            self.after.lr_at(t - self.steps, base)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms() {
        let s = StepLr::new(10, 0.5);
        assert_eq!([s.lr_at(0, 1.0), s.lr_at(9, 1.0), s.lr_at(10, 1.0), s.lr_at(25, 1.0)], [1.0, 1.0, 0.5, 0.25]);
        assert!((ExponentialLr::new(0.9).lr_at(2, 1.0) - 0.81).abs() < 1e-12);
        let c = CosineAnnealing::new(10, 0.1);
        assert!((c.lr_at(5, 1.0) - 0.55).abs() < 1e-12);
        assert!((c.lr_at(10, 1.0) - 0.1).abs() < 1e-12 && (c.lr_at(50, 1.0) - 0.1).abs() < 1e-12);
        let w = LinearWarmup::new(4, 0.2, Constant);
        assert!((w.lr_at(2, 1.0) - 0.6).abs() < 1e-12);
    }
}
