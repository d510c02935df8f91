//! [`Mlp`]: a stack of hidden layers and an output layer.

use std::path::Path;

use rand::Rng;
use strata_autograd::{Activation, Tape, Var};
use strata_tensor::{Float, Tensor};

use crate::checkpoint;
use crate::error::Error;
use crate::layers::linear::Linear;

use crate::diagnostics::Trace;
use crate::layers::dense::Dense;
use crate::module::{decimal, dotted, visit_child, visit_child_mut, Module};
use crate::param::Param;

/// A multi-layer perceptron: `sizes[0] → … → sizes[n]`, every hidden layer a
/// [`Dense`] with the same activation, the output layer linear unless
/// [`with_output_activation`](Self::with_output_activation) says otherwise.
/// Parameters are named `layers.{i}.weight` / `layers.{i}.bias`.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use strata_autograd::{Activation, Tape};
/// use strata_nn::{Mlp, Module};
/// use strata_tensor::Tensor;
///
/// let mut rng = StdRng::seed_from_u64(7);
/// let model = Mlp::new(&[64, 128, 10], Activation::Relu, &mut rng);
/// assert_eq!(model.num_params(), 64 * 128 + 128 + 128 * 10 + 10);
/// let tape = Tape::new();
/// let logits = model.forward(&tape, tape.constant(Tensor::zeros([32, 64])));
/// assert_eq!(logits.dims(), vec![32, 10]);
/// ```
#[derive(Clone, Debug)]
pub struct Mlp<T: Float = f32> {
    /// The layers, hidden ones first, the output layer last.
    pub layers: Vec<Dense<T>>,
}

/// `f32` constructors, so the common case needs no type annotation
/// (`Mlp::new(&[64, 128, 10], Activation::Relu, &mut rng)`); the `_typed`
/// forms build any float type (`Mlp::<f64>::new_typed(..)`, for gradient checks).
impl Mlp<f32> {
    /// Hidden layers with `activation`, a linear output layer (logits).
    ///
    /// # Panics
    /// If `sizes` has fewer than two entries.
    #[track_caller]
    pub fn new(sizes: &[usize], activation: Activation, rng: &mut impl Rng) -> Self {
        Self::new_typed(sizes, activation, rng)
    }

    /// The `f32` MLP a checkpoint was saved from: see
    /// [`from_checkpoint_typed`](Mlp::from_checkpoint_typed).
    ///
    /// # Errors
    /// As [`from_checkpoint_typed`](Mlp::from_checkpoint_typed).
    pub fn from_checkpoint(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::from_checkpoint_typed(path)
    }

    /// Hidden layers with `activation`, the output layer with `output`
    /// (e.g. [`Activation::Sigmoid`] for a probability).
    ///
    /// # Panics
    /// If `sizes` has fewer than two entries.
    #[track_caller]
    pub fn with_output_activation(
        sizes: &[usize],
        activation: Activation,
        output: Activation,
        rng: &mut impl Rng,
    ) -> Self {
        Self::with_output_activation_typed(sizes, activation, output, rng)
    }
}

impl<T: Float> Mlp<T> {
    /// [`Mlp::new`] for any float type.
    ///
    /// # Panics
    /// If `sizes` has fewer than two entries.
    #[track_caller]
    pub fn new_typed(sizes: &[usize], activation: Activation, rng: &mut impl Rng) -> Self {
        Self::with_output_activation_typed(sizes, activation, Activation::Identity, rng)
    }

