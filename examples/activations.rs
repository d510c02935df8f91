//! The seed's comparison, measured: the same deep network on the digits
//! with each activation.
//!
//! Sigmoid and tanh saturate, so in a deep stack their small derivatives
//! multiply and the early layers barely learn; ReLU keeps gradients whole
//! but units can die; leaky ReLU, ELU, swish, mish and GELU keep a gradient
//! everywhere. The table shows it in numbers and `loss_curves.svg` as curves.
//!
//! ```text
//! cargo run --release --example activations
//! cargo run --release --example activations -- --depth 10 --only sigmoid,relu,mish
//! ```

mod common;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use plotters::prelude::*;
use rand::{rngs::StdRng, SeedableRng};
use strata::prelude::*;

/// Train the same deep MLP with each activation and compare.
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// Hidden layers.
    #[arg(long, default_value_t = 6)]
    pub depth: usize,
    /// Units per hidden layer.
    #[arg(long, default_value_t = 64)]
    pub width: usize,
    /// Activations to compare, comma-separated.
    #[arg(long, default_value = "sigmoid,tanh,relu,leaky_relu,elu,swish,mish,gelu", value_delimiter = ',', value_parser = common::activation)]
    pub only: Vec<Activation>,
    /// Epochs per activation.
    #[arg(long, default_value_t = 30, value_parser = common::positive)]
    pub epochs: usize,
    /// SGD learning rate (momentum 0.9): plain SGD shows the gradients' scale.
    #[arg(long, default_value_t = 0.02, allow_negative_numbers = true, value_parser = common::learning_rate)]
    pub lr: f64,
    /// Samples per step.
    #[arg(long, default_value_t = 32, value_parser = common::positive)]
    pub batch_size: usize,
    /// Seed (the split and every network's initial weights).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Directory for `loss_curves.svg`.
    #[arg(long, default_value = "strata-out")]
    pub out: PathBuf,
}

/// One activation's results.
pub struct Row {
    /// The activation.
    pub activation: Activation,
    /// Final test accuracy.
    pub accuracy: f64,
    /// First epoch with test accuracy ≥ 90 %, if any.
    pub epochs_to_90: Option<usize>,
    /// `‖∇W₁‖ / ‖∇W_last‖` at initialisation (first batch).
    pub grad_ratio: f64,
    /// Fraction of dead ReLU units over the hidden layers at the end (ReLU only).
    pub dead: Option<f64>,
    /// Fraction of saturated pre-activations at the end (sigmoid/tanh only).
    pub saturated: Option<f64>,
    /// Mean training loss per epoch.
    pub losses: Vec<f64>,
}

