//! Batch normalisation: [`BatchNorm1d`] and [`BatchNorm2d`], PyTorch's
//! layers of the same names, both thin wrappers of [`BatchNorm`].

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

use strata_autograd::{Tape, Var};
use strata_tensor::{Float, Tensor};

use crate::buffer::{buffer_updates_enabled, Buffer};
use crate::module::Module;
use crate::param::{Param, ParamTape};

/// The running statistics, behind a lock because a forward pass (which
/// takes `&self`) updates them, as PyTorch's does.
#[derive(Clone, Debug)]
struct Running<T: Float> {
    mean: Tensor<T>,
    var: Tensor<T>,
    batches: i64,
}

/// `y = (x − E[x]) / √(Var[x] + eps) · weight + bias` per channel (axis 1),
/// over the batch and every axis after the channel (Ioffe & Szegedy, 2015).
///
/// In training the statistics are the batch's: its mean and its *biased*
/// variance normalise, and the running estimates move towards the batch's
/// mean and *unbiased* variance by `momentum` (0.1; `None` averages all
/// batches so far), as in PyTorch. In evaluation ([`Module::set_training`]
/// `false`) the running estimates normalise. Their state-dict names are
/// PyTorch's — `weight`, `bias` (parameters), `running_mean`, `running_var`,
/// `num_batches_tracked` (buffers) — so `load_state_dict` of the same
/// architecture reads a Strata checkpoint.
///
/// The training forward pass is built from recorded primitive ops (axis
/// means, elementwise arithmetic), so its gradient comes from theirs and it
/// differentiates through the batch statistics, as PyTorch's does.
#[derive(Debug)]
pub struct BatchNorm<T: Float = f32> {
    /// Per-channel scale, `(C)` (ones at first); `None` without `affine`.
    pub weight: Option<Param<T>>,
    /// Per-channel shift, `(C)` (zeros at first); `None` without `affine`.
    pub bias: Option<Param<T>>,
    /// Added to the variance (1e-5).
    pub eps: f64,
    /// Weight of each new batch in the running estimates (`Some(0.1)`);
    /// `None` gives every batch so far the same weight.
    pub momentum: Option<f64>,
    /// If false, batch statistics are used in evaluation too and no
    /// buffers are kept (PyTorch's `track_running_stats = False`).
    pub track_running_stats: bool,
    channels: usize,
    /// Number of spatial axes after the channel: 0 or 1 for `BatchNorm1d`
    /// (`(N, C)` or `(N, C, L)`), 2 for `BatchNorm2d`.
    spatial: &'static [usize],
    name: &'static str,
    training: bool,
    running: Mutex<Running<T>>,
}

impl<T: Float> Clone for BatchNorm<T> {
    fn clone(&self) -> Self {
        BatchNorm {
            weight: self.weight.clone(),
            bias: self.bias.clone(),
            eps: self.eps,
            momentum: self.momentum,
            track_running_stats: self.track_running_stats,
            channels: self.channels,
            spatial: self.spatial,
            name: self.name,
            training: self.training,
            running: Mutex::new(self.running()),
        }
    }
}

impl<T: Float> BatchNorm<T> {
    fn with_kind(channels: usize, spatial: &'static [usize], name: &'static str) -> Self {
        assert!(channels > 0, "{name}: 0 channels");
        BatchNorm {
            weight: Some(Param::new(Tensor::ones([channels]))),
            bias: Some(Param::new(Tensor::zeros([channels]))),
            eps: 1e-5,
            momentum: Some(0.1),
            track_running_stats: true,
            channels,
            spatial,
            name,
            training: true,
            running: Mutex::new(Running { mean: Tensor::zeros([channels]), var: Tensor::ones([channels]), batches: 0 }),
        }
    }

    /// Without the learned scale and shift (PyTorch's `affine = False`).
    #[must_use]
    pub fn without_affine(mut self) -> Self {
        self.weight = None;
        self.bias = None;
        self
    }

