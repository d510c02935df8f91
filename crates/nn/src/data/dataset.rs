//! [`Dataset`]: features `[n, d]` and class labels, split and batched with a seeded RNG.

use rand::seq::SliceRandom;
use rand::Rng;
use strata_tensor::{Float, Tensor};

use crate::error::Error;

/// Samples for classification: a `[n, d]` feature tensor and `n` labels in
/// `0..classes`.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use strata_nn::data::Dataset;
///
/// let mut rng = StdRng::seed_from_u64(7);
/// let data = Dataset::digits().unwrap().split(0.8, &mut rng);
/// assert_eq!((data.train.len(), data.test.len()), (1438, 359));
/// let sizes: Vec<usize> = data.train.batches(64, &mut rng).map(|(x, y)| y.len()).collect();
/// assert_eq!(sizes.len(), 23);                  // 22 full batches and the last, partial one kept
/// assert_eq!(*sizes.last().unwrap(), 1438 - 22 * 64);
/// ```
#[derive(Clone, Debug)]
pub struct Dataset<T: Float = f32> {
    features: Tensor<T>,
    labels: Vec<usize>,
    classes: usize,
}

/// A train/test split.
#[derive(Clone, Debug)]
pub struct Split<T: Float = f32> {
    /// The training samples.
    pub train: Dataset<T>,
    /// The held-out samples.
    pub test: Dataset<T>,
}

impl<T: Float> Dataset<T> {
    /// A dataset from features `[n, d]` and `n` labels in `0..classes`.
    ///
    /// # Errors
    /// [`Error::Data`] if the features are not 2-D, there are no samples, no
    /// features or no classes, the counts differ, a label is out of range, or
    /// a feature is NaN or infinite (naming the sample).
    pub fn new(features: Tensor<T>, labels: Vec<usize>, classes: usize) -> Result<Self, Error> {
        let bad = |reason: String| Err(Error::data("dataset", reason));
        if features.rank() != 2 {
            return bad(format!("features must be [samples, features], got {:?}", features.shape()));
        }
        if features.dims()[0] != labels.len() {
            return bad(format!("{} feature rows but {} labels", features.dims()[0], labels.len()));
        }
        if labels.is_empty() || features.dims()[1] == 0 || classes == 0 {
            return bad(format!(
                "a dataset needs samples, features and classes: got {} samples of {} features in {classes} classes",
                labels.len(),
                features.dims()[1]
            ));
        }
        if let Some((i, l)) = labels.iter().enumerate().find(|&(_, &l)| l >= classes) {
            return bad(format!("sample {i} has label {l}, outside 0..{classes}"));
        }
        let d = features.dims()[1];
        if let Some(pos) = features.contiguous_data().iter().position(|x| !x.is_finite()) {
            return bad(format!("sample {} feature {} is not finite", pos / d.max(1), pos % d.max(1)));
        }
        Ok(Dataset { features, labels, classes })
    }

    /// Number of samples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True if there are no samples.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Features per sample.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.features.dims()[1]
    }

    /// Number of classes.
    #[must_use]
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The `[n, d]` features.
    #[must_use]
    pub fn features(&self) -> &Tensor<T> {
        &self.features
    }

    /// The labels.
    #[must_use]
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The samples at `indices`, in that order.
    ///
    /// # Panics
    /// If an index is out of range.
    #[must_use]
    #[track_caller]
    pub fn subset(&self, indices: &[usize]) -> Dataset<T> {
        Dataset {
            features: self.features.select_rows(indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            classes: self.classes,
        }
    }

    /// The samples in a seeded random order.
    #[must_use]
    pub fn shuffled(&self, rng: &mut impl Rng) -> Dataset<T> {
        self.subset(&self.random_order(rng))
    }

    /// `0..len` in a seeded random order.
    fn random_order(&self, rng: &mut impl Rng) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.len()).collect();
        idx.shuffle(rng);
        idx
    }

    /// Shuffles (seeded) and splits: the first `train_fraction` of the
    /// shuffled samples train, the rest test.
    ///
    /// # Panics
    /// If `train_fraction` is not in `[0, 1]`.
    #[must_use]
    #[track_caller]
    pub fn split(&self, train_fraction: f64, rng: &mut impl Rng) -> Split<T> {
        assert!((0.0..=1.0).contains(&train_fraction), "Dataset::split: fraction {train_fraction} outside [0, 1]");
        let idx = self.random_order(rng);
        let n_train = (self.len() as f64 * train_fraction).round() as usize;
        Split { train: self.subset(&idx[..n_train]), test: self.subset(&idx[n_train..]) }
    }

    /// Mini-batches of `batch_size` in a fresh seeded order; the last,
    /// partial batch is kept.
    ///
    /// # Panics
    /// If `batch_size` is 0.
    #[track_caller]
    pub fn batches(&self, batch_size: usize, rng: &mut impl Rng) -> Batches<'_, T> {
        Batches::new(self, self.random_order(rng), batch_size)
    }

    /// Mini-batches in the stored order (for evaluation).
    ///
    /// # Panics
    /// If `batch_size` is 0.
    #[track_caller]
    pub fn batches_in_order(&self, batch_size: usize) -> Batches<'_, T> {
        Batches::new(self, (0..self.len()).collect(), batch_size)
    }

    /// The same samples as another float type (`Dataset::digits()?.cast::<f64>()`).
    #[must_use]
    pub fn cast<U: Float>(&self) -> Dataset<U> {
        Dataset { features: self.features.cast(), labels: self.labels.clone(), classes: self.classes }
    }

    /// The same samples with new features (standardised, say).
    pub(crate) fn with_features(&self, features: Tensor<T>) -> Dataset<T> {
        Dataset { features, labels: self.labels.clone(), classes: self.classes }
    }
}

