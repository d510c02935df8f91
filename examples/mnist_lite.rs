//! MNIST-lite: the 8×8 digits shipped in the repository, an MLP, Adam.
//!
//! ```text
//! cargo run --release --example mnist_lite
//! cargo run --release --example mnist_lite -- --hidden 128,64 --activation gelu --save digits.safetensors
//! cargo run --release --example mnist_lite -- --load digits.safetensors
//! ```
//!
//! Seeded 80/20 split, features standardised on the training split, a
//! 64 → 128 → 10 ReLU MLP trained with Adam; prints the loss and test
//! accuracy per epoch, a confusion matrix and what each hidden layer does.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rand::{rngs::StdRng, SeedableRng};
use strata::nn::{confusion_matrix, optim::CosineAnnealing};
use strata::prelude::*;

/// Train an MLP on the shipped 8×8 digits (MNIST-lite).
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// Hidden layer widths, comma-separated (`128,64`).
    #[arg(long, default_value = "128", value_delimiter = ',', num_args = 1..)]
    pub hidden: Vec<usize>,
    /// Hidden activation (relu, leaky_relu, elu, selu, sigmoid, tanh, swish, mish, gelu, …).
    #[arg(long, default_value = "relu", value_parser = common::activation)]
    pub activation: Activation,
    /// Optimizer: adam, adamw, sgd (momentum 0.9), rmsprop, adagrad.
    #[arg(long, default_value = "adam")]
    pub optimizer: String,
    /// Peak learning rate (cosine-annealed to zero over the run).
    #[arg(long, default_value_t = 3e-3, allow_negative_numbers = true, value_parser = common::learning_rate)]
    pub lr: f64,
    /// Weight decay (decoupled for adamw, L2 for the others).
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true, value_parser = common::weight_decay)]
    pub weight_decay: f64,
    /// Passes over the training split.
    #[arg(long, default_value_t = 40, value_parser = common::positive)]
    pub epochs: usize,
    /// Samples per step.
    #[arg(long, default_value_t = 32, value_parser = common::positive)]
    pub batch_size: usize,
    /// Seed for the split, the initial weights and the batch order.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Save the trained model here (safetensors, PyTorch state-dict names).
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Print the hidden-layer diagnostics (with the step's update ratios) every N epochs; 0 = only at the end.
    #[arg(long, default_value_t = 0)]
    pub report_every: usize,
    /// Evaluate this checkpoint instead of training (it must have been saved
    /// with the same --hidden and --activation; another architecture is an error).
    #[arg(long)]
    pub load: Option<PathBuf>,
}

/// What a run produced.
pub struct Outcome {
    /// Mean training loss per epoch.
    pub losses: Vec<f32>,
    /// Test accuracy per epoch (one entry when evaluating a checkpoint).
    pub accuracies: Vec<f64>,
    /// `m[true][predicted]` on the test split.
    pub confusion: Vec<Vec<usize>>,
    /// Hidden-layer diagnostics of the final model on the training split.
    pub report: LayerReport,
    /// The model summary.
    pub summary: String,
    /// Test-split predictions of the final model.
    pub predictions: Vec<usize>,
}

