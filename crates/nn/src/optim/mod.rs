//! Optimizers: one driver ([`Optim`]) that finds each parameter's gradient,
//! clips by global norm and keeps per-parameter state, and one
//! [`UpdateRule`] per algorithm with PyTorch's documented update.
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use strata_autograd::{Activation, Tape};
//! use strata_nn::{optim::Adam, Mlp, Module};
//! use strata_tensor::Tensor;
//!
//! let mut rng = StdRng::seed_from_u64(0);
//! let mut model = Mlp::new(&[2, 8, 2], Activation::Tanh, &mut rng);
//! let mut opt = Adam::new(1e-2).clip_grad_norm(1.0);
//! let x = Tensor::rand_normal([16, 2], 0.0, 1.0, &mut rng);
//! let labels: Vec<usize> = (0..16).map(|i| i % 2).collect();
//! let loss_at = |m: &Mlp| { let t = Tape::new(); m.forward(&t, t.constant(x.clone())).cross_entropy(&labels).item() };
//! let before = loss_at(&model);
//! for _ in 0..50 {
//!     let tape = Tape::new();
//!     let loss = model.forward(&tape, tape.constant(x.clone())).cross_entropy(&labels);
//!     opt.step(&mut model, &loss.backward());
//! }
//! assert!(loss_at(&model) < before);
//! ```

mod accumulate;
mod adagrad;
mod adam;
mod chunks;
mod rmsprop;
mod schedule;
mod sgd;

use std::any::Any;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use strata_autograd::Grads;
use strata_tensor::{Float, Tensor};

use crate::error::Error;
use crate::module::Module;
use crate::param::Param;

pub use accumulate::GradAccumulator;
pub use adagrad::{Adagrad, AdagradRule};
pub use adam::{Adam, AdamRule, AdamW, AdamWRule};
pub use rmsprop::{RmsProp, RmsPropRule};
pub use schedule::{Constant, CosineAnnealing, ExponentialLr, LinearWarmup, LrSchedule, StepLr};
pub use sgd::{Sgd, SgdRule};

/// The largest step count a loaded checkpoint may hold: the update rules
/// raise β to the step as an `i32` (`β^t` for bias correction), and a count
/// beyond it would wrap.
pub const MAX_STEP: u64 = i32::MAX as u64 - 1;

/// Where an optimizer finds a parameter's gradient: one backward pass's
/// [`Grads`], or a [`GradAccumulator`] summed over several.
pub trait GradSource<T: Float> {
    /// The gradient of `param`, if there is one.
    fn grad(&self, param: &Param<T>) -> Option<&Tensor<T>>;
}

impl<T: Float> GradSource<T> for Grads<T> {
    fn grad(&self, param: &Param<T>) -> Option<&Tensor<T>> {
        self.by_tag(param.id())
    }
}

/// One optimization algorithm's per-element update.
pub trait UpdateRule: Clone {
    /// Name for reports and checkpoints (`"adam"`).
    fn name(&self) -> &'static str;

    /// Names of the per-parameter state buffers, PyTorch's where it has them
    /// (`exp_avg`, `exp_avg_sq`); each is as long as the parameter.
    fn buffers(&self) -> Vec<&'static str>;

    /// Whether buffer `i` can never be negative (a second moment, a sum of
    /// squares): a loaded checkpoint with a negative value there is refused.
    fn non_negative(&self, _buffer: usize) -> bool {
        false
    }

    /// Initial value of buffer `i` (zero unless the algorithm says otherwise).
    fn initial(&self, _buffer: usize) -> f64 {
        0.0
    }

    /// Updates `param` in place from `grad`; `step` counts from 1.
    fn update<T: Float>(&self, step: u64, lr: f64, param: &mut [T], grad: &[T], buffers: &mut [Vec<T>]);
}

/// Hashes a parameter id (a process-wide counter, so already spread out)
/// with one multiplication instead of SipHash: the optimizer looks up every
/// parameter's state on every step.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Each parameter's state, by parameter id.
type StateMap = HashMap<u64, ParamState, BuildHasherDefault<IdHasher>>;

/// A parameter's optimizer state: its step count and buffers.
///
/// The buffers are `Vec<Vec<T>>` for the parameter's float type, kept behind
/// `Any` so that [`Optim`] itself is not generic over the float type:
/// `Sgd::new(0.1)` then needs no type annotation, and one optimizer value
/// serves `f32` and `f64` models alike.
struct ParamState {
    step: u64,
    buffers: Box<dyn Any + Send + Sync>,
}

impl ParamState {
    fn new<T: Float>(step: u64, buffers: Vec<Vec<T>>) -> Self {
        ParamState { step, buffers: Box::new(buffers) }
    }

    /// The buffers as `T`.
    ///
    /// # Panics
    /// If this parameter's state was made for the other float type (one
    /// parameter id stepped as `f32` and as `f64`).
    #[track_caller]
    fn buffers_mut<T: Float>(&mut self) -> &mut Vec<Vec<T>> {
        self.buffers.downcast_mut().expect("optimizer state: a parameter stepped with two float types")
    }

