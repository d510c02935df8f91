//! [`Dropout`]: zeroes a random fraction of activations while training.

use std::sync::Mutex;

use rand::{rngs::StdRng, Rng, SeedableRng};
use strata_autograd::{Tape, Var};
use strata_tensor::{Float, Tensor};

use crate::module::Module;
use crate::param::Param;

/// Inverted dropout: in training mode each element is zeroed with
/// probability `p` and the survivors are scaled by `1/(1−p)`, so evaluation
/// mode is the identity. Modules start in training mode, as in PyTorch;
/// call [`Module::set_training`]`(false)` to evaluate.
///
/// The masks come from the layer's own seeded generator, so a run repeats.
///
/// ```
/// use strata_autograd::Tape;
/// use strata_nn::{Dropout, Module};
/// use strata_tensor::Tensor;
///
/// let mut drop = Dropout::new(0.5, 42);
/// let tape = Tape::new();
/// let y = drop.forward(&tape, tape.constant(Tensor::<f32>::ones([1000])));
/// let kept = y.value().to_vec().iter().filter(|&&v| v != 0.0).count();
/// assert!((400..600).contains(&kept));
/// drop.set_training(false);
/// let y = drop.forward(&tape, tape.constant(Tensor::<f32>::ones([4])));
/// assert_eq!(y.value().to_vec(), vec![1.0; 4]);
/// ```
#[derive(Debug)]
pub struct Dropout {
    p: f64,
    training: bool,
    rng: Mutex<StdRng>,
}

impl Dropout {
    /// Drops each element with probability `p`, using a generator seeded with `seed`.
    ///
    /// # Panics
    /// If `p` is not in `[0, 1)`.
    #[must_use]
    #[track_caller]
    pub fn new(p: f64, seed: u64) -> Self {
        assert!((0.0..1.0).contains(&p), "Dropout::new: p = {p} must be in [0, 1)");
        Dropout { p, training: true, rng: Mutex::new(StdRng::seed_from_u64(seed)) }
    }

    /// The drop probability.
    #[must_use]
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Training mode on or off (also through [`Module::set_training`]).
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// True in training mode.
    #[must_use]
    pub fn is_training(&self) -> bool {
        self.training
    }
}

impl<T: Float> Module<T> for Dropout {
    fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        if !self.training || self.p == 0.0 {
            return x;
        }
        let scale = T::of(1.0 / (1.0 - self.p));
        let mut rng = self.rng.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mask = Tensor::from_fn(x.shape(), |_| if rng.random::<f64>() < self.p { T::zero() } else { scale });
        x * tape.constant(mask)
    }

    fn visit_params(&self, _f: &mut dyn FnMut(&str, &Param<T>)) {}

    fn visit_params_mut(&mut self, _f: &mut dyn FnMut(&str, &mut Param<T>)) {}

    fn describe(&self) -> String {
        format!("Dropout(p={})", self.p)
    }

    fn set_training(&mut self, training: bool) {
        Dropout::set_training(self, training);
    }
}
