//! Double backpropagation (Drucker & LeCun, 1992): train the digits MLP on
//! `loss + λ·‖∂loss/∂x‖²`, which needs the gradient of a gradient.
//!
//! ```text
//! cargo run --release --example double_backprop
//! cargo run --release --example double_backprop -- --lambda 0.1,1,10 --epsilon 0.3
//! ```
//!
//! For each λ (0 is plain training) the same 64 → 128 → 10 ReLU network is
//! trained from the same seed; the table gives its test accuracy, the
//! penalty it ends with (mean over test digits of ‖∂loss/∂x‖²: how much the
//! loss moves when the input does), and its accuracy under the fast
//! gradient-sign attack `x + ε·sign(∂loss/∂x)` on the standardised
//! pixels. The penalty's gradient with respect to the weights goes through
//! the input gradient: `loss.grad_graph(&[x])` records `∂loss/∂x` on the
//! tape, and the ordinary `backward` of the total differentiates it.

mod common;

use std::process::ExitCode;

use clap::Parser;
use strata::prelude::*;
use strata::rand::{rngs::StdRng, SeedableRng};

/// Train the digits MLP with a double-backprop penalty on the input gradient.
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// Penalty weights to compare, comma-separated (0 = no penalty).
    #[arg(long, default_values_t = vec![0.0, 1.0, 10.0, 30.0], value_delimiter = ',', allow_negative_numbers = true)]
    pub lambda: Vec<f64>,
    /// Size of the gradient-sign perturbation for the robustness column.
    #[arg(long, default_value_t = 0.3, allow_negative_numbers = true)]
    pub epsilon: f64,
    /// Passes over the training split.
    #[arg(long, default_value_t = 30, value_parser = common::positive)]
    pub epochs: usize,
    /// Samples per step.
    #[arg(long, default_value_t = 32, value_parser = common::positive)]
    pub batch_size: usize,
    /// Learning rate (Adam).
    #[arg(long, default_value_t = 2e-3, allow_negative_numbers = true, value_parser = common::learning_rate)]
    pub lr: f64,
    /// Seed for the split, the weights and the batch order.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// One λ's result.
#[derive(Clone, Debug)]
pub struct Row {
    /// The penalty weight.
    pub lambda: f64,
    /// Test accuracy.
    pub accuracy: f64,
    /// Mean ‖∂loss/∂x‖² per test digit.
    pub penalty: f64,
    /// Test accuracy on gradient-sign-perturbed digits.
    pub attacked: f64,
}

/// The per-sample cross-entropy summed, and `Σ_samples ‖∂loss_i/∂x_i‖²`
/// (each sample's loss depends on its own row only, so the gradient of the
/// summed loss holds every sample's input gradient).
fn loss_and_penalty<'t>(model: &Mlp, tape: &'t Tape, x: Var<'t>, y: &[usize]) -> (Var<'t>, Var<'t>) {
    let n = y.len() as f32;
    let mean = model.forward(tape, x).cross_entropy(y);
    let dx = mean.mul_scalar(n).grad_graph(&[x]).expect("x is a leaf")[0];
    (mean, dx.square().sum().mul_scalar(1.0 / n))
}

fn evaluate(model: &Mlp, data: &Dataset<f32>, epsilon: f32) -> (f64, f64, f64) {
    let tape = Tape::new();
    let x = tape.leaf(data.features().clone());
    let (loss, penalty) = loss_and_penalty(model, &tape, x, data.labels());
    let dx = loss.backward().wrt(&x).cloned().expect("x is a leaf");
    let attacked = data.features().zip_with(&dx, |v, g| {
        v + epsilon
            * if g > 0.0 {
                1.0
            } else if g < 0.0 {
                -1.0
            } else {
                0.0
            }
    });
    let acc = |x: &Tensor<f32>| {
        let p = strata::nn::predict(model, x);
        p.iter().zip(data.labels()).filter(|(a, b)| a == b).count() as f64 / data.len() as f64
    };
    (acc(data.features()), f64::from(penalty.item()), acc(&attacked))
}

/// Trains one model per λ.
pub fn run(args: &Args, mut log: impl FnMut(&str)) -> Result<Vec<Row>, String> {
    if let Some(l) = args.lambda.iter().find(|l| !(l.is_finite() && **l >= 0.0)) {
        return Err(format!("--lambda {l}: must be finite and ≥ 0"));
    }
    if !(args.epsilon.is_finite() && args.epsilon >= 0.0) {
        return Err(format!("--epsilon {}: must be finite and ≥ 0", args.epsilon));
    }
    let mut rows = Vec::new();
    for &lambda in &args.lambda {
        let mut rng = StdRng::seed_from_u64(args.seed);
        let data = Dataset::digits().map_err(|e| e.to_string())?.split(0.8, &mut rng).standardized();
        let mut model = Mlp::new(&[64, 128, 10], Activation::Relu, &mut rng);
        let mut opt = Adam::new(args.lr);
        for epoch in 0..args.epochs {
            for (x, y) in data.train.batches(args.batch_size, &mut rng) {
                let tape = Tape::new();
                let x = tape.leaf(x);
                let (loss, penalty) = loss_and_penalty(&model, &tape, x, &y);
                let total = loss + penalty.mul_scalar(lambda as f32);
                if !total.item().is_finite() {
                    return Err(common::diverged(total.item().into(), epoch + 1, &format!("λ = {lambda}")));
                }
                let grads = total.backward();
                drop(tape);
                opt.step(&mut model, &grads);
            }
        }
        let (accuracy, penalty, attacked) = evaluate(&model, &data.test, args.epsilon as f32);
        log(&format!(
            "λ = {lambda:<5} test accuracy {:.2}%  penalty ‖∂loss/∂x‖² {penalty:.4}  accuracy at ε = {} {:.2}%",
            accuracy * 100.0,
            args.epsilon,
            attacked * 100.0
        ));
        rows.push(Row { lambda, accuracy, penalty, attacked });
    }
    Ok(rows)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let start = std::time::Instant::now();
    match run(&args, |line| common::outln!("{line}")) {
        Ok(rows) => {
            common::outln!(
                "\n{:>8}  {:>13}  {:>16}  {:>18}",
                "λ",
                "test accuracy",
                "‖∂loss/∂x‖²",
                format!("accuracy at ε={}", args.epsilon)
            );
            for r in &rows {
                common::outln!(
                    "{:>8}  {:>12.2}%  {:>16.4}  {:>17.2}%",
                    r.lambda,
                    r.accuracy * 100.0,
                    r.penalty,
                    r.attacked * 100.0
                );
            }
            common::outln!("({:.1?} in all)", start.elapsed());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
