//! The `mnist` example on small IDX files made here (and, briefly, on the
//! real MNIST when `../shared/data/mnist` is present), and on bad directories.

#[allow(dead_code)]
#[path = "../../examples/mnist.rs"]
mod mnist;

use std::path::{Path, PathBuf};

use clap::Parser;

/// 200 training and 50 test "images" of 4×4 pixels: class k lights pixel k.
fn synthetic(name: &str) -> PathBuf {
    crate::idx_files::synthetic(&format!("mnist-{name}"), 4, 200, 50)
}

fn args(dir: &Path, extra: &[&str]) -> mnist::Args {
    let mut v = vec!["mnist", "--data", dir.to_str().unwrap()];
    v.extend_from_slice(extra);
    mnist::Args::parse_from(v)
}

#[test]
fn trains_on_small_idx_files() {
    let dir = synthetic("ok");
    let out =
        mnist::run(&args(&dir, &["--epochs", "20", "--batch-size", "20", "--lr", "1e-2", "--hidden", "32"]), |_| {})
            .unwrap();
    assert!(*out.accuracies.last().unwrap() > 0.95, "{:?}", out.accuracies);
    assert_eq!(out.confusion.iter().flatten().sum::<usize>(), 50);
}

#[test]
fn missing_or_malformed_files_are_named() {
    let dir = synthetic("missing");
    std::fs::remove_file(dir.join("t10k-images-idx3-ubyte")).unwrap();
    let e = mnist::run(&args(&dir, &[]), |_| {}).err().unwrap();
    assert!(e.contains("t10k-images-idx3-ubyte"), "{e}");

    let dir = synthetic("cut");
    let bytes = std::fs::read(dir.join("t10k-labels-idx1-ubyte")).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), &bytes[..bytes.len() - 3]).unwrap();
    let e = mnist::run(&args(&dir, &[]), |_| {}).err().unwrap();
    assert!(e.contains("t10k-labels-idx1-ubyte") && e.contains("truncated"), "{e}");

    let e = mnist::run(&args(Path::new("/no/such/dir"), &[]), |_| {}).err().unwrap();
    assert!(e.contains("/no/such/dir"), "{e}");
    assert!(mnist::Args::try_parse_from(["mnist"]).is_err(), "--data is required");
    let e = mnist::Args::try_parse_from(["mnist", "--data", "x", "--train-limit", "0"]).unwrap_err().to_string();
    assert!(e.contains("--train-limit") && e.contains("must be at least 1"), "{e}");
}

#[test]
fn the_real_mnist_end_to_end_when_present() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    if !dir.exists() {
        eprintln!("skipped: {} not present", dir.display());
        return;
    }
    // A quick run on 6,000 images; the full run's 98% is measured by the example itself.
    let out = mnist::run(&args(&dir, &["--epochs", "2", "--train-limit", "6000"]), |_| {}).unwrap();
    assert!(*out.accuracies.last().unwrap() > 0.85, "{:?}", out.accuracies);
    assert_eq!(out.confusion.iter().flatten().sum::<usize>(), 10_000);
}
