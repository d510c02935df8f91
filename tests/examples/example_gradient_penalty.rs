//! The `gradient_penalty` example: with the penalty the critic's gradient
//! norms on mixed images stay near 1; without, they grow.

#[allow(dead_code)]
#[path = "../../examples/gradient_penalty.rs"]
mod gradient_penalty;

use clap::Parser;

#[test]
fn the_penalty_keeps_the_critic_near_1_lipschitz() {
    let args = gradient_penalty::Args::parse_from(["gradient_penalty", "--steps", "150"]);
    let rows = gradient_penalty::run(&args, |_| {}).unwrap();
    let (with, without) = (&rows[0], &rows[1]);
    assert_eq!((with.lambda, without.lambda), (10.0, 0.0));
    assert!((with.norm_mean - 1.0).abs() < 0.5, "{rows:?}");
    assert!(without.norm_mean > 3.0 * with.norm_mean, "{rows:?}");
    assert!(with.estimate > 0.0, "the critic scores real above fake: {rows:?}");
    let same = gradient_penalty::Args::parse_from(["gradient_penalty", "--real", "3", "--fake", "3"]);
    assert!(gradient_penalty::run(&same, |_| {}).unwrap_err().contains("two different digits"));
}
