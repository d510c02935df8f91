//! The `mnist_lite` example: a short run learns, save → load predicts the
//! same, the saved weights do not depend on the thread count, bad input is an error.

#[allow(dead_code)]
#[path = "../../examples/mnist_lite.rs"]
pub(crate) mod mnist_lite;

use clap::Parser;

fn args(extra: &[&str]) -> mnist_lite::Args {
    let mut v = vec!["mnist_lite"];
    v.extend_from_slice(extra);
    mnist_lite::Args::parse_from(v)
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-example-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("digits.safetensors")
}

#[test]
fn a_short_run_is_above_90_percent_and_reports_its_layers() {
    let out = mnist_lite::run(&args(&["--epochs", "3"]), |_| {}).unwrap();
    assert_eq!(out.losses.len(), 3);
    assert!(out.losses[2] < out.losses[0]);
    assert!(*out.accuracies.last().unwrap() > 0.9, "{:?}", out.accuracies);
    assert_eq!(out.confusion.iter().flatten().sum::<usize>(), 359);
    assert!(out.report.layer("layers.0").unwrap().dead_fraction.is_some());
    assert!(out.summary.contains("total params: 9610"));
}

#[test]
fn save_then_load_gives_identical_predictions() {
    let path = tmp("roundtrip");
    let p = path.to_str().unwrap();
    let trained = mnist_lite::run(&args(&["--epochs", "2", "--hidden", "32", "--save", p]), |_| {}).unwrap();
    let loaded = mnist_lite::run(&args(&["--hidden", "32", "--load", p]), |_| {}).unwrap();
    assert_eq!(trained.predictions, loaded.predictions);
    assert_eq!(trained.accuracies.last(), loaded.accuracies.last());
    // Another architecture cannot load it, and says which tensor is wrong.
    let e = mnist_lite::run(&args(&["--hidden", "16", "--load", p]), |_| {}).err().unwrap();
    assert!(e.contains("layers.0.weight"), "{e}");
}

#[test]
fn saved_weights_are_bit_identical_on_one_and_two_threads() {
    let run_on = |threads: usize| {
        let path = tmp(&format!("threads{threads}"));
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        // Wide layers and big batches, so the matmuls are large enough to split across threads.
        let a =
            args(&["--epochs", "2", "--hidden", "256,128", "--batch-size", "512", "--save", path.to_str().unwrap()]);
        pool.install(|| mnist_lite::run(&a, |_| {}).unwrap());
        std::fs::read(path).unwrap()
    };
    assert_eq!(run_on(1), run_on(2));
}

#[test]
fn bad_flags_and_files_are_errors() {
    assert!(mnist_lite::Args::try_parse_from(["mnist_lite", "--hidden", "12,x"]).is_err());
    assert!(mnist_lite::Args::try_parse_from(["mnist_lite", "--epochs", "-1"]).is_err());
    let e = mnist_lite::run(&args(&["--hidden", "32,0"]), |_| {}).err().unwrap();
    assert!(e.contains("at least one unit"), "{e}");
    let e = mnist_lite::run(&args(&["--optimizer", "lbfgs", "--epochs", "1"]), |_| {}).err().unwrap();
    assert!(e.contains("unknown optimizer `lbfgs`"), "{e}");
    let garbage = tmp("garbage");
    std::fs::write(&garbage, b"definitely not safetensors").unwrap();
    let e = mnist_lite::run(&args(&["--load", garbage.to_str().unwrap()]), |_| {}).err().unwrap();
    assert!(e.contains("not a readable safetensors file"), "{e}");
    let e = mnist_lite::run(&args(&["--load", "/no/such/file.safetensors"]), |_| {}).err().unwrap();
    assert!(e.contains("/no/such/file.safetensors"), "{e}");
    // `--hidden` with no value was a model with no hidden layer.
    assert!(mnist_lite::Args::try_parse_from(["mnist_lite", "--hidden"]).is_err());
    for bad in [["--lr", "nan"], ["--lr", "-1"], ["--weight-decay", "-0.1"], ["--weight-decay", "inf"]] {
        assert!(mnist_lite::Args::try_parse_from(["mnist_lite", bad[0], bad[1]]).is_err(), "{bad:?}");
    }
    // An unwritable --save fails before training (it used to fail after it).
    let start = std::time::Instant::now();
    let e = mnist_lite::run(&args(&["--save", "/no/such/dir/model.safetensors", "--epochs", "1000"]), |_| {})
        .err()
        .unwrap();
    assert!(e.contains("--save /no/such/dir/model.safetensors: cannot write there"), "{e}");
    assert!(start.elapsed().as_secs() < 5, "checked before 1000 epochs of training");
}

#[test]
fn a_checkpoint_of_another_architecture_is_refused() {
    let path = tmp("gelu");
    mnist_lite::run(&args(&["--epochs", "1", "--activation", "gelu", "--save", path.to_str().unwrap()]), |_| {})
        .unwrap();
    let e = mnist_lite::run(&args(&["--load", path.to_str().unwrap()]), |_| {}).err().unwrap();
    assert!(
        e.contains("holds a Mlp(Dense(64 → 128, gelu)") && e.contains("not this model's Mlp(Dense(64 → 128, relu)"),
        "{e}"
    );
}

#[test]
fn a_diverging_run_says_so() {
    let e = mnist_lite::run(&args(&["--lr", "1e30", "--epochs", "3"]), |_| {}).err().unwrap();
    assert!(e.starts_with("training diverged: the loss became NaN in epoch 1"), "{e}");
}

#[test]
fn report_every_prints_the_layer_table_with_update_ratios() {
    let mut lines = Vec::new();
    mnist_lite::run(&args(&["--epochs", "2", "--report-every", "1"]), |l| lines.push(l.to_string())).unwrap();
    let tables: Vec<&String> = lines.iter().filter(|l| l.contains("upd/W")).collect();
    assert_eq!(tables.len(), 2, "{lines:#?}");
    let row = tables[0].lines().find(|l| l.starts_with("layers.0")).unwrap();
    assert!(!row.trim_end().ends_with('-'), "the update ratio is measured: {row}");
}
