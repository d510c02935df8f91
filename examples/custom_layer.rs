//! Your own architecture in plain Rust: a residual MLP whose blocks use a
//! differentiable op defined right here, trained on the digits.
//!
//! - `Snake` is a user-defined op (Ziyin et al., 2020): `y = x + sin²(αx)/α`
//!   with a learnable frequency `α` per unit. It implements `CustomOp` —
//!   forward and backward by hand — and `tape.apply` records it.
//! - `ResidualBlock` is `x + fc2(snake(fc1(norm(x))))`, a plain struct of
//!   modules implementing `Module`; `ResidualMlp` stacks them.
//!
//! `tests/custom_layer.rs` property-tests both gradients with the autograd
//! crate's proptest strategies and `gradcheck`.
//!
//! ```text
//! cargo run --release --example custom_layer -- --blocks 3 --width 64
//! ```

mod common;

use std::process::ExitCode;

use clap::Parser;
use rand::{rngs::StdRng, Rng, SeedableRng};
use strata::nn::diagnostics::Trace;
use strata::prelude::*;

/// `y = x + sin²(α·x)/α`, with `x` of shape `[batch, units]` and `α` of shape `[units]`.
///
/// `∂y/∂x = 1 + sin(2αx)`; `∂y/∂α = x·sin(2αx)/α − sin²(αx)/α²` (summed over the batch).
#[derive(Clone, Copy, Debug)]
pub struct Snake;

impl<T: Float> CustomOp<T> for Snake {
    fn name(&self) -> &str {
        "snake"
    }

    fn forward(&self, inputs: &[&Tensor<T>]) -> Tensor<T> {
        let (x, alpha) = (inputs[0], inputs[1]);
        let ax = x.mul(alpha);
        x.add(&ax.map(|v| v.sin() * v.sin()).div(alpha))
    }

    fn backward(&self, inputs: &[&Tensor<T>], _output: &Tensor<T>, grad: &Tensor<T>) -> Vec<Tensor<T>> {
        let (x, alpha) = (inputs[0], inputs[1]);
        let ax = x.mul(alpha);
        let sin2 = ax.map(|v| (v + v).sin());
        let dx = grad.mul(&sin2.add_scalar(T::one()));
        let sq = ax.map(|v| v.sin() * v.sin());
        let dalpha = x.mul(&sin2).div(alpha).sub(&sq.div(&alpha.square()));
        vec![dx, grad.mul(&dalpha).sum_axis(0, false)]
    }
}

/// `x + fc2(snake(fc1(norm(x))))`: a pre-norm residual block.
///
/// `#[derive(Module)]` writes its parameter visitors (`norm.weight`, …,
/// `alpha`, `fc2.bias`, in field order) and `set_training`; the block itself
/// is its fields and its `forward`.
#[derive(Module)]
pub struct ResidualBlock<T: Float> {
    /// Normalises the block's input.
    pub norm: LayerNorm<T>,
    /// Expands to `hidden` units.
    pub fc1: Linear<T>,
    /// Per-unit Snake frequency.
    pub alpha: Param<T>,
    /// Back to the block's width.
    pub fc2: Linear<T>,
}

impl<T: Float> ResidualBlock<T> {
    /// A block of width `width` with `hidden` inner units.
    pub fn new(width: usize, hidden: usize, rng: &mut impl Rng) -> Self {
        ResidualBlock {
            norm: LayerNorm::new_typed(width),
            fc1: Linear::with_init_typed(width, hidden, Init::for_activation(Activation::Relu), rng),
            alpha: Param::new(Tensor::ones([hidden])),
            // Start each block close to the identity, so a deep stack trains.
            fc2: Linear::with_init_typed(hidden, width, Init::Normal(0.0, 0.01), rng),
        }
    }

    /// The block's forward pass.
    pub fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        let h = self.fc1.forward(tape, self.norm.forward(tape, x));
        let h = tape.apply(Snake, &[h, tape.param(&self.alpha)]);
        x + self.fc2.forward(tape, h)
    }

    /// How summaries and diagnostics name it.
    pub fn describe(&self) -> String {
        format!(
            "ResidualBlock({} → {} snake → {})",
            self.fc1.in_features(),
            self.fc1.out_features(),
            self.fc2.out_features()
        )
    }
}