impl<T: Float> Split<T> {
    /// Both halves standardised with a [`Standardizer`](crate::data::Standardizer)
    /// fitted on the training half only (so no test statistics leak into training).
    #[must_use]
    pub fn standardized(&self) -> Split<T> {
        let s = crate::data::Standardizer::fit(&self.train);
        Split { train: s.apply(&self.train), test: s.apply(&self.test) }
    }
}

/// An iterator of `(features [b, d], labels)` mini-batches.
pub struct Batches<'a, T: Float> {
    data: &'a Dataset<T>,
    order: Vec<usize>,
    size: usize,
    at: usize,
}

impl<'a, T: Float> Batches<'a, T> {
    #[track_caller]
    fn new(data: &'a Dataset<T>, order: Vec<usize>, size: usize) -> Self {
        assert!(size > 0, "Dataset::batches: batch size must be positive");
        Batches { data, order, size, at: 0 }
    }
}

impl<T: Float> Iterator for Batches<'_, T> {
    type Item = (Tensor<T>, Vec<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.order.len() {
            return None;
        }
        let end = (self.at + self.size).min(self.order.len());
        let idx = &self.order[self.at..end];
        self.at = end;
        let x = self.data.features.select_rows(idx);
        Some((x, idx.iter().map(|&i| self.data.labels[i]).collect()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.order.len() - self.at).div_ceil(self.size);
        (n, Some(n))
    }
}

impl<T: Float> ExactSizeIterator for Batches<'_, T> {}

#[cfg(test)]
mod tests {
    use rand::{rngs::StdRng, SeedableRng};

    use super::*;

    fn toy(n: usize) -> Dataset<f64> {
        Dataset::new(Tensor::from_fn([n, 2], |i| (i[0] * 2 + i[1]) as f64), (0..n).map(|i| i % 3).collect(), 3).unwrap()
    }

    #[test]
    fn split_is_seeded_and_disjoint() {
        let d = toy(10);
        let a = d.split(0.7, &mut StdRng::seed_from_u64(1));
        let b = d.split(0.7, &mut StdRng::seed_from_u64(1));
        assert_eq!(a.train.features().to_vec(), b.train.features().to_vec());
        assert_eq!((a.train.len(), a.test.len()), (7, 3));
        let mut firsts: Vec<f64> =
            a.train.features().to_vec().iter().chain(a.test.features().to_vec().iter()).copied().step_by(2).collect();
        firsts.sort_by(f64::total_cmp);
        assert_eq!(firsts, (0..10).map(|i| (2 * i) as f64).collect::<Vec<_>>());
    }

    #[test]
    fn batches_cover_every_sample_once_and_keep_the_last_partial_batch() {
        let d = toy(10);
        let batches: Vec<_> = d.batches(4, &mut StdRng::seed_from_u64(3)).collect();
        assert_eq!(batches.iter().map(|(_, y)| y.len()).collect::<Vec<_>>(), vec![4, 4, 2]);
        let mut seen: Vec<f64> = batches.iter().flat_map(|(x, _)| x.to_vec()).step_by(2).collect();
        seen.sort_by(f64::total_cmp);
        assert_eq!(seen, (0..10).map(|i| (2 * i) as f64).collect::<Vec<_>>());
        for (x, y) in &batches {
            for (row, &label) in y.iter().enumerate() {
                assert_eq!((x.get(&[row, 0]) as usize / 2) % 3, label, "labels travel with their rows");
            }
        }
    }

    #[test]
    fn bad_data_is_named() {
        let e = Dataset::new(Tensor::<f32>::zeros([3, 2]), vec![0, 1], 2).unwrap_err();
        assert!(e.to_string().contains("3 feature rows but 2 labels"), "{e}");
        let e = Dataset::new(Tensor::<f32>::zeros([2, 2]), vec![0, 5], 2).unwrap_err();
        assert!(e.to_string().contains("sample 1 has label 5"), "{e}");
        let mut x = Tensor::<f32>::zeros([2, 3]);
        x.as_mut_slice()[4] = f32::NAN;
        let e = Dataset::new(x, vec![0, 1], 2).unwrap_err();
        assert!(e.to_string().contains("sample 1 feature 1 is not finite"), "{e}");
    }
}
