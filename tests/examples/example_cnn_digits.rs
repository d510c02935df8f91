//! The `cnn_digits` example: a short run learns the digits; bad flags are errors.

#[allow(dead_code)]
#[path = "../../examples/cnn_digits.rs"]
mod cnn_digits;

use clap::Parser;

#[test]
fn two_epochs_learn_the_digits() {
    let args = cnn_digits::Args::parse_from(["cnn_digits", "--epochs", "2"]);
    let acc = cnn_digits::run(&args, |_| {}).unwrap();
    assert_eq!(acc.len(), 2);
    assert!(acc[1] > 0.85, "{acc:?}");
}

#[test]
fn bad_flags_are_errors() {
    assert!(cnn_digits::Args::try_parse_from(["cnn_digits", "--epochs", "0"]).is_err());
    assert!(cnn_digits::Args::try_parse_from(["cnn_digits", "--lr", "-1"]).is_err());
    let help = <cnn_digits::Args as clap::CommandFactory>::command().render_help().to_string();
    assert!(help.starts_with("Train a small CNN on the shipped 8×8 digits"), "{help}");
}
