//! Weight initialisers and the default that fits each activation.
//!
//! The scale of the first weights decides whether signals and gradients keep
//! their size through a deep stack: Xavier/Glorot (`Var[w] = 2/(fan_in+fan_out)`)
//! for sigmoid and tanh, He/Kaiming (`Var[w] = 2/fan_in`) for the ReLU family,
//! LeCun (`Var[w] = 1/fan_in`) for SELU's self-normalising fixed point. Gains
//! follow PyTorch's `calculate_gain`.

use rand::Rng;
use strata_autograd::Activation;
use strata_tensor::{Float, Shape, Tensor};

/// Uniform or normal draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dist {
    /// Uniform on `[-bound, bound]` with the scheme's variance.
    Uniform,
    /// Normal with mean 0 and the scheme's standard deviation.
    Normal,
}

/// How a weight of shape `(fan_out, fan_in)` is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Glorot & Bengio (2010): `std = gain·√(2/(fan_in+fan_out))`.
    Xavier(Dist, f64),
    /// He et al. (2015): `std = gain/√fan_in`.
    He(Dist, f64),
    /// LeCun (1998): `std = 1/√fan_in`.
    Lecun(Dist),
    /// Uniform on `[low, high]`.
    Uniform(f64, f64),
    /// Normal with this mean and standard deviation.
    Normal(f64, f64),
    /// Every element this value (zeros for biases).
    Constant(f64),
}

/// PyTorch's `torch.nn.init.calculate_gain` for an activation.
#[must_use]
pub fn gain(act: Activation) -> f64 {
    match act {
        Activation::Relu
        | Activation::Elu(_)
        | Activation::Silu(_)
        | Activation::Mish
        | Activation::Gelu(_)
        | Activation::Softplus(_) => 2f64.sqrt(),
        Activation::LeakyRelu(slope) => (2.0 / (1.0 + slope * slope)).sqrt(),
        Activation::Tanh => 5.0 / 3.0,
        Activation::Selu => 0.75,
        // Identity, sigmoid, hardtanh, and activations added later.
        _ => 1.0,
    }
}

impl Init {
    /// The default for a layer followed by `act`: He normal (with the
    /// activation's gain) for the ReLU family and its smooth successors,
    /// Xavier uniform for sigmoid, tanh and linear outputs, LeCun normal for
    /// SELU — the guidance of PyTorch's and Keras' documentation.
    #[must_use]
    pub fn for_activation(act: Activation) -> Init {
        match act {
            Activation::Relu
            | Activation::LeakyRelu(_)
            | Activation::Elu(_)
            | Activation::Silu(_)
            | Activation::Mish
            | Activation::Gelu(_)
            | Activation::Softplus(_) => Init::He(Dist::Normal, gain(act)),
            Activation::Selu => Init::Lecun(Dist::Normal),
            // Tanh, sigmoid, identity, hardtanh, and activations added later.
            _ => Init::Xavier(Dist::Uniform, gain(act)),
        }
    }

    /// The standard deviation this scheme gives a `(fan_out, fan_in)` weight.
    #[must_use]
    pub fn std(&self, fan_in: usize, fan_out: usize) -> f64 {
        let (fi, fo) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        match *self {
            Init::Xavier(_, g) => g * (2.0 / (fi + fo)).sqrt(),
            Init::He(_, g) => g / fi.sqrt(),
            Init::Lecun(_) => 1.0 / fi.sqrt(),
            Init::Uniform(lo, hi) => (hi - lo) / 12f64.sqrt(),
            Init::Normal(_, s) => s,
            Init::Constant(_) => 0.0,
        }
    }

