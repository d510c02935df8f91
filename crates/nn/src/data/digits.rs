//! The shipped digits set (Strata's MNIST-lite), embedded in the binary.
//!
//! UCI "Optical Recognition of Handwritten Digits" test split, E. Alpaydin and
//! C. Kaynak (1998), CC BY 4.0, as shipped by scikit-learn
//! (`sklearn/datasets/data/digits.csv.gz`); see `data/README.md`.

use strata_tensor::Tensor;

use crate::data::dataset::Dataset;
use crate::data::gzip::maybe_gunzip;
use crate::error::Error;

const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../../../data/digits.csv.gz");

impl Dataset<f32> {
    /// The 1,797 8×8 handwritten digits (64 features, pixel counts 0–16,
    /// 10 classes), embedded so no path or download is needed.
    ///
    /// In `f32`, as training wants it; [`cast`](Dataset::cast) gives `f64`.
    ///
    /// # Errors
    /// Only if the embedded file were damaged (it is checked by the tests).
    pub fn digits() -> Result<Self, Error> {
        Self::from_digits_csv(&maybe_gunzip(DIGITS_CSV_GZ.to_vec(), "digits.csv.gz")?, "digits.csv.gz")
    }

    /// Parses the digits CSV format: rows of 64 integer pixels then a label.
    ///
    /// # Errors
    /// [`Error::Data`] naming the line and column of the first malformed value.
    pub fn from_digits_csv(text: &[u8], file: &str) -> Result<Self, Error> {
        let text = std::str::from_utf8(text).map_err(|e| Error::data(file, format!("not UTF-8 text ({e})")))?;
        let (mut features, mut labels) = (Vec::with_capacity(1797 * 64), Vec::with_capacity(1797));
        for (line_no, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != 65 {
                return Err(Error::data(file, format!("line {}: {} columns, expected 65", line_no + 1, fields.len())));
            }
            for (col, f) in fields.iter().enumerate() {
                let v: f64 = f.trim().parse().map_err(|_| {
                    Error::data(file, format!("line {} column {}: `{f}` is not a number", line_no + 1, col + 1))
                })?;
                if !v.is_finite() {
                    return Err(Error::data(
                        file,
                        format!("line {} column {}: `{f}` is not finite", line_no + 1, col + 1),
                    ));
                }
                if col < 64 {
                    features.push(v as f32);
                } else if !(0.0..=9.0).contains(&v) || v.fract() != 0.0 {
                    return Err(Error::data(file, format!("line {}: label `{f}` is not a digit 0-9", line_no + 1)));
                } else {
                    labels.push(v as usize);
                }
            }
        }
        let n = labels.len();
        if n == 0 {
            return Err(Error::data(file, "no rows: an empty file is not a dataset"));
        }
        let features = Tensor::from_vec(features, [n, 64]).map_err(|e| Error::data(file, e.to_string()))?;
        Dataset::new(features, labels, 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_digits_match_the_data_readme() {
        let d = Dataset::digits().unwrap();
        assert_eq!((d.len(), d.dim(), d.classes()), (1797, 64, 10));
        let mut counts = [0usize; 10];
        d.labels().iter().for_each(|&l| counts[l] += 1);
        assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
        assert_eq!(&d.labels()[..10], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let x = d.features().to_vec();
        assert!(x.iter().all(|&v| (0.0..=16.0).contains(&v)));
    }

    #[test]
    fn malformed_csv_is_named_by_line_and_column() {
        let mut row = vec!["0"; 64];
        row.push("3");
        let good = row.join(",");
        let bad = good.replacen('0', "x", 1);
        let text = format!("{good}\n{bad}\n");
        let e = Dataset::from_digits_csv(text.as_bytes(), "t.csv").unwrap_err();
        assert_eq!(e.to_string(), "t.csv: line 2 column 1: `x` is not a number");
        let e = Dataset::from_digits_csv(b"1,2,3\n", "t.csv").unwrap_err();
        assert!(e.to_string().contains("line 1: 3 columns, expected 65"));
        let nan = good.replacen('0', "NaN", 1);
        let e = Dataset::from_digits_csv(format!("{good}\n{good}\n{nan}\n").as_bytes(), "t.csv").unwrap_err();
        assert_eq!(e.to_string(), "t.csv: line 3 column 1: `NaN` is not finite");
        for empty in ["", "\n\n  \n"] {
            let e = Dataset::from_digits_csv(empty.as_bytes(), "t.csv").unwrap_err();
            assert_eq!(e.to_string(), "t.csv: no rows: an empty file is not a dataset");
        }
    }
}
