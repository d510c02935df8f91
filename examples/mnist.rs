//! The real MNIST: 784 → 256 → 128 → 10, ReLU, Adam, from the four IDX files.
//!
//! ```text
//! cargo run --release --example mnist -- --data path/to/mnist
//! ```
//!
//! `--data` names a directory holding `train-images-idx3-ubyte`,
//! `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
//! `t10k-labels-idx1-ubyte`, each gzipped (`.gz`) or not. A missing or
//! malformed file is an error that names it.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rand::{rngs::StdRng, SeedableRng};
use strata::nn::{confusion_matrix, optim::CosineAnnealing};
use strata::prelude::*;

/// Train an MLP on MNIST from IDX files.
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// Directory with the four MNIST IDX files (gzipped or not).
    #[arg(long)]
    pub data: PathBuf,
    /// Hidden layer widths, comma-separated.
    #[arg(long, default_value = "256,128", value_delimiter = ',', num_args = 1..)]
    pub hidden: Vec<usize>,
    /// Hidden activation.
    #[arg(long, default_value = "relu", value_parser = common::activation)]
    pub activation: Activation,
    /// Optimizer: adam, adamw, sgd (momentum 0.9), rmsprop, adagrad.
    #[arg(long, default_value = "adam")]
    pub optimizer: String,
    /// Peak learning rate (cosine-annealed to zero).
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true, value_parser = common::learning_rate)]
    pub lr: f64,
    /// Weight decay (decoupled for adamw, L2 for the others).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = common::weight_decay)]
    pub weight_decay: f64,
    /// Passes over the training set.
    #[arg(long, default_value_t = 12, value_parser = common::positive)]
    pub epochs: usize,
    /// Samples per step.
    #[arg(long, default_value_t = 128, value_parser = common::positive)]
    pub batch_size: usize,
    /// Train on the first N training images only (quick runs).
    #[arg(long, value_parser = common::positive)]
    pub train_limit: Option<usize>,
    /// Seed for the initial weights and the batch order.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Save the trained model here (safetensors).
    #[arg(long)]
    pub save: Option<PathBuf>,
}

/// What a run produced.
pub struct Outcome {
    /// Test accuracy after each epoch.
    pub accuracies: Vec<f64>,
    /// `m[true][predicted]` on the test set.
    pub confusion: Vec<Vec<usize>>,
    /// Hidden-layer diagnostics on a training batch of the final model.
    pub report: LayerReport,
}

/// Loads, trains, evaluates.
pub fn run(args: &Args, mut log: impl FnMut(&str)) -> Result<Outcome, String> {
    if args.batch_size == 0 || args.epochs == 0 || args.hidden.contains(&0) {
        return Err("--batch-size, --epochs and every --hidden width must be positive".into());
    }
    if args.train_limit == Some(0) {
        return Err("--train-limit must be at least 1".into());
    }
    if let Some(path) = &args.save {
        common::check_writable("--save", path)?;
    }
    let mut data = Dataset::mnist(&args.data).map_err(|e| e.to_string())?;
    if let Some(n) = args.train_limit {
        let n = n.min(data.train.len());
        data.train = data.train.subset(&(0..n).collect::<Vec<_>>());
    }
    log(&format!("{} training and {} test images of {} pixels", data.train.len(), data.test.len(), data.train.dim()));
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut sizes = vec![data.train.dim()];
    sizes.extend(&args.hidden);
    sizes.push(10);
    let mut model = Mlp::new(&sizes, args.activation, &mut rng);
    log(&model.summary(&[args.batch_size, data.train.dim()]).to_string());
    let mut opt = common::optimizer(&args.optimizer, args.lr, args.weight_decay)?;
    let schedule = CosineAnnealing::new(args.epochs, 0.0);
    let bar = common::epoch_bar(args.epochs);
    let mut accuracies = Vec::new();
    for epoch in 0..args.epochs {
        opt.set_lr(schedule.lr_at(epoch, args.lr));
        let (mut sum, mut n) = (0.0f32, 0usize);
        for (i, (x, y)) in data.train.batches(args.batch_size, &mut rng).enumerate() {
            let tape = Tape::new();
            let loss = model.forward(&tape, tape.constant(x)).cross_entropy(&y);
            if !loss.item().is_finite() {
                return Err(common::diverged(loss.item().into(), epoch + 1, &format!("step {}", i + 1)));
            }
            sum += loss.item() * y.len() as f32;
            n += y.len();
            opt.step(&mut model, &loss.backward());
        }
        accuracies.push(accuracy(&model, &data.test));
        let line = format!(
            "epoch {:>3}  train loss {:.4}  test accuracy {:.2}%",
            epoch + 1,
            sum / n as f32,
            accuracies[epoch] * 100.0
        );
        bar.inc(1);
        common::say(&bar, &line, &mut log);
    }
    bar.finish_and_clear();
    if let Some(path) = &args.save {
        checkpoint::save(path, &model).map_err(|e| e.to_string())?;
    }
    let (x, y) = data.train.batches_in_order(1024).next().ok_or("empty training set")?;
    let tape = Tape::new();
    let mut trace = Trace::new();
    let logits = model.forward_traced(&tape, tape.constant(x), &mut trace);
    let report = trace.report(&logits.cross_entropy(&y).backward());
    Ok(Outcome { accuracies, confusion: confusion_matrix(&model, &data.test), report })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let start = std::time::Instant::now();
    match run(&args, |line| common::outln!("{line}")) {
        Ok(out) => {
            common::outln!("confusion matrix (test set):\n{}", common::confusion_table(&out.confusion));
            common::outln!("hidden layers on 1,024 training images:\n{}", out.report);
            let acc = out.accuracies.last().copied().unwrap_or(0.0);
            common::outln!("test accuracy {:.2}%  ({:.1?} in all)", acc * 100.0, start.elapsed());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