    /// Another momentum (`None`: the cumulative average).
    #[must_use]
    pub fn with_momentum(mut self, momentum: Option<f64>) -> Self {
        self.momentum = momentum;
        self
    }

    /// Another epsilon.
    #[must_use]
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Batch statistics always, and no buffers (`track_running_stats = False`).
    #[must_use]
    pub fn without_running_stats(mut self) -> Self {
        self.track_running_stats = false;
        self
    }

    /// Number of channels.
    #[must_use]
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// True in training mode (the default).
    #[must_use]
    pub fn is_training(&self) -> bool {
        self.training
    }

    fn running(&self) -> Running<T> {
        self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The running mean, `(C)`.
    #[must_use]
    pub fn running_mean(&self) -> Tensor<T> {
        self.running().mean
    }

    /// The running (unbiased) variance, `(C)`.
    #[must_use]
    pub fn running_var(&self) -> Tensor<T> {
        self.running().var
    }

    /// How many training batches have updated the running estimates.
    #[must_use]
    pub fn num_batches_tracked(&self) -> i64 {
        self.running().batches
    }

    /// Panics unless `x` is `(N, C, …)` with this layer's channels and rank.
    #[track_caller]
    fn check_input(&self, dims: &[usize]) {
        let ranks: Vec<usize> = self.spatial.iter().map(|s| s + 2).collect();
        let expected = match ranks.as_slice() {
            [r] => format!("{r}-D"),
            rs => rs.iter().map(|r| format!("{r}-D")).collect::<Vec<_>>().join(" or "),
        };
        assert!(
            ranks.contains(&dims.len()),
            "{}({}): input {dims:?} is not {expected} (N, C{})",
            self.name,
            self.channels,
            if self.spatial.contains(&2) { ", H, W" } else { "[, L]" }
        );
        assert!(
            dims[1] == self.channels,
            "{}({}): input {dims:?} has {} channels, expected {}",
            self.name,
            self.channels,
            dims[1],
            self.channels
        );
    }

    /// `(1, C, 1, …)`: a per-channel vector shaped to broadcast over `x`.
    fn per_channel(&self, rank: usize) -> Vec<usize> {
        let mut d = vec![1; rank];
        d[1] = self.channels;
        d
    }

    /// Mean over every axis but the channel, kept as `(1, C, 1, …)`.
    fn channel_mean<'t>(x: Var<'t, T>) -> Var<'t, T> {
        let rank = x.dims().len();
        (0..rank).rev().filter(|&a| a != 1).fold(x, |v, a| v.mean_axis(a as isize, true))
    }

    fn update_running(&self, mean: &Tensor<T>, biased_var: &Tensor<T>, count: usize) {
        let mut r = self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        r.batches += 1;
        let m = T::of(self.momentum.unwrap_or(1.0 / r.batches as f64));
        let keep = T::one() - m;
        let unbias = T::of(count as f64 / (count - 1) as f64);
        let mean = mean.reshape([self.channels]);
        let var = biased_var.reshape([self.channels]).mul_scalar(unbias);
        r.mean = r.mean.zip_with(&mean, |old, new| keep * old + m * new);
        r.var = r.var.zip_with(&var, |old, new| keep * old + m * new);
    }
}

