//! Digits CSV text: a dataset or an error naming the line and column.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_nn::data::Dataset;

fuzz_target!(|bytes: &[u8]| {
    let _ = Dataset::from_digits_csv(bytes, "fuzz.csv");
});
