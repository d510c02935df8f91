//! What the hidden layers learned, as pictures.
//!
//! Trains an MLP on the digits, then writes
//! - `first_layer_weights.png`: each first-layer unit's 64 input weights as
//!   an 8×8 tile (red positive, blue negative): the strokes it looks for;
//! - `class_activations_layer{i}.png`, one per hidden layer: rows are the
//!   classes 0–9, columns the units, each cell the unit's mean activation on
//!   that class (scaled per unit): which features fire for which digit.
//!
//! ```text
//! cargo run --release --example hidden_features -- --out pictures
//! ```

mod common;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use rand::{rngs::StdRng, SeedableRng};
use strata::prelude::*;

/// Train on the digits and picture what the hidden layers learned.
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// Hidden layer widths, comma-separated.
    #[arg(long, default_value = "32,16", value_delimiter = ',', num_args = 1..)]
    pub hidden: Vec<usize>,
    /// Hidden activation.
    #[arg(long, default_value = "relu", value_parser = common::activation)]
    pub activation: Activation,
    /// Training epochs (Adam, lr 3e-3, weight decay 1e-3).
    #[arg(long, default_value_t = 30, value_parser = common::positive)]
    pub epochs: usize,
    /// Seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Directory for the pictures.
    #[arg(long, default_value = "strata-out")]
    pub out: PathBuf,
}