impl<T: Float> Module<T> for BatchNorm<T> {
    /// # Panics
    /// If `x` is not `(N, C, …)` with this layer's channels and rank, or if
    /// a training batch has one value per channel (its variance is undefined).
    #[track_caller]
    fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        let dims = x.dims();
        self.check_input(&dims);
        let shape = self.per_channel(dims.len());
        let scale_shift = |normed: Var<'t, T>| match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => normed * tape.param(w).reshape(&shape) + tape.param(b).reshape(&shape),
            (Some(w), None) => normed * tape.param(w).reshape(&shape),
            (None, Some(b)) => normed + tape.param(b).reshape(&shape),
            (None, None) => normed,
        };
        if self.training || !self.track_running_stats {
            let count = dims.iter().enumerate().filter(|&(a, _)| a != 1).map(|(_, &d)| d).product::<usize>();
            assert!(
                count > 1 || !self.training,
                "{}({}): expected more than 1 value per channel when training, got input {dims:?}",
                self.name,
                self.channels
            );
            let mean = Self::channel_mean(x);
            let centred = x - mean;
            let var = Self::channel_mean(centred.square());
            if self.training && self.track_running_stats && buffer_updates_enabled() {
                self.update_running(&mean.value(), &var.value(), count);
            }
            scale_shift(centred / var.add_scalar(T::of(self.eps)).sqrt())
        } else {
            // Evaluation: an affine map per channel, `x·s + (b − mean·s)` with
            // `s = weight/√(var + eps)`, the running statistics constants.
            let r = self.running();
            let inv = tape.constant(r.var.map(|v| (v + T::of(self.eps)).sqrt().recip()).reshape(shape.clone()));
            let mean = tape.constant(r.mean.reshape(shape.clone()));
            scale_shift((x - mean) * inv)
        }
    }

    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param<T>)) {
        if let Some(w) = &self.weight {
            f("weight", w);
        }
        if let Some(b) = &self.bias {
            f("bias", b);
        }
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param<T>)) {
        if let Some(w) = &mut self.weight {
            f("weight", w);
        }
        if let Some(b) = &mut self.bias {
            f("bias", b);
        }
    }

    fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Buffer<T>)) {
        if !self.track_running_stats {
            return;
        }
        let r = self.running();
        f("running_mean", &Buffer::Float(r.mean));
        f("running_var", &Buffer::Float(r.var));
        f("num_batches_tracked", &Buffer::Count(r.batches));
    }

    /// # Panics
    /// If `f` writes a buffer of another kind or shape.
    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(&str, &mut Buffer<T>)) {
        if !self.track_running_stats {
            return;
        }
        let (name, channels) = (self.name, self.channels);
        let r = self.running.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (key, slot) in [("running_mean", &mut r.mean), ("running_var", &mut r.var)] {
            let mut b = Buffer::Float(slot.clone());
            f(key, &mut b);
            match b {
                Buffer::Float(t) if t.dims() == [channels] => *slot = t,
                other => panic!("{name}({channels}): `{key}` must be a float tensor [{channels}], got {other:?}"),
            }
        }
        let mut b = Buffer::Count(r.batches);
        f("num_batches_tracked", &mut b);
        match b {
            Buffer::Count(c) => r.batches = c,
            Buffer::Float(_) => panic!("{name}({channels}): `num_batches_tracked` must be a count"),
        }
    }

    fn describe(&self) -> String {
        format!("{}({})", self.name, self.channels)
    }

    fn architecture(&self) -> String {
        let affine = if self.weight.is_some() { "" } else { ", no affine" };
        let stats = if self.track_running_stats { "" } else { ", no running stats" };
        format!("{}({}, eps {:e}{affine}{stats})", self.name, self.channels, self.eps)
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}

