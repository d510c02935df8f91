//! [`gradcheck_module`]: backward against finite differences for every
//! parameter of a model.

use strata_autograd::{GradCheck, Tape, Var};
use strata_tensor::Tensor;

use crate::module::Module;
use crate::param::Param;

/// A parameter element whose gradient disagrees with its finite difference.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "gradcheck: parameter `{param}` element {index}: analytic {analytic:.6e} vs numeric {numeric:.6e} \
     (error {error:.3e} > tolerance {tolerance:.3e})"
)]
pub struct ModuleGradCheckError {
    /// State-dict name of the parameter.
    pub param: String,
    /// Flat element index.
    pub index: usize,
    /// Backward's value.
    pub analytic: f64,
    /// Central difference.
    pub numeric: f64,
    /// `|analytic − numeric|`.
    pub error: f64,
    /// `atol + rtol·|numeric|`.
    pub tolerance: f64,
}

/// Checks the gradient of `loss(tape, model)` with respect to every trainable
/// parameter of `model` (in f64) against central differences, perturbing one
/// element at a time. `loss` must be deterministic (switch dropout off).
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use strata_autograd::{Activation, GradCheck};
/// use strata_nn::{gradcheck_module, Mlp, Module};
/// use strata_tensor::Tensor;
///
/// let mut rng = StdRng::seed_from_u64(3);
/// let mut model = Mlp::<f64>::new_typed(&[3, 4, 2], Activation::Tanh, &mut rng);
/// let x = Tensor::rand_normal([5, 3], 0.0, 1.0, &mut rng);
/// gradcheck_module(&mut model, |tape, m| m.forward(tape, tape.constant(x.clone())).cross_entropy(&[0, 1, 1, 0, 1]), GradCheck::default()).unwrap();
/// ```
///
/// # Errors
/// The worst failing element, naming the parameter.
pub fn gradcheck_module<M, F>(model: &mut M, loss: F, opts: GradCheck) -> Result<(), ModuleGradCheckError>
where
    M: Module<f64>,
    F: for<'t> Fn(&'t Tape<f64>, &M) -> Var<'t, f64>,
{
    let eval = |m: &M| {
        let tape = Tape::new();
        tape.no_grad(|| loss(&tape, m).item())
    };
    let analytic: Vec<(String, Tensor<f64>, Param<f64>)> = {
        let tape = Tape::new();
        let l = loss(&tape, model);
        assert!(l.value().numel() == 1, "gradcheck_module: the loss must be a scalar, got {:?}", l.shape());
        let grads = l.backward();
        model
            .named_params()
            .into_iter()
            .filter(|(_, p)| !p.is_frozen())
            .map(|(n, p)| {
                let g = grads.by_tag(p.id()).cloned().unwrap_or_else(|| Tensor::zeros(p.value().shape().clone()));
                (n, g, p)
            })
            .collect()
    };
    let mut worst: Option<ModuleGradCheckError> = None;
    for (name, grad, original) in &analytic {
        let g = grad.to_vec();
        for (i, &a) in g.iter().enumerate() {
            let mut at = |delta: f64| {
                model.visit_params_mut(&mut |n, p| {
                    if n == name {
                        let mut v = original.value().clone();
                        v.as_mut_slice()[i] += delta;
                        p.set(v);
                    }
                });
                eval(model)
            };
            let numeric = (at(opts.eps) - at(-opts.eps)) / (2.0 * opts.eps);
            model.visit_params_mut(&mut |n, p| {
                if n == name {
                    p.set(original.value().clone());
                }
            });
            let error = (a - numeric).abs();
            let tolerance = opts.atol + opts.rtol * numeric.abs();
            // A NaN error fails too: `passes` is false for it.
            let passes = error <= tolerance;
            if !passes && worst.as_ref().is_none_or(|w| error - tolerance > w.error - w.tolerance) {
                worst = Some(ModuleGradCheckError {
                    param: name.clone(),
                    index: i,
                    analytic: a,
                    numeric,
                    error,
                    tolerance,
                });
            }
        }
    }
    worst.map_or(Ok(()), Err)
}
