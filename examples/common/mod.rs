//! Small helpers the examples share: a progress bar that stays out of piped
//! output, and table printing. Included with `mod common;`.

#![allow(dead_code)]

use std::io::IsTerminal;

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