/// Trains (or loads) and evaluates; `log` receives the per-epoch lines.
pub fn run(args: &Args, mut log: impl FnMut(&str)) -> Result<Outcome, String> {
    if args.batch_size == 0 || args.epochs == 0 && args.load.is_none() {
        return Err("--batch-size and --epochs must be positive".into());
    }
    if args.hidden.contains(&0) {
        return Err(format!("--hidden {:?}: every layer needs at least one unit", args.hidden));
    }
    if let Some(path) = &args.save {
        common::check_writable("--save", path)?;
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    let data = Dataset::digits().map_err(|e| e.to_string())?.split(0.8, &mut rng).standardized();
    let mut sizes = vec![data.train.dim()];
    sizes.extend(&args.hidden);
    sizes.push(data.train.classes());
    let mut model = Mlp::new(&sizes, args.activation, &mut rng);
    let summary = model.summary(&[args.batch_size, data.train.dim()]).to_string();
    let (mut losses, mut accuracies) = (Vec::new(), Vec::new());
    if let Some(path) = &args.load {
        checkpoint::load(path, &mut model).map_err(|e| e.to_string())?;
        accuracies.push(accuracy(&model, &data.test));
    } else {
        let mut opt = common::optimizer(&args.optimizer, args.lr, args.weight_decay)?;
        let schedule = CosineAnnealing::new(args.epochs, 0.0);
        let bar = common::epoch_bar(args.epochs);
        for epoch in 0..args.epochs {
            opt.set_lr(schedule.lr_at(epoch, args.lr));
            let (mut sum, mut n) = (0.0f32, 0usize);
            let report_now = args.report_every > 0 && (epoch + 1) % args.report_every == 0;
            for (i, (x, y)) in data.train.batches(args.batch_size, &mut rng).enumerate() {
                let tape = Tape::new();
                if report_now && i == 0 {
                    // Trace the epoch's first step: what each layer did, and how much the step moved it.
                    let mut trace = Trace::new();
                    let loss = model.forward_traced(&tape, tape.constant(x), &mut trace).cross_entropy(&y);
                    let grads = loss.backward();
                    let mut report = trace.report(&grads);
                    opt.step(&mut model, &grads);
                    report.record_update(&model);
                    common::say(&bar, &format!("epoch {} first step:\n{report}", epoch + 1), &mut log);
                    if !loss.item().is_finite() {
                        return Err(common::diverged(loss.item().into(), epoch + 1, "step 1"));
                    }
                    sum += loss.item() * y.len() as f32;
                    n += y.len();
                    continue;
                }
                let loss = model.forward(&tape, tape.constant(x)).cross_entropy(&y);
                if !loss.item().is_finite() {
                    return Err(common::diverged(loss.item().into(), epoch + 1, &format!("step {}", i + 1)));
                }
                sum += loss.item() * y.len() as f32;
                n += y.len();
                opt.step(&mut model, &loss.backward());
            }
            losses.push(sum / n as f32);
            accuracies.push(accuracy(&model, &data.test));
            let line = format!(
                "epoch {:>3}  train loss {:.4}  test accuracy {:.2}%",
                epoch + 1,
                sum / n as f32,
                accuracies[epoch] * 100.0
            );
            bar.set_message(format!("loss {:.4}", sum / n as f32));
            bar.inc(1);
            common::say(&bar, &line, &mut log);
        }
        bar.finish_and_clear();
        if let Some(path) = &args.save {
            checkpoint::save(path, &model).map_err(|e| e.to_string())?;
        }
    }
    // One traced pass over the training split: what each hidden layer does.
    let tape = Tape::new();
    let mut trace = Trace::new();
    let logits = model.forward_traced(&tape, tape.constant(data.train.features().clone()), &mut trace);
    let report = trace.report(&logits.cross_entropy(data.train.labels()).backward());
    Ok(Outcome {
        losses,
        accuracies,
        confusion: confusion_matrix(&model, &data.test),
        report,
        summary,
        predictions: strata::nn::predict(&model, data.test.features()),
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let start = std::time::Instant::now();
    match run(&args, |line| common::outln!("{line}")) {
        Ok(out) => {
            common::outln!("\n{}", out.summary);
            common::outln!("confusion matrix (test split):\n{}", common::confusion_table(&out.confusion));
            common::outln!("hidden layers on the training split:\n{}", out.report);
            let acc = out.accuracies.last().copied().unwrap_or(0.0);
            common::outln!("test accuracy {:.2}%  ({:.2?} in all)", acc * 100.0, start.elapsed());
            if let Some(p) = &args.save {
                common::outln!("saved {}", p.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
