//! The `custom_layer` example's own op and residual block, property-tested
//! with the autograd crate's strategies and gradcheck, as a user would.

#[allow(dead_code)]
#[path = "../../examples/custom_layer.rs"]
mod custom_layer;

use custom_layer::{ResidualBlock, ResidualMlp, Snake};
use proptest::prelude::*;
use rand::{rngs::StdRng, SeedableRng};
use strata::autograd::strategy;
use strata::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// ∂y/∂x = 1 + sin(2αx), ∂y/∂α = x·sin(2αx)/α − sin²(αx)/α², checked numerically.
    #[test]
    fn snake_gradients(x in strategy::tensor(vec![4, 3], -3.0..3.0), alpha in strategy::tensor(vec![3], 0.3..2.0)) {
        let r = gradcheck(|tape, v| tape.apply(Snake, &[v[0], v[1]]), &[x, alpha]);
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }

    #[test]
    fn residual_block_gradients(x in strategy::tensor(vec![3, 4], -2.0..2.0), seed in 0u64..1000) {
        let mut block = ResidualBlock::<f64>::new(4, 6, &mut StdRng::seed_from_u64(seed));
        let target = Tensor::from_fn([3, 4], |i| ((i[0] + 2 * i[1]) % 3) as f64 - 1.0);
        let r = gradcheck_module(&mut block, |tape, m| m.forward(tape, tape.constant(x.clone())).mse(&target), GradCheck::default());
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
        // And with respect to the input, through the residual path.
        let b = &block;
        let r = gradcheck(|tape, v| b.forward(tape, v[0]).square().sum(), std::slice::from_ref(&x));
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

#[test]
fn the_whole_residual_mlp_passes_gradcheck_and_names_its_params() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut model = ResidualMlp::<f64>::new(5, 4, 2, 3, &mut rng);
    let names: Vec<String> = model.named_params().into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"blocks.1.alpha".to_string()) && names.contains(&"blocks.0.fc1.weight".to_string()));
    let x = Tensor::rand_normal([6, 5], 0.0, 1.0, &mut rng);
    gradcheck_module(
        &mut model,
        |tape, m| m.forward(tape, tape.constant(x.clone())).cross_entropy(&[0, 1, 2, 0, 1, 2]),
        GradCheck::default(),
    )
    .unwrap();
}

#[test]
fn a_short_training_run_learns_the_digits() {
    use clap::Parser;
    let args = custom_layer::Args::parse_from(["custom_layer", "--epochs", "3"]);
    let (acc, summary, report) = custom_layer::run(&args).unwrap();
    assert!(acc > 0.9, "{acc}");
    assert!(summary.contains("ResidualBlock(64 → 128 snake → 64)"), "{summary}");
    assert!(report.layer("stem").unwrap().update_ratio.is_some());
    // The blocks are traced as one layer each: their weight-gradient norm and
    // update ratio are taken over all of their weights (they showed "-").
    for block in ["blocks.0", "blocks.1"] {
        let s = report.layer(block).unwrap();
        assert!(s.weight_grad_norm.is_some_and(|n| n > 0.0), "{block}: {s:?}");
        assert!(s.update_ratio.is_some_and(|r| r > 0.0), "{block}: {s:?}");
    }
}