/// A written picture.
pub struct Picture {
    /// Where it went.
    pub path: PathBuf,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

/// Pixels per weight in a tile, and the gap between tiles.
const SCALE: usize = 8;
const GAP: usize = 4;
/// Pixels per cell of a class-activation map.
const CELL: usize = 14;

/// Trains, then writes the pictures; returns them and the test accuracy.
pub fn run(args: &Args) -> Result<(Vec<Picture>, f64), String> {
    if args.hidden.is_empty() || args.hidden.contains(&0) || args.epochs == 0 {
        return Err("--hidden needs positive widths and --epochs must be positive".into());
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    // Pixels scaled to [0, 1] rather than standardised: weights then stay in
    // pixel units, and weight decay fades those of pixels that never light up,
    // so the tiles show strokes instead of noise.
    let digits = Dataset::digits().map_err(|e| e.to_string())?;
    let scaled =
        Dataset::new(digits.features().div_scalar(16.0), digits.labels().to_vec(), 10).map_err(|e| e.to_string())?;
    let data = scaled.split(0.8, &mut rng);
    let mut sizes = vec![64];
    sizes.extend(&args.hidden);
    sizes.push(10);
    let mut model = Mlp::new(&sizes, args.activation, &mut rng);
    let mut opt = Adam::new(3e-3).weight_decay(1e-3);
    let bar = common::epoch_bar(args.epochs);
    for epoch in 0..args.epochs {
        for (x, y) in data.train.batches(32, &mut rng) {
            let tape = Tape::new();
            let loss = model.forward(&tape, tape.constant(x)).cross_entropy(&y);
            if !loss.item().is_finite() {
                return Err(common::diverged(loss.item().into(), epoch + 1, "training"));
            }
            opt.step(&mut model, &loss.backward());
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let acc = accuracy(&model, &data.test);
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;

    let mut pictures =
        vec![weight_tiles(model.layers[0].linear.weight.value(), &args.out.join("first_layer_weights.png"))?];
    // Mean activation of each hidden unit per class, on the training split.
    let tape = Tape::new();
    let mut trace = Trace::new();
    tape.no_grad(|| model.forward_traced(&tape, tape.constant(data.train.features().clone()), &mut trace));
    for (i, layer) in trace.layers().iter().take(args.hidden.len()).enumerate() {
        let h = layer.output.value();
        let units = h.dims()[1];
        let mut means = vec![vec![0.0f32; units]; 10];
        let mut counts = [0usize; 10];
        for (row, &label) in h.to_vec().chunks(units).zip(data.train.labels()) {
            counts[label] += 1;
            means[label].iter_mut().zip(row).for_each(|(m, v)| *m += v);
        }
        for (m, &c) in means.iter_mut().zip(&counts) {
            m.iter_mut().for_each(|v| *v /= c.max(1) as f32);
        }
        pictures.push(class_map(&means, &args.out.join(format!("class_activations_layer{i}.png")))?);
    }
    Ok((pictures, acc))
}

/// One 8×8 tile per unit of a `(units, 64)` weight, in rows of 8 tiles.
fn weight_tiles(w: &Tensor<f32>, path: &Path) -> Result<Picture, String> {
    let (units, inputs) = (w.dims()[0], w.dims()[1]);
    if inputs != 64 {
        return Err(format!("first layer has {inputs} inputs, not 64 (8×8)"));
    }
    let cols = units.min(8);
    let rows = units.div_ceil(cols);
    let tile = 8 * SCALE;
    let (width, height) = (cols * (tile + GAP) + GAP, rows * (tile + GAP) + GAP);
    let mut rgb = vec![255u8; width * height * 3];
    let data = w.to_vec();
    for u in 0..units {
        let weights = &data[u * 64..(u + 1) * 64];
        let max = weights.iter().fold(1e-12f32, |m, v| m.max(v.abs()));
        let (x0, y0) = (GAP + (u % cols) * (tile + GAP), GAP + (u / cols) * (tile + GAP));
        for py in 0..tile {
            for px in 0..tile {
                let v = weights[(py / SCALE) * 8 + px / SCALE] / max;
                let at = ((y0 + py) * width + x0 + px) * 3;
                rgb[at..at + 3].copy_from_slice(&diverging(v));
            }
        }
    }
    write_png(path, width, height, &rgb)
}

/// Classes × units heat map, each unit (column) scaled to its own maximum.
fn class_map(means: &[Vec<f32>], path: &Path) -> Result<Picture, String> {
    let units = means[0].len();
    let (width, height) = (units * CELL, means.len() * CELL);
    let mut rgb = vec![0u8; width * height * 3];
    for u in 0..units {
        let (lo, hi) = means.iter().fold((f32::MAX, f32::MIN), |(a, b), m| (a.min(m[u]), b.max(m[u])));
        for (c, m) in means.iter().enumerate() {
            let v = if hi > lo { (m[u] - lo) / (hi - lo) } else { 0.0 };
            for py in 0..CELL {
                for px in 0..CELL {
                    let at = ((c * CELL + py) * width + u * CELL + px) * 3;
                    rgb[at..at + 3].copy_from_slice(&sequential(v));
                }
            }
        }
    }
    write_png(path, width, height, &rgb)
}

/// Blue (−1) – white (0) – red (+1).
fn diverging(v: f32) -> [u8; 3] {
    let t = v.clamp(-1.0, 1.0);
    let fade = |t: f32| (255.0 * (1.0 - t)) as u8;
    if t >= 0.0 {
        [255, fade(t), fade(t)]
    } else {
        [fade(-t), fade(-t), 255]
    }
}

/// Dark blue (0) to yellow (1), a viridis-like ramp.
fn sequential(v: f32) -> [u8; 3] {
    let t = v.clamp(0.0, 1.0);
    let lerp = |a: f32, b: f32| (a + (b - a) * t) as u8;
    [lerp(68.0, 253.0), lerp(1.0, 231.0), lerp(84.0, 37.0)]
}

fn write_png(path: &Path, width: usize, height: usize, rgb: &[u8]) -> Result<Picture, String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let file = std::fs::File::create(path).map_err(|e| err(&e))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), width as u32, height as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| err(&e))?;
    writer.write_image_data(rgb).map_err(|e| err(&e))?;
    writer.finish().map_err(|e| err(&e))?;
    Ok(Picture { path: path.to_path_buf(), size: (width as u32, height as u32) })
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok((pictures, acc)) => {
            common::outln!(
                "trained 64 → {:?} → 10 ({}), test accuracy {:.2}%",
                args.hidden,
                args.activation.name(),
                acc * 100.0
            );
            for p in &pictures {
                common::outln!("wrote {} ({}×{})", p.path.display(), p.size.0, p.size.1);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
