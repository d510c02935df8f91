//! Random fills from a caller-supplied RNG, so every run can be seeded.

use rand::Rng;

use crate::float::Float;
use crate::shape::Shape;
use crate::tensor::Tensor;

impl<T: Float> Tensor<T> {
    /// Values drawn uniformly from `[low, high)`.
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// use strata_tensor::Tensor;
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let t = Tensor::<f32>::rand_uniform([3, 4], -1.0, 1.0, &mut rng);
    /// assert!(t.to_vec().iter().all(|x| (-1.0..1.0).contains(x)));
    /// ```
    #[must_use]
    pub fn rand_uniform(shape: impl Into<Shape>, low: T, high: T, rng: &mut impl Rng) -> Tensor<T> {
        let shape = shape.into();
        let (lo, width) = (low.as_f64(), (high - low).as_f64());
        let data: Vec<T> = (0..shape.numel())
            .map(|_| {
                let v = T::of(lo + width * rng.random::<f64>());
                // Rounding to f32 can land exactly on `high`; keep the interval half-open.
                if v >= high && high > low {
                    low
                } else {
                    v
                }
            })
            .collect();
        Tensor::from_parts(data, shape)
    }

    /// Values drawn from a normal distribution (Box–Muller).
    #[must_use]
    pub fn rand_normal(shape: impl Into<Shape>, mean: T, std: T, rng: &mut impl Rng) -> Tensor<T> {
        let shape = shape.into();
        let n = shape.numel();
        let (mu, sigma) = (mean.as_f64(), std.as_f64());
        let mut data = Vec::with_capacity(n);
        while data.len() < n {
            // u1 in (0, 1] so ln(u1) is finite.
            let u1 = 1.0 - rng.random::<f64>();
            let u2 = rng.random::<f64>();
            let r = (-2.0 * u1.ln()).sqrt();
            let theta = std::f64::consts::TAU * u2;
            data.push(T::of(mu + sigma * r * theta.cos()));
            if data.len() < n {
                data.push(T::of(mu + sigma * r * theta.sin()));
            }
        }
        Tensor::from_parts(data, shape)
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use crate::Tensor;

    #[test]
    fn seeded_and_well_distributed() {
        let a = Tensor::<f64>::rand_normal([20_000], 1.0, 2.0, &mut StdRng::seed_from_u64(3));
        let b = Tensor::<f64>::rand_normal([20_000], 1.0, 2.0, &mut StdRng::seed_from_u64(3));
        assert_eq!(a.to_vec(), b.to_vec());
        let mean = a.mean_all();
        let var = a.sub_scalar(mean).square().mean_all();
        assert!((mean - 1.0).abs() < 0.05, "mean {mean}");
        assert!((var.sqrt() - 2.0).abs() < 0.05, "std {}", var.sqrt());
        let u = Tensor::<f32>::rand_uniform([20_000], 2.0, 3.0, &mut StdRng::seed_from_u64(4));
        assert!((u.mean_all() - 2.5).abs() < 0.01);
        assert!(u.min_all() >= 2.0 && u.max_all() < 3.0);
    }
}
