//! A LeNet-style CNN on the real MNIST, and the picture of what its layers
//! learned.
//!
//! ```text
//! cargo run --release --example cnn_mnist -- --data path/to/mnist
//! cargo run --release --example cnn_mnist -- --data path/to/mnist --epochs 1 --pictures docs/pictures/cnn_mnist
//! ```
//!
//! conv 3×3 (1 → 32) → relu → max-pool 2×2 → conv 3×3 (32 → 64) → relu →
//! max-pool 2×2 → flatten → dense 3136 → 128 (relu) → 10, Adam with a
//! cosine schedule. `--data` names a directory with the four MNIST IDX
//! files (gzipped or not). Prints the test accuracy and the wall time of
//! each epoch, then writes `filters.png`, `feature_maps.png` and
//! `top_patches.png` into `--pictures`.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use common::pictures::{self, Stage};
use strata::nn::optim::CosineAnnealing;
use strata::prelude::*;
use strata::rand::{rngs::StdRng, SeedableRng};

/// Train a LeNet-style CNN on MNIST from IDX files.
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// Directory with the four MNIST IDX files (gzipped or not).
    #[arg(long)]
    pub data: PathBuf,
    /// Passes over the training set.
    #[arg(long, default_value_t = 4, value_parser = common::positive)]
    pub epochs: usize,
    /// Samples per step.
    #[arg(long, default_value_t = 64, value_parser = common::positive)]
    pub batch_size: usize,
    /// Peak learning rate (Adam, cosine-annealed to zero).
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true, value_parser = common::learning_rate)]
    pub lr: f64,
    /// Train on the first N training images only (quick runs).
    #[arg(long, value_parser = common::positive)]
    pub train_limit: Option<usize>,
    /// Seed for the initial weights and the batch order.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Directory for the PNG pictures of the layers.
    #[arg(long, default_value = "target/pictures/cnn_mnist")]
    pub pictures: PathBuf,
    /// Draw no pictures.
    #[arg(long)]
    pub no_pictures: bool,
    /// Save the trained model here (safetensors).
    #[arg(long)]
    pub save: Option<PathBuf>,
}

/// The network, `(N, 1, 28, 28)` in, 10 logits out (see `common::models::lenet`).
pub fn lenet(rng: &mut StdRng) -> Sequential {
    common::models::lenet(10, rng)
}

/// The two conv stages (after each ReLU) and the windows their units see.
pub fn stages() -> Vec<Stage> {
    vec![
        Stage { name: "conv1", after: 1, field: vec![(3, 1, 1)] },
        Stage { name: "conv2", after: 4, field: vec![(3, 1, 1), (2, 2, 0), (3, 1, 1)] },
    ]
}

/// `[n, 784]` rows as `[n, 1, 28, 28]` images.
pub fn images(x: &Tensor<f32>) -> Tensor<f32> {
    x.reshape([x.dims()[0], 1, 28, 28])
}

/// What a run measured.
pub struct Outcome {
    /// Test accuracy after each epoch.
    pub accuracy: Vec<f64>,
    /// Wall time of each epoch's training, in seconds.
    pub epoch_seconds: Vec<f64>,
    /// The trained model.
    pub model: Sequential,
}

/// Trains and evaluates; `log` receives the per-epoch lines.
pub fn run(args: &Args, mut log: impl FnMut(&str)) -> Result<Outcome, String> {
    let data = Dataset::mnist(&args.data).map_err(|e| e.to_string())?;
    let train = match args.train_limit {
        Some(n) => data.train.subset(&(0..n.min(data.train.len())).collect::<Vec<_>>()),
        None => data.train.clone(),
    };
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut model = lenet(&mut rng);
    let mut opt = Adam::new(args.lr);
    let schedule = CosineAnnealing::new(args.epochs, 0.0);
    let test_x = images(data.test.features());
    let mut outcome = Outcome { accuracy: Vec::new(), epoch_seconds: Vec::new(), model: Sequential::new() };
    for epoch in 0..args.epochs {
        opt.set_lr(schedule.lr_at(epoch, args.lr));
        let (mut sum, mut n, start) = (0.0f64, 0usize, Instant::now());
        for (i, (x, y)) in train.batches(args.batch_size, &mut rng).enumerate() {
            let tape = Tape::new();
            let loss = model.forward(&tape, tape.constant(images(&x))).cross_entropy(&y);
            if !loss.item().is_finite() {
                return Err(common::diverged(loss.item().into(), epoch + 1, &format!("step {}", i + 1)));
            }
            sum += f64::from(loss.item()) * y.len() as f64;
            n += y.len();
            let grads = loss.backward();
            drop(tape);
            opt.step(&mut model, &grads);
        }
        let seconds = start.elapsed().as_secs_f64();
        let predicted = strata::nn::predict(&model, &test_x);
        let right = predicted.iter().zip(data.test.labels()).filter(|(p, l)| p == l).count();
        outcome.accuracy.push(right as f64 / data.test.len() as f64);
        outcome.epoch_seconds.push(seconds);
        log(&format!(
            "epoch {:>2}  train loss {:.4}  test accuracy {:.2}%  {:.1} s ({:.0} samples/s)",
            epoch + 1,
            sum / n as f64,
            outcome.accuracy[epoch] * 100.0,
            seconds,
            n as f64 / seconds
        ));
    }
    let shown = test_x.narrow(0, 0, 2000.min(test_x.dims()[0])).contiguous();
    // Per layer on 2,000 test digits: a conv layer's units are its channels,
    // so "dead" counts channels that are zero at every position of every digit.
    let tape = Tape::new();
    let mut trace = Trace::new();
    let _ = tape.no_grad(|| model.forward_traced(&tape, tape.constant(shown.clone()), &mut trace));
    let report = trace.activation_report();
    for (stage, layer) in [("conv1", "1"), ("conv2", "4"), ("dense", "7")] {
        if let Some(s) = report.layer(layer) {
            let dead = s.dead_units.as_deref().unwrap_or(&[]);
            let mut which: Vec<String> = dead.iter().take(8).map(ToString::to_string).collect();
            if dead.len() > 8 {
                which.push("…".into());
            }
            log(&format!(
                "{stage}: {} of {} units dead on 2,000 test digits [{}]",
                dead.len(),
                s.units,
                which.join(", ")
            ));
        }
    }
    let weight = model.named_params().into_iter().find(|(n, _)| n == "0.weight").expect("conv1").1;
    if !args.no_pictures {
        for path in pictures::write(&args.pictures, weight.value(), &model, &shown, &stages())? {
            log(&format!("wrote {}", path.display()));
        }
    }
    outcome.model = model;
    Ok(outcome)
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(path) = &args.save
        && let Err(e) = common::check_writable("--save", path)
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let start = Instant::now();
    match run(&args, |line| common::outln!("{line}")) {
        Ok(out) => {
            common::outln!("\n{}", out.model.summary(&[args.batch_size, 1, 28, 28]));
            let mean_epoch = out.epoch_seconds.iter().sum::<f64>() / out.epoch_seconds.len() as f64;
            common::outln!(
                "test accuracy {:.2}%  ({:.1} s per epoch, {:.1?} in all, {} threads)",
                out.accuracy.last().copied().unwrap_or(0.0) * 100.0,
                mean_epoch,
                start.elapsed(),
                rayon::current_num_threads()
            );
            if let Some(path) = &args.save {
                if let Err(e) = checkpoint::save(path, &out.model) {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
                common::outln!("saved {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
