//! The `xor` example at its defaults and with bad flags.

#[allow(dead_code)]
#[path = "../../examples/xor.rs"]
mod xor;

use clap::Parser;

#[test]
fn learns_xor_to_100_percent() {
    for seed in [1, 7, 11] {
        let args = xor::Args::parse_from(["xor", "--seed", &seed.to_string()]);
        let out = xor::run(&args).unwrap();
        assert_eq!(out.accuracy, 1.0, "seed {seed}: {:?}", out.probabilities);
        assert!(out.final_loss < 0.01, "seed {seed}: loss {}", out.final_loss);
        assert!(out.probabilities[1] > 0.9 && out.probabilities[0] < 0.1);
    }
}

#[test]
fn same_seed_same_output() {
    let args = xor::Args::parse_from(["xor", "--steps", "200"]);
    assert_eq!(xor::run(&args).unwrap().probabilities, xor::run(&args).unwrap().probabilities);
}

#[test]
fn bad_flags_are_errors_not_panics() {
    let e = xor::Args::try_parse_from(["xor", "--activation", "bogus"]).unwrap_err().to_string();
    assert!(e.contains("unknown activation `bogus`"), "{e}");
    assert!(xor::Args::try_parse_from(["xor", "--hidden", "-3"]).is_err());
    let args = xor::Args::parse_from(["xor", "--hidden", "0"]);
    assert!(xor::run(&args).err().unwrap().contains("--hidden"));
}
