//! The `double_backprop` example: the penalty shrinks the input gradient it
//! penalises, and bad flags are errors.

#[allow(dead_code)]
#[path = "../../examples/double_backprop.rs"]
mod double_backprop;

use clap::Parser;

#[test]
fn the_penalty_shrinks_the_input_gradient() {
    let args = double_backprop::Args::parse_from(["double_backprop", "--epochs", "4", "--lambda", "0,10"]);
    let rows = double_backprop::run(&args, |_| {}).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].accuracy > 0.9 && rows[1].accuracy > 0.9, "{rows:?}");
    assert!(rows[1].penalty < 0.7 * rows[0].penalty, "{rows:?}");
    let bad = double_backprop::Args::parse_from(["double_backprop", "--lambda", "-1"]);
    assert!(double_backprop::run(&bad, |_| {}).unwrap_err().contains("--lambda -1"));
}