/// Trains one network per activation.
pub fn run(args: &Args, mut log: impl FnMut(&str)) -> Result<(Vec<Row>, PathBuf), String> {
    if args.depth == 0 || args.width == 0 || args.epochs == 0 || args.batch_size == 0 || args.only.is_empty() {
        return Err("--depth, --width, --epochs, --batch-size and --only must be non-empty/positive".into());
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    let data = Dataset::digits().map_err(|e| e.to_string())?.split(0.8, &mut rng).standardized();
    let mut sizes = vec![data.train.dim()];
    sizes.extend(std::iter::repeat_n(args.width, args.depth));
    sizes.push(data.train.classes());
    let bar = common::epoch_bar(args.epochs * args.only.len());
    let mut rows = Vec::new();
    for &act in &args.only {
        let mut rng = StdRng::seed_from_u64(args.seed);
        let mut model = Mlp::new(&sizes, act, &mut rng);
        let mut opt = Sgd::new(args.lr).momentum(0.9);
        let mut losses = Vec::new();
        let mut epochs_to_90 = None;
        let mut grad_ratio = f64::NAN;
        let mut acc = 0.0;
        for epoch in 0..args.epochs {
            let (mut sum, mut n) = (0.0f64, 0usize);
            for (x, y) in data.train.batches(args.batch_size, &mut rng) {
                let tape = Tape::new();
                let x = tape.constant(x);
                let (loss, grads) = if grad_ratio.is_nan() {
                    // The very first step: how evenly the gradient reaches the layers at init.
                    let mut trace = Trace::new();
                    let loss = model.forward_traced(&tape, x, &mut trace).cross_entropy(&y);
                    let grads = loss.backward();
                    grad_ratio = trace.report(&grads).grad_norm_ratio().unwrap_or(f64::NAN);
                    (loss, grads)
                } else {
                    let loss = model.forward(&tape, x).cross_entropy(&y);
                    (loss, loss.backward())
                };
                if !loss.item().is_finite() {
                    return Err(common::diverged(loss.item().into(), epoch + 1, act.name()));
                }
                sum += f64::from(loss.item()) * y.len() as f64;
                n += y.len();
                opt.step(&mut model, &grads);
            }
            losses.push(sum / n as f64);
            acc = accuracy(&model, &data.test);
            if acc >= 0.9 && epochs_to_90.is_none() {
                epochs_to_90 = Some(epoch + 1);
            }
            bar.inc(1);
        }
        // Hidden layers of the trained network on the test split.
        let tape = Tape::new();
        let mut trace = Trace::new();
        let _ = tape.no_grad(|| model.forward_traced(&tape, tape.constant(data.test.features().clone()), &mut trace));
        let report = trace.activation_report();
        let hidden = &report.layers()[..args.depth];
        let mean = |f: &dyn Fn(&strata::nn::diagnostics::LayerStats) -> Option<f64>| {
            let v: Vec<f64> = hidden.iter().filter_map(f).collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let row = Row {
            activation: act,
            accuracy: acc,
            epochs_to_90,
            grad_ratio,
            dead: mean(&|s| s.dead_fraction),
            saturated: mean(&|s| s.saturated_fraction),
            losses,
        };
        common::say(&bar, &format!("{:<11} test accuracy {:.2}%", act.name(), acc * 100.0), &mut log);
        rows.push(row);
    }
    bar.finish_and_clear();
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let path = args.out.join("loss_curves.svg");
    plot(&rows, &path, args).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((rows, path))
}

/// All loss curves in one SVG, log-scaled.
fn plot(rows: &[Row], path: &Path, args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let all = rows.iter().flat_map(|r| r.losses.iter().copied()).filter(|v| v.is_finite() && *v > 0.0);
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Training loss, {} hidden layers of {}, SGD lr {}", args.depth, args.width, args.lr),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(1usize..args.epochs, (lo * 0.8..hi * 1.2).log_scale())?;
    chart.configure_mesh().x_desc("epoch").y_desc("cross-entropy").draw()?;
    for (i, r) in rows.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(r.losses.iter().enumerate().map(|(e, &l)| (e + 1, l)), color.stroke_width(2)))?
            .label(r.activation.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

/// The comparison table, as the README quotes it.
pub fn table(rows: &[Row]) -> String {
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0));
    let mut out = String::from("activation   test acc  epochs→90%  ‖∇W₁‖/‖∇W_last‖ at init  dead units  saturated");
    for r in rows {
        out.push_str(&format!(
            "\n{:<11}  {:>7.2}%  {:>10}  {:>24.2e}  {:>10}  {:>9}",
            r.activation.name(),
            r.accuracy * 100.0,
            r.epochs_to_90.map_or("never".to_string(), |e| e.to_string()),
            r.grad_ratio,
            pct(r.dead),
            pct(r.saturated)
        ));
    }
    out
}

fn main() -> ExitCode {
    let args = Args::parse();
    let start = std::time::Instant::now();
    match run(&args, |line| common::outln!("{line}")) {
        Ok((rows, path)) => {
            common::outln!(
                "\n{} hidden layers of {} on the digits, SGD (momentum 0.9) lr {}, {} epochs, seed {}",
                args.depth,
                args.width,
                args.lr,
                args.epochs,
                args.seed
            );
            common::outln!("{}", table(&rows));
            common::outln!("loss curves: {}  ({:.1?} in all)", path.display(), start.elapsed());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
