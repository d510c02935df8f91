//! Small helpers the examples share: printing that ends quietly when the
//! reader goes away, flag checks, a progress bar that stays out of piped
//! output, and table printing. Included with `mod common;`.

#![allow(dead_code, unused_macros, unused_imports)]

pub mod models;
pub mod pictures;

use std::io::{IsTerminal, Write};
use std::path::Path;

/// `println!` that ends the process quietly (exit 0) when stdout is a closed
/// pipe (`example | head`), where `println!` panics with "failed printing
/// to stdout: Broken pipe". Other write errors end it with exit 1.
macro_rules! outln {
    ($($arg:tt)*) => {
        common::write_line(::std::format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// The line-writer behind [`outln!`].
pub fn write_line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to stdout: {e}");
        std::process::exit(1);
    }
}

/// A learning rate for clap: finite and positive (`--lr=-1`, `nan`, `inf`
/// and `0` are refused before any work).
pub fn learning_rate(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number"))?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("{v} is not a finite, positive learning rate"))
    }
}

/// A weight decay for clap: finite and not negative.
pub fn weight_decay(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number"))?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("{v} is not a finite, non-negative weight decay"))
    }
}

/// A count that must be at least 1 (`--steps`, `--epochs`, `--batch-size`).
pub fn positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

/// Fails unless a file can be written at `path`, by creating and removing a
/// scratch file beside it: a `--save` that cannot succeed is reported before
/// training, not after it.
pub fn check_writable(flag: &str, path: &Path) -> Result<(), String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if path.is_dir() {
        return Err(format!("{flag} {}: is a directory", path.display()));
    }
    let probe = dir.join(format!(".strata-write-check-{}", std::process::id()));
    std::fs::File::create(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| format!("{flag} {}: cannot write there ({e})", path.display()))
}

/// An error for a training step whose loss is not finite.
pub fn diverged(loss: f64, epoch: usize, what: &str) -> String {
    format!("training diverged: the loss became {loss} in epoch {epoch} ({what}); try a smaller --lr")
}

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar over `epochs`, drawn only when stdout is a terminal (so logs and
/// pipes get clean lines).
pub fn epoch_bar(epochs: usize) -> ProgressBar {
    let bar = ProgressBar::new(epochs as u64);
    if std::io::stdout().is_terminal() {
        bar.set_style(
            ProgressStyle::with_template("{bar:30.cyan/blue} epoch {pos}/{len} {msg} [{elapsed_precise}]")
                .expect("valid template"),
        );
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

/// Shows a line above the bar, or hands it to `log` when the bar is hidden
/// (piped output, tests).
pub fn say(bar: &ProgressBar, line: &str, log: &mut dyn FnMut(&str)) {
    if bar.is_hidden() {
        log(line);
    } else {
        bar.println(line);
    }
}

/// A confusion matrix (`m[true][predicted]`) as a table.
pub fn confusion_table(m: &[Vec<usize>]) -> String {
    let mut s = String::from("true\\pred");
    for j in 0..m.len() {
        s.push_str(&format!("{j:>5}"));
    }
    s.push('\n');
    for (i, row) in m.iter().enumerate() {
        s.push_str(&format!("{i:>9}"));
        for v in row {
            s.push_str(&format!("{v:>5}"));
        }
        s.push('\n');
    }
    s
}

/// An optimizer chosen by name: `sgd` (momentum 0.9), `adam`, `adamw`,
/// `rmsprop`, `adagrad`, with weight decay `wd` (decoupled for AdamW, L2 for the rest).
pub fn optimizer(name: &str, lr: f64, wd: f64) -> Result<Box<dyn strata::nn::optim::Optimizer<f32>>, String> {
    use strata::nn::optim::{Adagrad, Adam, AdamW, RmsProp, Sgd};
    Ok(match name {
        "sgd" => Box::new(Sgd::new(lr).momentum(0.9).weight_decay(wd)),
        "adam" => Box::new(Adam::new(lr).weight_decay(wd)),
        "adamw" => Box::new(AdamW::new(lr).weight_decay(wd)),
        "rmsprop" => Box::new(RmsProp::new(lr).weight_decay(wd)),
        "adagrad" => Box::new(Adagrad::new(lr).weight_decay(wd)),
        other => return Err(format!("unknown optimizer `{other}` (sgd, adam, adamw, rmsprop, adagrad)")),
    })
}

/// Parses an activation name for clap (`relu`, `leaky_relu`, `swish`, …).
pub fn activation(s: &str) -> Result<strata::prelude::Activation, String> {
    s.parse()
}