macro_rules! batch_norm_kind {
    ($(#[$doc:meta])* $name:ident, $spatial:expr, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name<T: Float = f32>(pub BatchNorm<T>);

        /// `f32` by default, as the other layers' constructors are.
        impl $name<f32> {
            /// Normalisation of `channels` channels, PyTorch's defaults
            /// (affine, momentum 0.1, eps 1e-5, running statistics tracked).
            ///
            /// # Panics
            /// If `channels` is 0.
            #[must_use]
            #[track_caller]
            pub fn new(channels: usize) -> Self {
                Self::new_typed(channels)
            }
        }

        impl<T: Float> $name<T> {
            /// [`new`](Self::new) for any float type.
            ///
            /// # Panics
            /// If `channels` is 0.
            #[must_use]
            #[track_caller]
            pub fn new_typed(channels: usize) -> Self {
                $name(BatchNorm::with_kind(channels, $spatial, $label))
            }

            /// Without the learned scale and shift (PyTorch's `affine = False`).
            #[must_use]
            pub fn without_affine(self) -> Self {
                $name(self.0.without_affine())
            }

            /// Another momentum (`None`: the cumulative average).
            #[must_use]
            pub fn with_momentum(self, momentum: Option<f64>) -> Self {
                $name(self.0.with_momentum(momentum))
            }

            /// Another epsilon.
            #[must_use]
            pub fn with_eps(self, eps: f64) -> Self {
                $name(self.0.with_eps(eps))
            }

            /// Batch statistics always, and no buffers (`track_running_stats = False`).
            #[must_use]
            pub fn without_running_stats(self) -> Self {
                $name(self.0.without_running_stats())
            }
        }

        impl<T: Float> Module<T> for $name<T> {
            #[track_caller]
            fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
                self.0.forward(tape, x)
            }
            fn visit_params(&self, f: &mut dyn FnMut(&str, &Param<T>)) {
                self.0.visit_params(f);
            }
            fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param<T>)) {
                self.0.visit_params_mut(f);
            }
            fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Buffer<T>)) {
                self.0.visit_buffers(f);
            }
            fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(&str, &mut Buffer<T>)) {
                self.0.visit_buffers_mut(f);
            }
            fn describe(&self) -> String {
                self.0.describe()
            }
            fn architecture(&self) -> String {
                self.0.architecture()
            }
            fn set_training(&mut self, training: bool) {
                self.0.set_training(training);
            }
        }

        impl<T: Float> Deref for $name<T> {
            type Target = BatchNorm<T>;
            fn deref(&self) -> &BatchNorm<T> {
                &self.0
            }
        }

        impl<T: Float> DerefMut for $name<T> {
            fn deref_mut(&mut self) -> &mut BatchNorm<T> {
                &mut self.0
            }
        }
    };
}

batch_norm_kind!(
    /// Batch norm of `(N, C)` or `(N, C, L)` inputs, PyTorch's
    /// `nn.BatchNorm1d(C)`: a [`BatchNorm`] (which it derefs to) that
    /// takes 2-D or 3-D inputs.
    ///
    /// ```
    /// use strata_autograd::Tape;
    /// use strata_nn::{BatchNorm1d, Module};
    /// use strata_tensor::Tensor;
    ///
    /// let bn = BatchNorm1d::new(2);
    /// let tape = Tape::new();
    /// let x = tape.constant(Tensor::from_vec(vec![1.0, 10.0, 3.0, 30.0], [2, 2]).unwrap());
    /// let y = bn.forward(&tape, x).value().to_vec();
    /// assert!(y.iter().zip([-1.0, -1.0, 1.0, 1.0]).all(|(a, b)| (a - b).abs() < 1e-4));
    /// // The running mean moved a tenth of the way to the batch mean.
    /// assert_eq!(bn.running_mean().to_vec(), [0.2, 2.0]);
    /// ```
    BatchNorm1d,
    &[0, 1],
    "BatchNorm1d"
);

