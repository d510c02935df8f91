//! The `xor` example at its defaults and with bad flags.

#[allow(dead_code)]
#[path = "../../examples/xor.rs"]
mod xor;

#[path = "../../examples/common/mod.rs"]
mod common;

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
    assert!(xor::Args::try_parse_from(["xor", "--hidden", "0"]).is_err());
    // Refused before any work: a zero step count, and learning rates that
    // would train to NaN and exit 0 (`--lr -1` used to be read as a flag).
    let e = xor::Args::try_parse_from(["xor", "--steps", "0"]).unwrap_err().to_string();
    assert!(e.contains("--steps") && e.contains("must be at least 1"), "{e}");
    for lr in ["--lr=-1", "--lr=nan", "--lr=inf", "--lr=0"] {
        let e = xor::Args::try_parse_from(["xor", lr]).unwrap_err().to_string();
        assert!(e.contains("is not a finite, positive learning rate"), "{lr}: {e}");
    }
    let e = xor::Args::try_parse_from(["xor", "--lr", "-1"]).unwrap_err().to_string();
    assert!(e.contains("-1 is not a finite, positive learning rate"), "{e}");
}

#[test]
fn a_run_whose_loss_becomes_non_finite_is_an_error() {
    let args = xor::Args::parse_from(["xor", "--lr", "1e38", "--activation", "relu", "--steps", "200"]);
    let e = xor::run(&args).err().expect("diverges");
    assert!(e.starts_with("training diverged: the loss became"), "{e}");
}

#[test]
fn help_says_what_the_example_does() {
    let help = <xor::Args as clap::CommandFactory>::command().render_help().to_string();
    assert!(help.starts_with("Train a 2 → hidden → 1 network on XOR"), "{help}");
}

/// Every example prints through `common::outln!`, which ends the process
/// quietly (exit 0) when its reader closes the pipe (`example | head`);
/// `println!` panicked with "failed printing to stdout: Broken pipe" (exit
/// 101). The test runs itself as a child that prints until the pipe breaks.
#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    use std::process::{Command, Stdio};
    const CHILD: &str = "STRATA_BROKEN_PIPE_CHILD";
    if std::env::var_os(CHILD).is_some() {
        loop {
            common::outln!("a line nobody reads");
        }
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "example_xor::a_closed_stdout_ends_the_run_quietly", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read past the test harness's own header to the first printed line,
    // then go away.
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while std::io::BufRead::read_line(&mut reader, &mut line).unwrap() > 0 && !line.contains("nobody reads") {
        line.clear();
    }
    drop(reader);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
