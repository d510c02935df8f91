//! The `transfer` example on small 28×28 IDX files made here: every arm
//! runs for every seed and fraction, and the report says, in words, how
//! the pretrained features compared.

#[allow(dead_code)]
#[path = "../../examples/transfer.rs"]
mod transfer;

use clap::Parser;

#[test]
fn every_arm_runs_and_the_report_gives_a_verdict() {
    let dir = crate::idx_files::synthetic("transfer", 28, 200, 50);
    let args = transfer::Args::parse_from([
        "transfer",
        "--data",
        dir.to_str().unwrap(),
        "--seeds",
        "2",
        "--steps",
        "3",
        "--pretrain-epochs",
        "1",
        "--percent",
        "10,50",
    ]);
    let results = transfer::run(&args, |_| {}).unwrap();
    assert_eq!(results.len(), 2 * transfer::ARMS.len());
    assert!(results.values().all(|accs| accs.len() == 2 && accs.iter().all(|a| (0.0..=1.0).contains(a))));
    let report = transfer::report(&args, &results);
    assert!(report.contains("with 10% of the data, frozen pretrained convs"), "{report}");
    assert!(report.contains("with 50% of the data"), "{report}");
    let bad = transfer::Args::parse_from(["transfer", "--data", dir.to_str().unwrap(), "--percent", "0"]);
    assert!(transfer::run(&bad, |_| {}).err().unwrap().contains("--percent 0"));
    std::fs::remove_dir_all(&dir).unwrap();
}
