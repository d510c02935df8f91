//! `Dataset::mnist` on small IDX files made here, and on the real MNIST when
//! `../shared/data/mnist` is present beside the checkout.

use std::io::Write;
use std::path::{Path, PathBuf};

use strata_nn::data::Dataset;
use strata_nn::Error;

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, dims.len() as u8];
    dims.iter().for_each(|d| b.extend_from_slice(&d.to_be_bytes()));
    b.extend_from_slice(data);
    b
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A directory with a 3-image train set and a 2-image test set of 2×2 pixels.
fn tiny(name: &str, compress: bool) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-mnist-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let files = [
        ("train-images-idx3-ubyte", idx(&[3, 2, 2], &[0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8])),
        ("train-labels-idx1-ubyte", idx(&[3], &[7, 0, 9])),
        ("t10k-images-idx3-ubyte", idx(&[2, 2, 2], &[9, 9, 9, 9, 0, 0, 0, 0])),
        ("t10k-labels-idx1-ubyte", idx(&[2], &[1, 2])),
    ];
    for (n, b) in files {
        if compress {
            std::fs::write(dir.join(format!("{n}.gz")), gz(&b)).unwrap();
        } else {
            std::fs::write(dir.join(n), b).unwrap();
        }
    }
    dir
}

#[test]
fn reads_raw_and_gzipped_directories() {
    for compress in [false, true] {
        let dir = tiny(if compress { "gz" } else { "raw" }, compress);
        let split = Dataset::mnist(&dir).unwrap();
        assert_eq!((split.train.len(), split.train.dim(), split.test.len()), (3, 4, 2));
        assert_eq!(split.train.labels(), &[7, 0, 9]);
        assert_eq!(split.train.features().to_vec()[..4], [0.0, 1.0, 0.2, 0.4]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn bad_directories_name_the_file() {
    let dir = tiny("missing", false);
    std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte")).unwrap();
    let e = Dataset::mnist(&dir).unwrap_err();
    assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("t10k-labels-idx1-ubyte"), "{e}");

    let dir = tiny("count", false);
    std::fs::write(dir.join("train-labels-idx1-ubyte"), idx(&[2], &[1, 2])).unwrap();
    let e = Dataset::mnist(&dir).unwrap_err().to_string();
    assert!(e.contains("train-labels-idx1-ubyte") && e.contains("2 labels for 3 images"), "{e}");

    let dir = tiny("cut", false);
    let full = idx(&[3, 2, 2], &[0; 12]);
    std::fs::write(dir.join("train-images-idx3-ubyte"), &full[..full.len() - 5]).unwrap();
    let e = Dataset::mnist(&dir).unwrap_err().to_string();
    assert!(e.contains("train-images-idx3-ubyte") && e.contains("truncated"), "{e}");

    let dir = tiny("label", false);
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), idx(&[2], &[1, 12])).unwrap();
    let e = Dataset::mnist(&dir).unwrap_err().to_string();
    assert!(e.contains("label 1 is 12"), "{e}");

    let dir = tiny("magic", false);
    std::fs::write(dir.join("train-labels-idx1-ubyte"), b"PK\x03\x04 not idx at all").unwrap();
    let e = Dataset::mnist(&dir).unwrap_err().to_string();
    assert!(e.contains("train-labels-idx1-ubyte") && e.contains("wrong magic number"), "{e}");
}

#[test]
fn the_real_mnist_when_present() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    if !dir.exists() {
        eprintln!("skipped: {} not present", dir.display());
        return;
    }
    let split = Dataset::mnist(&dir).unwrap();
    assert_eq!((split.train.len(), split.test.len(), split.train.dim()), (60_000, 10_000, 784));
    let mut counts = [0usize; 10];
    split.test.labels().iter().for_each(|&l| counts[l] += 1);
    assert_eq!(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    let x = split.train.features().to_vec();
    assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));
}
