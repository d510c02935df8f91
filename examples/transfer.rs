//! Do early layers learn features that transfer? Measured on MNIST.
//!
//! ```text
//! cargo run --release --example transfer -- --data path/to/mnist
//! ```
//!
//! The `cnn_mnist` network (with a 5-way head) is trained on digits 0–4.
//! Its two conv blocks are then frozen and a new head (dense 3136 → 128 →
//! 5) is trained on digits 5–9, with 1% and 10% of their training images.
//! Two baselines get the same data and the same number of steps: the whole
//! network trained from scratch, and a new head on frozen *random* conv
//! blocks (which separates what pretraining taught the convs from what any
//! fixed random convolution already gives). Each arm runs over 5 seeds;
//! the table gives the mean and standard deviation of the test accuracy on
//! digits 5–9, and the last lines say whether the claim held.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use strata::prelude::*;
use strata::rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};

/// Measure whether pretrained conv features transfer from MNIST digits 0–4 to 5–9.
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// Directory with the four MNIST IDX files (gzipped or not).
    #[arg(long)]
    pub data: PathBuf,
    /// Seeds to average over (1, 2, …).
    #[arg(long, default_value_t = 5, value_parser = common::positive)]
    pub seeds: usize,
    /// Passes over digits 0–4 when pretraining.
    #[arg(long, default_value_t = 2, value_parser = common::positive)]
    pub pretrain_epochs: usize,
    /// Training steps (batch 32) of every arm on digits 5–9.
    #[arg(long, default_value_t = 600, value_parser = common::positive)]
    pub steps: usize,
    /// Fractions of the digits-5–9 training images, in percent.
    #[arg(long, default_values_t = vec![1.0, 10.0], value_delimiter = ',')]
    pub percent: Vec<f64>,
}

/// The `cnn_mnist` network with a `classes`-way head (`common::models::lenet`).
pub fn cnn(classes: usize, rng: &mut StdRng) -> Sequential {
    common::models::lenet(classes, rng)
}

const CONV_PARAMS: [&str; 2] = ["0", "3"];

fn is_conv(name: &str) -> bool {
    CONV_PARAMS.iter().any(|p| name.starts_with(&format!("{p}.")))
}

/// The images of `digits`, relabelled `0..digits.len()`.
fn digits(data: &Dataset<f32>, digits: std::ops::Range<usize>) -> Dataset<f32> {
    let keep: Vec<usize> = (0..data.len()).filter(|&i| digits.contains(&data.labels()[i])).collect();
    let sub = data.subset(&keep);
    let labels = sub.labels().iter().map(|l| l - digits.start).collect();
    Dataset::new(sub.features().clone(), labels, digits.len()).expect("labels in range")
}

fn images(x: &Tensor<f32>) -> Tensor<f32> {
    x.reshape([x.dims()[0], 1, 28, 28])
}

/// Trains `model` (its unfrozen parameters) on `data` for `steps` steps.
fn train(model: &mut Sequential, data: &Dataset<f32>, steps: usize, rng: &mut StdRng) -> Result<(), String> {
    let mut opt = Adam::new(1e-3);
    let mut done = 0;
    while done < steps {
        for (x, y) in data.batches(32, rng) {
            let tape = Tape::new();
            let loss = model.forward(&tape, tape.constant(images(&x))).cross_entropy(&y);
            if !loss.item().is_finite() {
                return Err(common::diverged(loss.item().into(), 1, &format!("step {}", done + 1)));
            }
            let grads = loss.backward();
            drop(tape);
            opt.step(model, &grads);
            done += 1;
            if done == steps {
                break;
            }
        }
    }
    Ok(())
}

fn accuracy(model: &Sequential, data: &Dataset<f32>) -> f64 {
    let predicted = strata::nn::predict(model, &images(data.features()));
    predicted.iter().zip(data.labels()).filter(|(p, l)| p == l).count() as f64 / data.len() as f64
}

/// A new 5-way network whose conv blocks are copies of `source`'s, frozen.
fn with_frozen_convs(source: &Sequential, rng: &mut StdRng) -> Sequential {
    let convs: BTreeMap<String, Tensor<f32>> =
        source.named_params().into_iter().filter(|(n, _)| is_conv(n)).map(|(n, p)| (n, p.value().clone())).collect();
    let mut model = cnn(5, rng);
    model.visit_params_mut(&mut |name, p| {
        if let Some(v) = convs.get(name) {
            p.set(v.clone());
        }
    });
    for prefix in CONV_PARAMS {
        model.freeze(prefix);
    }
    model
}

