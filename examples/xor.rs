//! XOR, the problem a single layer cannot solve: 2 → hidden → 1.
//!
//! The hidden layer learns features (roughly "x OR y" and "x AND y") in which
//! XOR is linearly separable; the output layer reads it off.
//!
//! ```text
//! cargo run --release --example xor
//! cargo run --release --example xor -- --hidden 4 --activation relu --seed 3
//! ```

mod common;

use std::process::ExitCode;

use clap::Parser;
use rand::{rngs::StdRng, SeedableRng};
use strata::prelude::*;

/// Train a 2 → hidden → 1 network on XOR and print its truth table.
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// Hidden units.
    #[arg(long, default_value_t = 8, value_parser = common::positive)]
    pub hidden: usize,
    /// Hidden activation (relu, leaky_relu, elu, selu, sigmoid, tanh, swish, mish, gelu, softplus, …).
    #[arg(long, default_value = "tanh", value_parser = common::activation)]
    pub activation: Activation,
    /// Full-batch training steps.
    #[arg(long, default_value_t = 1000, value_parser = common::positive)]
    pub steps: usize,
    /// Learning rate (Adam).
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true, value_parser = common::learning_rate)]
    pub lr: f64,
    /// Random seed (same seed, same output).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// What a run produced.
pub struct Outcome {
    /// Predicted probability of 1 for (0,0), (0,1), (1,0), (1,1).
    pub probabilities: Vec<f32>,
    /// Fraction of the four cases right.
    pub accuracy: f64,
    /// Binary cross-entropy after training.
    pub final_loss: f32,
}

/// Trains and evaluates.
pub fn run(args: &Args) -> Result<Outcome, String> {
    if args.hidden == 0 || args.steps == 0 {
        return Err("--hidden and --steps must be at least 1".into());
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    let x = Tensor::from_vec(vec![0.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], [4, 2]).map_err(|e| e.to_string())?;
    let y = Tensor::from_vec(vec![0.0f32, 1.0, 1.0, 0.0], [4, 1]).map_err(|e| e.to_string())?;
    // Logits out; the loss applies the sigmoid stably (BCE with logits).
    let mut model = Mlp::new(&[2, args.hidden, 1], args.activation, &mut rng);
    let mut opt = Adam::new(args.lr);
    let bar = common::epoch_bar(args.steps);
    let mut final_loss = f32::NAN;
    for step in 0..args.steps {
        let tape = Tape::new();
        let loss = model.forward(&tape, tape.constant(x.clone())).bce_with_logits(&y);
        final_loss = loss.item();
        if !final_loss.is_finite() {
            return Err(common::diverged(final_loss.into(), 1, &format!("step {}", step + 1)));
        }
        opt.step(&mut model, &loss.backward());
        bar.inc(1);
    }
    bar.finish_and_clear();
    let tape = Tape::new();
    let probabilities = model.forward(&tape, tape.constant(x)).sigmoid().value().to_vec();
    let right = probabilities.iter().zip(y.to_vec()).filter(|(p, t)| (**p > 0.5) == (*t > 0.5)).count();
    Ok(Outcome { probabilities, accuracy: right as f64 / 4.0, final_loss })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let start = std::time::Instant::now();
    match run(&args) {
        Ok(out) => {
            common::outln!(
                "XOR with 2 → {} ({}) → 1, {} Adam steps, seed {}",
                args.hidden,
                args.activation.name(),
                args.steps,
                args.seed
            );
            common::outln!(" x1 x2 | target | P(1)");
            for (i, p) in out.probabilities.iter().enumerate() {
                let (a, b) = (i / 2, i % 2);
                common::outln!("  {a}  {b} |   {}    | {p:.4}", a ^ b);
            }
            common::outln!(
                "accuracy {:.0}%, final loss {:.2e}, {:.0?}",
                out.accuracy * 100.0,
                out.final_loss,
                start.elapsed()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
