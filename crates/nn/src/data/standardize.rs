//! [`Standardizer`]: per-feature `(x − mean) / std`, fitted on training data.

use strata_tensor::{Float, Tensor};

use crate::data::dataset::Dataset;

/// Per-feature mean and standard deviation (population, as scikit-learn's
/// `StandardScaler`); a feature that is constant in the training data gets
/// scale 1, so it maps to 0 instead of dividing by zero.
#[derive(Clone, Debug)]
pub struct Standardizer<T: Float = f32> {
    /// Per-feature mean, `[d]`.
    pub mean: Tensor<T>,
    /// Per-feature scale, `[d]`.
    pub scale: Tensor<T>,
}

impl<T: Float> Standardizer<T> {
    /// Fits on `data`'s features.
    #[must_use]
    pub fn fit(data: &Dataset<T>) -> Self {
        let x = data.features();
        let mean = x.mean_axis(0, false);
        let var = x.sub(&mean).square().mean_axis(0, false);
        let scale = var.map(|v| if v > T::of(1e-12) { v.sqrt() } else { T::one() });
        Standardizer { mean, scale }
    }

    /// `data` with standardised features.
    ///
    /// # Panics
    /// If `data` has another number of features than the fitted data.
    #[must_use]
    #[track_caller]
    pub fn apply(&self, data: &Dataset<T>) -> Dataset<T> {
        data.with_features(self.transform(data.features()))
    }

    /// Standardises a `[n, d]` feature tensor.
    ///
    /// # Panics
    /// If `d` differs from the fitted data's.
    #[must_use]
    #[track_caller]
    pub fn transform(&self, x: &Tensor<T>) -> Tensor<T> {
        x.sub(&self.mean).div(&self.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitted_on_train_gives_zero_mean_unit_std_and_handles_constant_features() {
        let x = Tensor::<f64>::from_vec(vec![1.0, 5.0, 3.0, 5.0, 5.0, 5.0], [3, 2]).unwrap();
        let d = Dataset::new(x, vec![0, 1, 0], 2).unwrap();
        let s = Standardizer::fit(&d);
        let z = s.apply(&d).features().clone();
        assert!(z.mean_axis(0, false).allclose(&Tensor::zeros([2]), 1e-12, 1e-12));
        let col0: Vec<f64> = z.to_vec().iter().step_by(2).copied().collect();
        let std0 = (col0.iter().map(|v| v * v).sum::<f64>() / 3.0).sqrt();
        assert!((std0 - 1.0).abs() < 1e-12);
        assert_eq!(s.scale.to_vec()[1], 1.0);
    }
}
