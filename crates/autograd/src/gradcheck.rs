//! The gradient checker: backward against central finite differences, in f64.

use strata_tensor::Tensor;

use crate::error::GradCheckError;
use crate::tape::Tape;
use crate::var::Var;

/// Step and tolerances for [`gradcheck_with`]. An element passes when
/// `|analytic − numeric| ≤ atol + rtol·|numeric|`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCheck {
    /// Finite-difference step.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
}

impl Default for GradCheck {
    /// `eps = 1e-6`, `atol = 1e-6`, `rtol = 1e-4`: tight enough to catch a
    /// wrong derivative, loose enough for the O(eps²) truncation error.
    fn default() -> Self {
        GradCheck { eps: 1e-6, atol: 1e-6, rtol: 1e-4 }
    }
}

/// [`gradcheck_with`] with the default tolerances.
///
/// ```
/// use strata_autograd::gradcheck;
/// use strata_tensor::Tensor;
///
/// let x = Tensor::from_vec(vec![0.3, -1.2, 2.0], [3]).unwrap();
/// let w = Tensor::from_vec(vec![0.5, 0.1, -0.7, 1.1, 0.2, 0.4], [2, 3]).unwrap();
/// gradcheck(|_tape, v| v[1].matmul(v[0].reshape(&[3, 1])).tanh().sum(), &[x, w]).unwrap();
/// ```
///
/// # Errors
/// The worst element that failed, naming the input, its index, both values and the error.
pub fn gradcheck<F>(f: F, inputs: &[Tensor<f64>]) -> Result<(), GradCheckError>
where
    F: for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64>,
{
    gradcheck_with(f, inputs, GradCheck::default())
}

/// Compares the gradients backward computes for `f(inputs)` with central
/// finite differences of every input element.
///
/// A non-scalar output is reduced to `Σ seed ⊙ f(x)` with a fixed seed of
/// mixed signs and magnitudes, so every output element is checked.
///
/// # Errors
/// The worst element that failed, naming the input, its index, both values and the error.
pub fn gradcheck_with<F>(f: F, inputs: &[Tensor<f64>], opts: GradCheck) -> Result<(), GradCheckError>
where
    F: for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64>,
{
    let tape = Tape::<f64>::new();
    let vars: Vec<Var<'_, f64>> = inputs.iter().map(|t| tape.leaf(t.contiguous())).collect();
    let out = f(&tape, &vars);
    let seed = seed_like(&out.value());
    let grads = out.backward_with(seed.clone());

    let objective = |xs: &[Tensor<f64>]| -> f64 {
        let tape = Tape::<f64>::new();
        let vs: Vec<Var<'_, f64>> = xs.iter().map(|t| tape.leaf(t.clone())).collect();
        f(&tape, &vs).value().mul(&seed).sum_all()
    };

    let mut worst: Option<(f64, GradCheckError)> = None;
    let mut probe: Vec<Tensor<f64>> = inputs.iter().map(Tensor::contiguous).collect();
    for (i, input) in inputs.iter().enumerate() {
        let analytic = grads.wrt(&vars[i]).map(Tensor::to_vec).unwrap_or_else(|| vec![0.0; input.numel()]);
        let base = input.to_vec();
        for (j, &x0) in base.iter().enumerate() {
            let mut plus = base.clone();
            plus[j] = x0 + opts.eps;
            probe[i] = Tensor::from_vec(plus, input.shape().clone()).expect("same shape");
            let fp = objective(&probe);
            let mut minus = base.clone();
            minus[j] = x0 - opts.eps;
            probe[i] = Tensor::from_vec(minus, input.shape().clone()).expect("same shape");
            let fm = objective(&probe);
            let numeric = (fp - fm) / (2.0 * opts.eps);
            let error = (analytic[j] - numeric).abs();
            let tolerance = opts.atol + opts.rtol * numeric.abs();
            // Written as "passed" so a NaN on either side counts as a failure.
            let passed = error <= tolerance;
            if !passed {
                let ratio = if error.is_finite() { error / tolerance } else { f64::INFINITY };
                if worst.as_ref().is_none_or(|(r, _)| ratio > *r) {
                    let index = unravel(j, input.dims());
                    worst = Some((
                        ratio,
                        GradCheckError { input: i, index, analytic: analytic[j], numeric, error, tolerance },
                    ));
                }
            }
        }
        probe[i] = input.contiguous();
    }
    match worst {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// A fixed seed of the output's shape: ones for a scalar, else values in
/// ±[0.5, 1.5] so no output element is weighted zero.
fn seed_like(out: &Tensor<f64>) -> Tensor<f64> {
    if out.numel() == 1 {
        return Tensor::ones(out.shape().clone());
    }
    let data = (0..out.numel())
        .map(|i| {
            let u = ((i as u64).wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0;
            if i % 3 == 1 {
                -(0.5 + u)
            } else {
                0.5 + u
            }
        })
        .collect();
    Tensor::from_vec(data, out.shape().clone()).expect("same shape")
}

/// Row-major multi-index of flat position `j`.
fn unravel(mut j: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for d in (0..dims.len()).rev() {
        idx[d] = j % dims[d];
        j /= dims[d];
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CustomOp, Tape};

    /// A deliberately wrong derivative: d(x²) reported as x.
    #[derive(Clone)]
    struct WrongSquare;
    impl CustomOp<f64> for WrongSquare {
        fn name(&self) -> &str {
            "wrong_square"
        }
        fn forward(&self, inputs: &[&Tensor<f64>]) -> Tensor<f64> {
            inputs[0].square()
        }
        fn backward(&self, inputs: &[&Tensor<f64>], _: &Tensor<f64>, g: &Tensor<f64>) -> Vec<Tensor<f64>> {
            vec![g.mul(inputs[0])]
        }
    }

    #[test]
    fn catches_a_wrong_gradient_and_names_it() {
        let x = Tensor::from_vec(vec![1.0, -2.0, 3.0], [3]).unwrap();
        let err = gradcheck(|t: &Tape<f64>, v| t.apply(WrongSquare, &[v[0]]).sum(), &[x]).unwrap_err();
        assert_eq!(err.input, 0);
        assert_eq!(err.index, vec![2]); // the largest |x| has the largest error
        assert!((err.analytic - 3.0).abs() < 1e-12 && (err.numeric - 6.0).abs() < 1e-6);
        assert!(err
            .to_string()
            .starts_with("gradcheck: input 0 element [2]: analytic 3.000000e0 vs numeric 6.000000e0"));
    }
}
