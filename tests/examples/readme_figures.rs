//! The figures README.md quotes are what the examples print today: the
//! main job's epoch lines and final accuracy, and the activations table.
//! Change an example's arithmetic and this fails until the README is
//! regenerated (`cargo run --release --example mnist_lite`, `… activations`).
//!
//! The figures are the same on every machine with FMA (the AVX2 and AVX-512
//! matmul kernels agree to the bit); the portable kernel rounds differently,
//! so on a CPU without FMA the check is skipped, saying so.

use clap::Parser;
use strata::tensor::Tensor;

use crate::example_activations::activations;
use crate::example_mnist_lite::mnist_lite;

const README: &str = include_str!("../../README.md");

fn fma_kernels() -> bool {
    let name = Tensor::<f32>::matmul_kernel_name();
    if name == "portable" {
        eprintln!("skipped: the README's figures were made with an FMA matmul kernel; this CPU runs `{name}`");
        return false;
    }
    true
}

/// The lines after the line containing `marker`, up to the end of the
/// fenced block it is in (or, if `skip_to_block`, of the next fenced block).
fn block_lines(marker: &str, skip_to_block: bool) -> Vec<&'static str> {
    let start = README.find(marker).unwrap_or_else(|| panic!("README has no `{marker}`"));
    let mut rest = &README[start..];
    if skip_to_block {
        rest = &rest[rest.find("```").expect("a fenced block follows")..];
    }
    let rest = &rest[rest.find('\n').unwrap() + 1..];
    rest[..rest.find("```").expect("closed")].lines().collect()
}

#[test]
fn the_main_jobs_figures_match_the_readme() {
    if !fma_kernels() {
        return;
    }
    let quoted = block_lines("$ cargo run --release --example mnist_lite", false);
    let mut printed = Vec::new();
    let out = mnist_lite::run(&mnist_lite::Args::parse_from(["mnist_lite"]), |l| printed.push(l.to_string())).unwrap();
    let acc = format!("test accuracy {:.2}%", out.accuracies.last().unwrap() * 100.0);
    for line in quoted.iter().filter(|l| l.starts_with("epoch")) {
        assert!(
            printed.iter().any(|p| p == line),
            "README quotes `{line}`; the example prints:\n{}",
            printed.join("\n")
        );
    }
    let last = quoted.iter().rev().find(|l| l.starts_with("test accuracy")).expect("a final accuracy line");
    assert!(last.starts_with(&acc), "README says `{last}`, the example prints `{acc}`");
    let prose = format!("{:.2}%", out.accuracies.last().unwrap() * 100.0);
    assert!(README.contains(&prose), "README's prose should quote {prose}");
}

#[test]
fn the_activations_table_matches_the_readme() {
    if !fma_kernels() {
        return;
    }
    let quoted = block_lines("`cargo run --release --example activations`", true);
    let (rows, _) =
        activations::run(&activations::Args::parse_from(["activations", "--out", &out_dir()]), |_| {}).unwrap();
    let printed = activations::table(&rows);
    assert_eq!(quoted.join("\n"), printed, "README's activations table is stale; regenerate it");
}

fn out_dir() -> String {
    std::env::temp_dir().join(format!("strata-readme-{}", std::process::id())).display().to_string()
}