    fn buffers<T: Float>(&self) -> Option<&Vec<Vec<T>>> {
        self.buffers.downcast_ref()
    }
}

impl Clone for ParamState {
    fn clone(&self) -> Self {
        let buffers: Box<dyn Any + Send + Sync> = if let Some(b) = self.buffers::<f32>() {
            Box::new(b.clone())
        } else if let Some(b) = self.buffers::<f64>() {
            Box::new(b.clone())
        } else {
            unreachable!("Float is f32 or f64")
        };
        ParamState { step: self.step, buffers }
    }
}

/// An optimizer: an [`UpdateRule`], a learning rate, optional clipping by
/// global gradient norm, and state keyed by parameter.
///
/// Build one with the aliases ([`Sgd`], [`Adam`], [`AdamW`], [`RmsProp`],
/// [`Adagrad`]) and their option methods; call [`step`](Self::step) after
/// each backward pass. Frozen parameters and parameters without a gradient
/// are skipped (their step count does not advance, as in PyTorch).
#[derive(Clone)]
pub struct Optim<R> {
    rule: R,
    lr: f64,
    clip: Option<f64>,
    state: StateMap,
    last_norm: Option<f64>,
}

impl<R: std::fmt::Debug> std::fmt::Debug for Optim<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optim")
            .field("rule", &self.rule)
            .field("lr", &self.lr)
            .field("clip", &self.clip)
            .field("params_with_state", &self.state.len())
            .finish()
    }
}

impl<R: UpdateRule> Optim<R> {
    pub(crate) fn with_rule(rule: R, lr: f64) -> Self {
        Optim { rule, lr, clip: None, state: StateMap::default(), last_norm: None }
    }

    /// The update rule and its options.
    #[must_use]
    pub fn rule(&self) -> &R {
        &self.rule
    }

    /// Before each update, scales all gradients by `max_norm / (norm + 1e-6)`
    /// when their global L2 norm exceeds `max_norm` (PyTorch's `clip_grad_norm_`).
    #[must_use]
    pub fn clip_grad_norm(mut self, max_norm: f64) -> Self {
        self.clip = Some(max_norm);
        self
    }

    /// The learning rate.
    #[must_use]
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Sets the learning rate (schedules call this between steps).
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// The global gradient norm seen by the last step, before clipping (only
    /// measured when [`clip_grad_norm`](Self::clip_grad_norm) is set).
    #[must_use]
    pub fn last_grad_norm(&self) -> Option<f64> {
        self.last_norm
    }

    /// Updates every trainable parameter of `model` that has a gradient in `grads`.
    pub fn step<T, M, G>(&mut self, model: &mut M, grads: &G)
    where
        T: Float,
        M: Module<T> + ?Sized,
        G: GradSource<T> + ?Sized,
    {
        // The global norm costs a pass over every gradient: only when clipping.
        let scale = self.clip.and_then(|max| {
            let mut sq = 0.0f64;
            model.params(&mut |p| {
                if let Some(g) = grads.grad(p).filter(|_| !p.is_frozen()) {
                    sq += g.contiguous_data().iter().map(|x| x.as_f64() * x.as_f64()).sum::<f64>();
                }
            });
            let norm = sq.sqrt();
            self.last_norm = Some(norm);
            (norm > max).then(|| T::of(max / (norm + 1e-6)))
        });
        let (rule, lr, state) = (&self.rule, self.lr, &mut self.state);
        model.params_mut(&mut |p| {
            if p.is_frozen() {
                return;
            }
            let Some(g) = grads.grad(p) else { return };
            assert!(
                g.shape() == p.value().shape(),
                "optimizer step: gradient {:?} does not fit parameter {:?}",
                g.shape(),
                p.value().shape()
            );
            let g = match scale {
                Some(s) => std::borrow::Cow::Owned(g.mul_scalar(s).to_vec()),
                None => g.contiguous_data(),
            };
            let n = p.numel();
            let st = state.entry(p.id()).or_insert_with(|| {
                ParamState::new::<T>(0, (0..rule.buffers().len()).map(|i| vec![T::of(rule.initial(i)); n]).collect())
            });
            st.step += 1;
            let step = st.step;
            rule.update(step, lr, p.value_mut().as_mut_slice(), &g, st.buffers_mut::<T>());
        });
    }

    /// The state as named tensors: `{param}.step` (a 1-element tensor) and
    /// `{param}.{buffer}` for each parameter that has state.
    #[must_use]
    pub fn state_tensors<T: Float, M: Module<T> + ?Sized>(&self, model: &M) -> Vec<(String, Tensor<T>)> {
        let names = self.rule.buffers();
        let mut out = Vec::new();
        model.visit_params(&mut |name, p| {
            if let Some((st, buffers)) = self.state.get(&p.id()).and_then(|st| Some((st, st.buffers::<T>()?))) {
                out.push((format!("{name}.step"), Tensor::full([1], T::of(st.step as f64))));
                for (b, buf) in names.iter().zip(buffers) {
                    let t = Tensor::from_vec(buf.clone(), p.value().shape().clone()).expect("buffer fits its param");
                    out.push((format!("{name}.{b}"), t));
                }
            }
        });
        out
    }

