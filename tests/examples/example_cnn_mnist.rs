//! The `cnn_mnist` example on small 28×28 IDX files made here: it trains,
//! reports per-epoch times, names dead channels and writes its pictures;
//! bad directories are errors naming the file.

#[allow(dead_code)]
#[path = "../../examples/cnn_mnist.rs"]
mod cnn_mnist;

use clap::Parser;

#[test]
fn trains_reports_and_draws_on_small_idx_files() {
    let dir = crate::idx_files::synthetic("cnn-ok", 28, 120, 40);
    let pictures = dir.join("pictures");
    let args = cnn_mnist::Args::parse_from([
        "cnn_mnist",
        "--data",
        dir.to_str().unwrap(),
        "--epochs",
        "3",
        "--lr",
        "3e-3",
        "--batch-size",
        "20",
        "--pictures",
        pictures.to_str().unwrap(),
    ]);
    let mut lines = Vec::new();
    let out = cnn_mnist::run(&args, |l| lines.push(l.to_string())).unwrap();
    assert_eq!(out.accuracy.len(), 3);
    assert_eq!(out.epoch_seconds.len(), 3);
    assert!(*out.accuracy.last().unwrap() > 0.9, "{:?}", out.accuracy);
    assert!(lines.iter().any(|l| l.starts_with("conv1: ") && l.contains("of 32 units dead")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("conv2: ") && l.contains("of 64 units dead")), "{lines:?}");
    for name in ["filters.png", "feature_maps.png", "top_patches.png"] {
        assert_eq!(&std::fs::read(pictures.join(name)).unwrap()[1..4], b"PNG", "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_file_is_named() {
    let dir = crate::idx_files::synthetic("cnn-missing", 28, 20, 10);
    std::fs::remove_file(dir.join("train-labels-idx1-ubyte")).unwrap();
    let args = cnn_mnist::Args::parse_from(["cnn_mnist", "--data", dir.to_str().unwrap()]);
    let e = cnn_mnist::run(&args, |_| {}).err().unwrap();
    assert!(e.contains("train-labels-idx1-ubyte"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
