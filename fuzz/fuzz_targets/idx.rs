//! Raw IDX bytes: an array or a typed error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_nn::data::idx;

fuzz_target!(|bytes: &[u8]| {
    let _ = idx::parse(bytes, "fuzz");
});
