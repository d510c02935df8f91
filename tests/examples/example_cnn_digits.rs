//! The `cnn_digits` example: a short run learns the digits; bad flags are errors.

#[allow(dead_code)]
#[path = "../../examples/cnn_digits.rs"]
mod cnn_digits;

use clap::Parser;

#[test]
fn two_epochs_learn_the_digits() {
    let dir = std::env::temp_dir().join(format!("strata-cnn-digits-pictures-{}", std::process::id()));
    let args = cnn_digits::Args::parse_from(["cnn_digits", "--epochs", "2", "--pictures", dir.to_str().unwrap()]);
    let mut lines = Vec::new();
    let acc = cnn_digits::run(&args, |l| lines.push(l.to_string())).unwrap();
    assert_eq!(acc.len(), 2);
    assert!(acc[1] > 0.85, "{acc:?}");
    for name in ["filters.png", "feature_maps.png", "top_patches.png"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name}");
        assert!(lines.iter().any(|l| l.ends_with(name)), "{lines:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_flags_are_errors() {
    assert!(cnn_digits::Args::try_parse_from(["cnn_digits", "--epochs", "0"]).is_err());
    assert!(cnn_digits::Args::try_parse_from(["cnn_digits", "--lr", "-1"]).is_err());
    let help = <cnn_digits::Args as clap::CommandFactory>::command().render_help().to_string();
    assert!(help.starts_with("Train a small CNN on the shipped 8×8 digits"), "{help}");
}