    /// [`Mlp::with_output_activation`] for any float type.
    ///
    /// # Panics
    /// If `sizes` has fewer than two entries.
    #[track_caller]
    pub fn with_output_activation_typed(
        sizes: &[usize],
        activation: Activation,
        output: Activation,
        rng: &mut impl Rng,
    ) -> Self {
        assert!(sizes.len() >= 2, "Mlp::new: need at least input and output sizes, got {sizes:?}");
        let last = sizes.len() - 2;
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| Dense::new_typed(w[0], w[1], if i == last { output } else { activation }, rng))
            .collect();
        Mlp { layers }
    }

    /// The MLP a checkpoint was saved from, built from the file alone: its
    /// recorded architecture gives the layers, sizes and activations, then
    /// the weights are loaded (and checked) as [`checkpoint::load`] does.
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// use strata_autograd::Activation;
    /// use strata_nn::{checkpoint, Mlp, Module};
    ///
    /// let path = std::env::temp_dir().join(format!("strata-from-ckpt-{}.safetensors", std::process::id()));
    /// let model = Mlp::new(&[4, 8, 2], Activation::LeakyRelu(0.2), &mut StdRng::seed_from_u64(1));
    /// checkpoint::save(&path, &model)?;
    /// let back = Mlp::from_checkpoint(&path)?;
    /// assert_eq!(back.architecture(), "Mlp(Dense(4 → 8, leaky_relu(0.2)), Dense(8 → 2, identity))");
    /// assert_eq!(back.layers[0].linear.weight.value().to_vec(), model.layers[0].linear.weight.value().to_vec());
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), strata_nn::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`checkpoint::load`], and [`Error::Checkpoint`] if the file records
    /// no architecture (a PyTorch file) or one that is not an `Mlp`.
    pub fn from_checkpoint_typed(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let arch = checkpoint::architecture(path)?.ok_or_else(|| Error::Checkpoint {
            file: file.clone(),
            reason: format!(
                "records no architecture (no `{}` metadata); build the model and use checkpoint::load",
                checkpoint::ARCHITECTURE_KEY
            ),
        })?;
        let layers = parse_mlp(&arch)
            .ok_or_else(|| Error::Checkpoint { file: file.clone(), reason: format!("holds a {arch}, not an Mlp") })?;
        let layers = layers
            .into_iter()
            .map(|(i, o, activation, bias)| Dense {
                linear: Linear::from_tensors(Tensor::zeros([o, i]), bias.then(|| Tensor::zeros([o]))),
                activation,
            })
            .collect();
        let mut model = Mlp { layers };
        checkpoint::load(path, &mut model)?;
        Ok(model)
    }

    /// An MLP of given layers.
    #[must_use]
    pub fn from_layers(layers: Vec<Dense<T>>) -> Self {
        Mlp { layers }
    }

    /// Layer widths, input first.
    #[must_use]
    pub fn sizes(&self) -> Vec<usize> {
        let mut s: Vec<usize> = self.layers.iter().map(|l| l.linear.in_features()).collect();
        s.extend(self.layers.last().map(|l| l.linear.out_features()));
        s
    }
}

/// `Mlp(Dense(64 → 128, relu), Dense(128 → 10, identity))` as
/// `(in, out, activation, has bias)` per layer.
fn parse_mlp(arch: &str) -> Option<Vec<(usize, usize, Activation, bool)>> {
    let inner = arch.strip_prefix("Mlp(")?.strip_suffix(')')?;
    split_top(inner)
        .into_iter()
        .map(|layer| {
            let parts = split_top(layer.strip_prefix("Dense(")?.strip_suffix(')')?);
            let (sizes, act, rest) = (parts.first()?, parts.get(1)?, &parts[2.min(parts.len())..]);
            let (i, o) = sizes.split_once('→')?;
            let bias = match rest {
                [] => true,
                ["no bias"] => false,
                _ => return None,
            };
            Some((i.trim().parse().ok()?, o.trim().parse().ok()?, act.parse().ok()?, bias))
        })
        .collect()
}

/// `s` split at the commas outside parentheses, each part trimmed.
fn split_top(s: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (at, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(s[start..at].trim());
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(s[start..].trim());
    parts
}

impl<T: Float> Module<T> for Mlp<T> {
    /// # Panics
    /// If `x` does not fit the first layer (or a layer built by hand does
    /// not fit the one before it); the message names the layer
    /// (`layers.0 (Dense(64 → 128, relu)): linear: …`), the location is the caller's.
    #[track_caller]
    fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            h = match layer.try_forward(tape, h) {
                Ok(y) => y,
                Err(e) => panic!("layers.{i} ({}): {e}", layer.describe()),
            };
        }
        h
    }

    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param<T>)) {
        for (i, layer) in self.layers.iter().enumerate() {
            decimal(i, |i| dotted("layers", i, |name| visit_child(name, layer, f)));
        }
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param<T>)) {
        for (i, layer) in self.layers.iter_mut().enumerate() {
            decimal(i, |i| dotted("layers", i, |name| visit_child_mut(name, layer, f)));
        }
    }

    fn params(&self, f: &mut dyn FnMut(&Param<T>)) {
        self.layers.iter().for_each(|layer| layer.params(f));
    }

    fn params_mut(&mut self, f: &mut dyn FnMut(&mut Param<T>)) {
        self.layers.iter_mut().for_each(|layer| layer.params_mut(f));
    }

    fn describe(&self) -> String {
        let sizes: Vec<String> = self.sizes().iter().map(ToString::to_string).collect();
        format!("Mlp({})", sizes.join(" → "))
    }

    fn architecture(&self) -> String {
        let layers: Vec<String> = self.layers.iter().map(Module::architecture).collect();
        format!("Mlp({})", layers.join(", "))
    }

    fn forward_traced<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>, trace: &mut Trace<'t, T>) -> Var<'t, T> {
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            h = trace.scoped(&format!("layers.{i}"), |t| layer.forward_traced(tape, h, t));
        }
        h
    }
}
