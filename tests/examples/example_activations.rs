//! The `activations` example at a small size: the deep sigmoid stack's
//! gradients vanish, ReLU's do not, and the loss picture is written.

#[allow(dead_code)]
#[path = "../../examples/activations.rs"]
pub(crate) mod activations;

use clap::Parser;

#[test]
fn sigmoid_vanishes_relu_learns_and_the_plot_is_written() {
    let out = std::env::temp_dir().join(format!("strata-activations-{}", std::process::id()));
    let args = activations::Args::parse_from([
        "activations",
        "--only",
        "sigmoid,relu,tanh",
        "--epochs",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (rows, path) = activations::run(&args, |_| {}).unwrap();
    let row = |name: &str| rows.iter().find(|r| r.activation.name() == name).unwrap();
    assert!(row("sigmoid").grad_ratio < 1e-2, "sigmoid ratio {}", row("sigmoid").grad_ratio);
    assert!(row("relu").grad_ratio > 0.1, "relu ratio {}", row("relu").grad_ratio);
    assert!(row("relu").accuracy > 0.9 && row("sigmoid").accuracy < 0.5);
    assert!(row("relu").dead.is_some() && row("tanh").saturated.is_some() && row("relu").saturated.is_none());
    assert_eq!(row("relu").losses.len(), 4);
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("width=\"800\"") && svg.contains("sigmoid"), "{}", &svg[..200]);
}

#[test]
fn bad_flags_are_errors() {
    assert!(activations::Args::try_parse_from(["activations", "--only", "relu,nope"]).is_err());
    let args = activations::Args::parse_from(["activations", "--depth", "0"]);
    assert!(activations::run(&args, |_| {}).is_err());
}