batch_norm_kind!(
    /// Batch norm of `(N, C, H, W)` images per channel, PyTorch's
    /// `nn.BatchNorm2d(C)`: a [`BatchNorm`] (which it derefs to) that
    /// takes 4-D inputs.
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// use strata_nn::{BatchNorm2d, Conv2d, MaxPool2d, Module, Sequential};
    /// use strata_tensor::{ConvParams, Pool2d};
    ///
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let net = Sequential::new()
    ///     .push(Conv2d::new(1, 8, 3, ConvParams::default().padding(1), &mut rng))
    ///     .push(BatchNorm2d::new(8))
    ///     .push(strata_nn::Activation::Relu)
    ///     .push(MaxPool2d(Pool2d::new(2)));
    /// let names: Vec<String> = net.named_params().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["0.weight", "0.bias", "1.weight", "1.bias"]);
    /// let mut buffers = Vec::new();
    /// net.visit_buffers(&mut |n, _| buffers.push(n.to_string()));
    /// assert_eq!(buffers, ["1.running_mean", "1.running_var", "1.num_batches_tracked"]);
    /// ```
    BatchNorm2d,
    &[2],
    "BatchNorm2d"
);

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Tensor<f64> {
        Tensor::from_fn([4, 3, 2, 2], |ix| {
            ((ix[0] * 7 + ix[1] * 3 + ix[2] * 5 + ix[3]) % 11) as f64 * 0.3 - ix[1] as f64
        })
    }

    #[test]
    fn training_normalises_each_channel_and_tracks_unbiased_variance() {
        let bn = BatchNorm2d::<f64>::new_typed(3);
        let x = input();
        let tape = Tape::new();
        let y = bn.forward(&tape, tape.constant(x.clone())).value();
        for c in 0..3 {
            let ch = x.narrow(1, c, 1).contiguous().to_vec();
            let out = y.narrow(1, c, 1).contiguous().to_vec();
            let n = ch.len() as f64;
            let mean = ch.iter().sum::<f64>() / n;
            let biased = ch.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            for (v, o) in ch.iter().zip(&out) {
                assert!((o - (v - mean) / (biased + 1e-5).sqrt()).abs() < 1e-12);
            }
            assert!((bn.running_mean().to_vec()[c] - 0.1 * mean).abs() < 1e-12);
            let unbiased = biased * n / (n - 1.0);
            assert!((bn.running_var().to_vec()[c] - (0.9 + 0.1 * unbiased)).abs() < 1e-12);
        }
        assert_eq!(bn.num_batches_tracked(), 1);
    }

    #[test]
    fn evaluation_uses_the_running_statistics() {
        let mut bn = BatchNorm2d::<f64>::new_typed(3);
        bn.set_training(false);
        let x = input();
        let tape = Tape::new();
        let y = bn.forward(&tape, tape.constant(x.clone())).value();
        // Running mean 0 and variance 1 at first: y = x/√(1 + eps).
        let want = x.map(|v| v / (1.0f64 + 1e-5).sqrt());
        assert!(y.to_vec().iter().zip(want.to_vec()).all(|(a, b)| (a - b).abs() < 1e-12));
        assert_eq!(bn.num_batches_tracked(), 0, "evaluation leaves the statistics alone");
    }

    #[test]
    fn cumulative_momentum_averages_the_batches() {
        let bn = BatchNorm1d::<f64>::new_typed(1).with_momentum(None);
        for v in [1.0, 3.0] {
            let tape = Tape::new();
            let x = Tensor::from_vec(vec![v - 1.0, v + 1.0], [2, 1]).unwrap();
            let _ = bn.forward(&tape, tape.constant(x));
        }
        assert_eq!(bn.running_mean().to_vec(), [2.0]);
        assert_eq!(bn.running_var().to_vec(), [2.0]);
    }

    #[test]
    fn summaries_leave_the_statistics_alone() {
        let bn = BatchNorm2d::new(3);
        let _ = bn.summary(&[2, 3, 4, 4]);
        assert_eq!(bn.num_batches_tracked(), 0);
    }

    #[test]
    #[should_panic(expected = "BatchNorm2d(3): input [2, 4, 5, 5] has 4 channels, expected 3")]
    fn wrong_channels_panic_naming_both() {
        let tape = Tape::<f32>::new();
        let _ = BatchNorm2d::new(3).forward(&tape, tape.constant(Tensor::zeros([2, 4, 5, 5])));
    }

    #[test]
    #[should_panic(expected = "BatchNorm1d(3): input [1, 3, 1, 1] is not 2-D or 3-D (N, C[, L])")]
    fn wrong_rank_panics() {
        let tape = Tape::<f32>::new();
        let _ = BatchNorm1d::new(3).forward(&tape, tape.constant(Tensor::zeros([1, 3])).reshape(&[1, 3, 1, 1]));
    }

    #[test]
    #[should_panic(expected = "expected more than 1 value per channel when training")]
    fn one_value_per_channel_panics_in_training() {
        let tape = Tape::<f32>::new();
        let _ = BatchNorm1d::new(3).forward(&tape, tape.constant(Tensor::zeros([1, 3])));
    }
}