/// `head(blocks(stem(x)))`.
#[derive(Module)]
pub struct ResidualMlp<T: Float> {
    /// Input layer.
    pub stem: Dense<T>,
    /// The residual blocks (`blocks.0.…`, `blocks.1.…`).
    pub blocks: Vec<ResidualBlock<T>>,
    /// Output logits.
    pub head: Linear<T>,
}

impl<T: Float> ResidualMlp<T> {
    /// `inputs → width`, `blocks` residual blocks (inner width `2·width`), `width → classes`.
    pub fn new(inputs: usize, width: usize, blocks: usize, classes: usize, rng: &mut impl Rng) -> Self {
        ResidualMlp {
            stem: Dense::new_typed(inputs, width, Activation::Relu, rng),
            blocks: (0..blocks).map(|_| ResidualBlock::new(width, 2 * width, rng)).collect(),
            head: Linear::new_typed(width, classes, rng),
        }
    }

    /// The model's forward pass.
    pub fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
        let h = self.blocks.iter().fold(self.stem.forward(tape, x), |h, b| b.forward(tape, h));
        self.head.forward(tape, h)
    }

    /// The forward pass, traced child by child so the diagnostics show one
    /// row per block (without this, the model would be one opaque row).
    pub fn forward_traced<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>, trace: &mut Trace<'t, T>) -> Var<'t, T> {
        let mut h = trace.scoped("stem", |t| self.stem.forward_traced(tape, x, t));
        for (i, b) in self.blocks.iter().enumerate() {
            h = trace.scoped(&format!("blocks.{i}"), |t| b.forward_traced(tape, h, t));
        }
        trace.scoped("head", |t| self.head.forward_traced(tape, h, t))
    }
}

/// Train a residual MLP with a custom op on the digits.
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// Residual blocks.
    #[arg(long, default_value_t = 2)]
    pub blocks: usize,
    /// Width of the residual stream.
    #[arg(long, default_value_t = 64)]
    pub width: usize,
    /// Epochs (AdamW, lr 2e-3).
    #[arg(long, default_value_t = 20, value_parser = common::positive)]
    pub epochs: usize,
    /// Seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// Trains; returns the final test accuracy, the summary and the last step's diagnostics.
pub fn run(args: &Args) -> Result<(f64, String, LayerReport), String> {
    if args.width == 0 || args.epochs == 0 {
        return Err("--width and --epochs must be positive".into());
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    let data = Dataset::digits().map_err(|e| e.to_string())?.split(0.8, &mut rng).standardized();
    let mut model = ResidualMlp::new(64, args.width, args.blocks, 10, &mut rng);
    let summary = model.summary(&[32, 64]).to_string();
    let mut opt = AdamW::new(2e-3);
    let bar = common::epoch_bar(args.epochs);
    let mut report = LayerReport::default();
    for epoch in 0..args.epochs {
        let batches = data.train.batches(32, &mut rng);
        let last = batches.len() - 1;
        for (i, (x, y)) in batches.enumerate() {
            let tape = Tape::new();
            if epoch + 1 == args.epochs && i == last {
                // Trace the final step only: what each layer did, and how much the step moved it.
                let mut trace = Trace::new();
                let loss = model.forward_traced(&tape, tape.constant(x), &mut trace).cross_entropy(&y);
                let grads = loss.backward();
                report = trace.report(&grads);
                opt.step(&mut model, &grads);
                report.record_update(&model);
            } else {
                let loss = model.forward(&tape, tape.constant(x)).cross_entropy(&y);
                if !loss.item().is_finite() {
                    return Err(common::diverged(loss.item().into(), epoch + 1, &format!("step {}", i + 1)));
                }
                opt.step(&mut model, &loss.backward());
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok((accuracy(&model, &data.test), summary, report))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok((acc, summary, report)) => {
            common::outln!("{summary}");
            common::outln!("last training step, layer by layer:\n{report}");
            common::outln!("test accuracy {:.2}%", acc * 100.0);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
