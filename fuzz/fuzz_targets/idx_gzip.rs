//! IDX files as read from disk, gzipped or not (the inflating reader bounds
//! what it inflates by what the header promises): never a panic.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use strata_nn::data::idx;

fuzz_target!(|bytes: &[u8]| {
    let path = std::env::temp_dir().join(format!("strata-fuzz-idx-{}", std::process::id()));
    // Half the inputs gzipped by us (valid streams of arbitrary content),
    // half as they come (arbitrary, mostly invalid, streams).
    let data = if bytes.first().is_some_and(|b| b & 1 == 1) {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bytes[1..]).unwrap();
        gz.finish().unwrap()
    } else {
        bytes.to_vec()
    };
    std::fs::write(&path, &data).unwrap();
    let _ = idx::read(&path);
});
