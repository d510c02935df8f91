//! MNIST from the four standard IDX files.

use std::path::{Path, PathBuf};

use strata_tensor::Tensor;

use crate::data::dataset::{Dataset, Split};
use crate::data::idx;
use crate::error::Error;

/// The standard file names, without the optional `.gz`.
const FILES: [&str; 4] =
    ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

impl Dataset<f32> {
    /// MNIST from `dir`, which holds `train-images-idx3-ubyte`,
    /// `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
    /// `t10k-labels-idx1-ubyte`, each gzipped (`.gz`) or not. Pixels are
    /// scaled to `[0, 1]`; images are flattened to 784 features.
    ///
    /// # Errors
    /// [`Error::Io`] naming a missing file; [`Error::Data`] naming a file
    /// that is malformed, or whose counts or image size do not fit the others.
    pub fn mnist(dir: impl AsRef<Path>) -> Result<Split<f32>, Error> {
        let dir = dir.as_ref();
        let path = |name: &str| -> Result<PathBuf, Error> {
            let gz = dir.join(format!("{name}.gz"));
            let raw = dir.join(name);
            if gz.exists() {
                Ok(gz)
            } else if raw.exists() {
                Ok(raw)
            } else {
                Err(Error::io(
                    raw,
                    std::io::Error::new(std::io::ErrorKind::NotFound, format!("no {name}[.gz] in this directory")),
                ))
            }
        };
        let train = Self::idx_pair(&path(FILES[0])?, &path(FILES[1])?)?;
        let test = Self::idx_pair(&path(FILES[2])?, &path(FILES[3])?)?;
        if train.dim() != test.dim() {
            return Err(Error::data(
                dir.display().to_string(),
                format!("training images have {} pixels, test images {}", train.dim(), test.dim()),
            ));
        }
        Ok(Split { train, test })
    }

    /// A dataset from an IDX image file (`[n, rows, cols]` or `[n, d]`) and
    /// an IDX label file (`[n]`); pixels are divided by 255 (`f32`; [`cast`](Dataset::cast) for `f64`).
    ///
    /// # Errors
    /// As [`mnist`](Self::mnist).
    pub fn idx_pair(images: &Path, labels: &Path) -> Result<Self, Error> {
        let img = idx::read(images)?;
        let lab = idx::read(labels)?;
        let (iname, lname) = (images.display().to_string(), labels.display().to_string());
        if img.dims.len() < 2 {
            return Err(Error::data(iname, format!("images must have at least 2 dimensions, found {:?}", img.dims)));
        }
        if lab.dims.len() != 1 {
            return Err(Error::data(lname, format!("labels must have 1 dimension, found {:?}", lab.dims)));
        }
        let n = img.dims[0];
        if lab.dims[0] != n {
            return Err(Error::data(lname, format!("{} labels for {n} images in {iname}", lab.dims[0])));
        }
        if let Some((i, &l)) = lab.data.iter().enumerate().find(|&(_, &l)| l > 9) {
            return Err(Error::data(lname, format!("label {i} is {l}, not a digit 0-9")));
        }
        // The dimensions come from the file: multiply with checks.
        let d = img.dims[1..]
            .iter()
            .try_fold(1usize, |a, &x| a.checked_mul(x))
            .ok_or_else(|| Error::data(&iname, format!("image dimensions {:?} overflow", &img.dims[1..])))?;
        if n == 0 || d == 0 {
            return Err(Error::data(iname, format!("no images to train on: dimensions {:?}", img.dims)));
        }
        let pixels: Vec<f32> = img.data.iter().map(|&p| f32::from(p) / 255.0).collect();
        let features = Tensor::from_vec(pixels, [n, d]).map_err(|e| Error::data(iname, e.to_string()))?;
        Dataset::new(features, lab.data.iter().map(|&l| l as usize).collect(), 10)
    }
}