    /// Restores state saved by [`state_tensors`](Self::state_tensors) for the
    /// same architecture. All-or-nothing: on error the state is unchanged.
    ///
    /// The whole state is validated before any of it is taken: step counts
    /// must be whole numbers in `0..=MAX_STEP`, buffers finite, and second
    /// moments not negative.
    ///
    /// # Errors
    /// [`Error::MissingTensor`] or [`Error::ShapeMismatch`] naming the first
    /// buffer that is absent or does not fit its parameter;
    /// [`Error::InvalidTensor`] naming the first that holds an unusable value.
    pub fn load_state_tensors<T: Float, M: Module<T> + ?Sized>(
        &mut self,
        model: &M,
        tensors: &[(String, Tensor<T>)],
    ) -> Result<(), Error> {
        let by_name: HashMap<&str, &Tensor<T>> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let names = self.rule.buffers();
        let mut fresh = StateMap::default();
        let mut err = None;
        model.visit_params(&mut |name, p| {
            if err.is_some() {
                return;
            }
            let Some(step) = by_name.get(format!("{name}.step").as_str()) else { return };
            let mut buffers = Vec::new();
            for b in &names {
                let key = format!("{name}.{b}");
                match by_name.get(key.as_str()) {
                    None => {
                        err = Some(Error::MissingTensor { name: key });
                        return;
                    }
                    Some(t) if t.shape() != p.value().shape() => {
                        err = Some(Error::ShapeMismatch {
                            name: key,
                            expected: p.value().dims().to_vec(),
                            found: t.dims().to_vec(),
                        });
                        return;
                    }
                    Some(t) => {
                        let values = t.to_vec();
                        let bad = if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                            Some(format!("element {i} is {}, not finite", values[i].as_f64()))
                        } else if self.rule.non_negative(buffers.len()) {
                            values.iter().position(|v| v.as_f64() < 0.0).map(|i| {
                                format!("element {i} is {}: a second moment cannot be negative", values[i].as_f64())
                            })
                        } else {
                            None
                        };
                        if let Some(reason) = bad {
                            err = Some(Error::InvalidTensor { name: key, reason });
                            return;
                        }
                        buffers.push(values);
                    }
                }
            }
            let key = format!("{name}.step");
            let s = step.to_vec();
            let valid = match s.as_slice() {
                [s] => {
                    let v = s.as_f64();
                    (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= MAX_STEP as f64).then_some(v as u64)
                }
                _ => None,
            };
            let Some(step) = valid else {
                let reason = format!(
                    "{:?} is not a step count (one whole number in 0..={MAX_STEP})",
                    s.iter().map(|v| v.as_f64()).collect::<Vec<_>>()
                );
                err = Some(Error::InvalidTensor { name: key, reason });
                return;
            };
            fresh.insert(p.id(), ParamState::new::<T>(step, buffers));
        });
        match err {
            Some(e) => Err(e),
            None => {
                self.state = fresh;
                Ok(())
            }
        }
    }
}

/// The object-safe face of every [`Optim`], for choosing an algorithm at run
/// time (`Box<dyn Optimizer<f32>>` from a command-line flag).
pub trait Optimizer<T: Float> {
    /// Name of the algorithm.
    fn name(&self) -> &'static str;
    /// See [`Optim::step`].
    fn step(&mut self, model: &mut dyn Module<T>, grads: &dyn GradSource<T>);
    /// The learning rate.
    fn lr(&self) -> f64;
    /// Sets the learning rate.
    fn set_lr(&mut self, lr: f64);
    /// See [`Optim::last_grad_norm`].
    fn last_grad_norm(&self) -> Option<f64>;
    /// See [`Optim::state_tensors`].
    fn state_tensors(&self, model: &dyn Module<T>) -> Vec<(String, Tensor<T>)>;
    /// See [`Optim::load_state_tensors`].
    ///
    /// # Errors
    /// As [`Optim::load_state_tensors`].
    fn load_state_tensors(&mut self, model: &dyn Module<T>, tensors: &[(String, Tensor<T>)]) -> Result<(), Error>;
}

impl<R: UpdateRule, T: Float> Optimizer<T> for Optim<R> {
    fn name(&self) -> &'static str {
        self.rule.name()
    }
    fn step(&mut self, model: &mut dyn Module<T>, grads: &dyn GradSource<T>) {
        Optim::step(self, model, grads);
    }
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn last_grad_norm(&self) -> Option<f64> {
        self.last_norm
    }
    fn state_tensors(&self, model: &dyn Module<T>) -> Vec<(String, Tensor<T>)> {
        Optim::state_tensors(self, model)
    }
    fn load_state_tensors(&mut self, model: &dyn Module<T>, tensors: &[(String, Tensor<T>)]) -> Result<(), Error> {
        Optim::load_state_tensors(self, model, tensors)
    }
}