    /// A tensor drawn from this scheme. For 2-D shapes `(fan_out, fan_in)` are
    /// the dims (PyTorch's Linear layout); for 1-D, `fan_in = fan_out = len`.
    #[must_use]
    pub fn tensor<T: Float>(&self, shape: impl Into<Shape>, rng: &mut impl Rng) -> Tensor<T> {
        let shape = shape.into();
        let d = shape.dims();
        let (fan_out, fan_in) = match d.len() {
            0 => (1, 1),
            1 => (d[0], d[0]),
            _ => (d[0], d[1..].iter().product()),
        };
        let std = self.std(fan_in, fan_out);
        let dist = match *self {
            Init::Xavier(d, _) | Init::He(d, _) | Init::Lecun(d) => d,
            Init::Uniform(lo, hi) => return Tensor::rand_uniform(shape, T::of(lo), T::of(hi), rng),
            Init::Normal(m, s) => return Tensor::rand_normal(shape, T::of(m), T::of(s), rng),
            Init::Constant(c) => return Tensor::full(shape, T::of(c)),
        };
        match dist {
            Dist::Uniform => {
                let bound = std * 3f64.sqrt();
                Tensor::rand_uniform(shape, T::of(-bound), T::of(bound), rng)
            }
            Dist::Normal => Tensor::rand_normal(shape, T::zero(), T::of(std), rng),
        }
    }

    /// A short name for reports (`he_normal(1.41)`).
    #[must_use]
    pub fn name(&self) -> String {
        let d = |d: Dist| if d == Dist::Uniform { "uniform" } else { "normal" };
        match *self {
            Init::Xavier(di, g) => format!("xavier_{}({g:.2})", d(di)),
            Init::He(di, g) => format!("he_{}({g:.2})", d(di)),
            Init::Lecun(di) => format!("lecun_{}", d(di)),
            Init::Uniform(lo, hi) => format!("uniform({lo}, {hi})"),
            Init::Normal(m, s) => format!("normal({m}, {s})"),
            Init::Constant(c) => format!("constant({c})"),
        }
    }

    /// True for the Xavier family (its variance halves a ReLU layer's signal).
    #[must_use]
    pub fn is_xavier(&self) -> bool {
        matches!(self, Init::Xavier(..))
    }
}

#[cfg(test)]
mod tests {
    use rand::{rngs::StdRng, SeedableRng};

    use super::*;

    fn sample_std(init: Init, fan_out: usize, fan_in: usize) -> f64 {
        let w: Tensor<f64> = init.tensor([fan_out, fan_in], &mut StdRng::seed_from_u64(5));
        let v = w.to_vec();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    }

    #[test]
    fn each_scheme_has_its_documented_variance() {
        let (o, i) = (300, 200);
        let cases = [
            (Init::Xavier(Dist::Uniform, 1.0), (2.0 / 500.0f64).sqrt()),
            (Init::Xavier(Dist::Normal, 5.0 / 3.0), 5.0 / 3.0 * (2.0 / 500.0f64).sqrt()),
            (Init::He(Dist::Normal, 2f64.sqrt()), (2.0 / 200.0f64).sqrt()),
            (Init::He(Dist::Uniform, 2f64.sqrt()), (2.0 / 200.0f64).sqrt()),
            (Init::Lecun(Dist::Normal), (1.0 / 200.0f64).sqrt()),
        ];
        for (init, want) in cases {
            let got = sample_std(init, o, i);
            assert!((got / want - 1.0).abs() < 0.02, "{}: std {got} vs {want}", init.name());
        }
    }

    #[test]
    fn uniform_schemes_stay_in_their_bound() {
        let w: Tensor<f64> = Init::He(Dist::Uniform, 1.0).tensor([50, 30], &mut StdRng::seed_from_u64(1));
        let bound = (3.0f64 / 30.0).sqrt();
        assert!(w.to_vec().iter().all(|x| x.abs() <= bound));
    }

    #[test]
    fn defaults_follow_the_activation() {
        assert_eq!(Init::for_activation(Activation::Relu), Init::He(Dist::Normal, 2f64.sqrt()));
        assert_eq!(Init::for_activation(Activation::Tanh), Init::Xavier(Dist::Uniform, 5.0 / 3.0));
        assert_eq!(Init::for_activation(Activation::Sigmoid), Init::Xavier(Dist::Uniform, 1.0));
        assert_eq!(Init::for_activation(Activation::Selu), Init::Lecun(Dist::Normal));
        let g = gain(Activation::LeakyRelu(0.01));
        assert!((g - (2.0f64 / 1.0001).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn seeded_draws_repeat() {
        let a: Tensor<f32> = Init::for_activation(Activation::Relu).tensor([4, 4], &mut StdRng::seed_from_u64(9));
        let b: Tensor<f32> = Init::for_activation(Activation::Relu).tensor([4, 4], &mut StdRng::seed_from_u64(9));
        assert_eq!(a.to_vec(), b.to_vec());
    }
}
