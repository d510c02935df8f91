//! A small convolutional network on the shipped 8×8 digits.
//!
//! ```text
//! cargo run --release --example cnn_digits
//! cargo run --release --example cnn_digits -- --epochs 30 --seed 3
//! ```
//!
//! conv 3×3 (1 → 16) → relu → conv 3×3 (16 → 32) → relu → max-pool 2×2 →
//! flatten → dense 512 → 64 (relu) → 10, Adam with a cosine schedule, on
//! the same seeded 80/20 split as `mnist_lite`. Writes `filters.png`,
//! `feature_maps.png` and `top_patches.png` into `--pictures` (see
//! `cnn_mnist` for the same on 28×28 digits, where they say more).

mod common;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use strata::nn::optim::CosineAnnealing;
use strata::prelude::*;
use strata::rand::{rngs::StdRng, SeedableRng};

/// Train a small CNN on the shipped 8×8 digits.
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// Passes over the training split.
    #[arg(long, default_value_t = 20, value_parser = common::positive)]
    pub epochs: usize,
    /// Samples per step.
    #[arg(long, default_value_t = 32, value_parser = common::positive)]
    pub batch_size: usize,
    /// Peak learning rate (Adam, cosine-annealed to zero).
    #[arg(long, default_value_t = 2e-3, allow_negative_numbers = true, value_parser = common::learning_rate)]
    pub lr: f64,
    /// Seed for the split, the weights and the batch order.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Directory for the PNG pictures of the layers.
    #[arg(long, default_value = "target/pictures/cnn_digits")]
    pub pictures: PathBuf,
    /// Draw no pictures.
    #[arg(long)]
    pub no_pictures: bool,
}

/// The network, NCHW in, logits out.
pub fn cnn(rng: &mut StdRng) -> Sequential {
    let same = ConvParams::default().padding(1);
    Sequential::new()
        .push(Conv2d::new(1, 16, 3, same, rng))
        .push(Activation::Relu)
        .push(Conv2d::new(16, 32, 3, same, rng))
        .push(Activation::Relu)
        .push(MaxPool2d(Pool2d::new(2)))
        .push(Flatten)
        .push(Dense::new(32 * 4 * 4, 64, Activation::Relu, rng))
        .push(Linear::new(64, 10, rng))
}

/// `[n, 64]` rows as `[n, 1, 8, 8]` images.
fn images(x: Tensor<f32>) -> Tensor<f32> {
    let n = x.dims()[0];
    x.reshape([n, 1, 8, 8])
}

/// Trains and evaluates; `log` receives the per-epoch lines. Returns the
/// test accuracy after each epoch.
pub fn run(args: &Args, mut log: impl FnMut(&str)) -> Result<Vec<f64>, String> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let data = Dataset::digits().map_err(|e| e.to_string())?.split(0.8, &mut rng).standardized();
    let mut model = cnn(&mut rng);
    let mut opt = Adam::new(args.lr);
    let schedule = CosineAnnealing::new(args.epochs, 0.0);
    let test_x = images(data.test.features().clone());
    let mut accuracies = Vec::new();
    for epoch in 0..args.epochs {
        opt.set_lr(schedule.lr_at(epoch, args.lr));
        let (mut sum, mut n) = (0.0f32, 0usize);
        for (i, (x, y)) in data.train.batches(args.batch_size, &mut rng).enumerate() {
            let tape = Tape::new();
            let loss = model.forward(&tape, tape.constant(images(x))).cross_entropy(&y);
            if !loss.item().is_finite() {
                return Err(common::diverged(loss.item().into(), epoch + 1, &format!("step {}", i + 1)));
            }
            sum += loss.item() * y.len() as f32;
            n += y.len();
            let grads = loss.backward();
            drop(tape);
            opt.step(&mut model, &grads);
        }
        let predicted = strata::nn::predict(&model, &test_x);
        let right = predicted.iter().zip(data.test.labels()).filter(|(p, l)| p == l).count();
        accuracies.push(right as f64 / data.test.len() as f64);
        log(&format!(
            "epoch {:>3}  train loss {:.4}  test accuracy {:.2}%",
            epoch + 1,
            sum / n as f32,
            accuracies[epoch] * 100.0
        ));
    }
    if !args.no_pictures {
        let stages = [
            common::pictures::Stage { name: "conv1", after: 1, field: vec![(3, 1, 1)] },
            common::pictures::Stage { name: "conv2", after: 3, field: vec![(3, 1, 1), (3, 1, 1)] },
        ];
        let weight = model.named_params().into_iter().find(|(n, _)| n == "0.weight").expect("conv1").1;
        for path in common::pictures::write(&args.pictures, weight.value(), &model, &test_x, &stages)? {
            log(&format!("wrote {}", path.display()));
        }
    }
    Ok(accuracies)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let start = std::time::Instant::now();
    match run(&args, |line| common::outln!("{line}")) {
        Ok(acc) => {
            let mut rng = StdRng::seed_from_u64(args.seed);
            common::outln!("\n{}", cnn(&mut rng).summary(&[args.batch_size, 1, 8, 8]));
            common::outln!(
                "test accuracy {:.2}%  ({:.2?} in all)",
                acc.last().copied().unwrap_or(0.0) * 100.0,
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