/// The arms of the experiment, in table order.
pub const ARMS: [&str; 3] = ["pretrained convs, frozen", "from scratch", "random convs, frozen"];

/// Accuracy per (percent, arm), one value per seed.
pub type Results = BTreeMap<(String, usize), Vec<f64>>;

/// Runs the experiment; `log` receives progress lines.
pub fn run(args: &Args, mut log: impl FnMut(&str)) -> Result<Results, String> {
    if let Some(p) = args.percent.iter().find(|p| !(p.is_finite() && **p > 0.0 && **p <= 100.0)) {
        return Err(format!("--percent {p}: must be in (0, 100]"));
    }
    let data = Dataset::mnist(&args.data).map_err(|e| e.to_string())?;
    let (source, source_test) = (digits(&data.train, 0..5), digits(&data.test, 0..5));
    let (target, target_test) = (digits(&data.train, 5..10), digits(&data.test, 5..10));
    let mut results = Results::new();
    for seed in 1..=args.seeds as u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut pretrained = cnn(5, &mut rng);
        let steps = args.pretrain_epochs * source.len().div_ceil(32);
        train(&mut pretrained, &source, steps, &mut rng)?;
        log(&format!(
            "seed {seed}: pretrained on digits 0-4, {:.2}% on their test set",
            100.0 * accuracy(&pretrained, &source_test)
        ));
        for &percent in &args.percent {
            let mut order: Vec<usize> = (0..target.len()).collect();
            order.shuffle(&mut rng);
            let n = ((target.len() as f64 * percent / 100.0).round() as usize).max(1);
            let subset = target.subset(&order[..n]);
            let mut arms = [
                with_frozen_convs(&pretrained, &mut rng),
                cnn(5, &mut rng),
                with_frozen_convs(&cnn(5, &mut rng), &mut rng),
            ];
            for (arm, model) in ARMS.iter().zip(arms.iter_mut()) {
                train(model, &subset, args.steps, &mut rng)?;
                let acc = accuracy(model, &target_test);
                log(&format!("  {percent}% of digits 5-9 ({n} images), {arm}: {:.2}%", acc * 100.0));
                results
                    .entry((format!("{percent}%"), ARMS.iter().position(|a| a == arm).unwrap()))
                    .or_default()
                    .push(acc);
            }
        }
    }
    Ok(results)
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len().max(2) - 1) as f64;
    (m, var.sqrt())
}

/// The table and the plain-words verdict.
pub fn report(args: &Args, results: &Results) -> String {
    let mut out =
        format!("test accuracy on digits 5-9, mean ± sd over {} seeds, {} steps each\n\n", args.seeds, args.steps);
    out += &format!("{:<8}{:>28}{:>28}{:>28}\n", "data", ARMS[0], ARMS[1], ARMS[2]);
    let mut verdicts = Vec::new();
    for percent in &args.percent {
        let key = format!("{percent}%");
        let cells: Vec<(f64, f64)> = (0..3).map(|a| mean_sd(&results[&(key.clone(), a)])).collect();
        out += &format!("{key:<8}");
        for (m, sd) in &cells {
            out += &format!("{:>28}", format!("{:.2}% ± {:.2}", m * 100.0, sd * 100.0));
        }
        out += "\n";
        let (pre, scratch, random) = (cells[0].0, cells[1].0, cells[2].0);
        let beats = |other: f64| if pre > other { "beat" } else { "did not beat" };
        verdicts.push(format!(
            "with {key} of the data, frozen pretrained convs {} training from scratch ({:+.2} points) and {} frozen random convs ({:+.2} points)",
            beats(scratch),
            (pre - scratch) * 100.0,
            beats(random),
            (pre - random) * 100.0
        ));
    }
    out += "\n";
    for v in &verdicts {
        out += &format!("{v}.\n");
    }
    out
}

fn main() -> ExitCode {
    let args = Args::parse();
    let start = std::time::Instant::now();
    match run(&args, |line| common::outln!("{line}")) {
        Ok(results) => {
            common::outln!("\n{}", report(&args, &results));
            common::outln!("({:.1?} in all)", start.elapsed());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
