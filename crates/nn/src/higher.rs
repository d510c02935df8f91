//! Higher-order gradients with respect to a model's parameters:
//! [`param_grads_graph`] (PyTorch's `autograd.grad(loss,
//! model.parameters(), create_graph=True)`) and [`hvp_params`], the
//! Hessian of a loss in the parameters times a direction.

use strata_autograd::{AutogradError, Tape, Var};
use strata_tensor::{Float, Tensor};

use crate::module::Module;

/// The gradient of `loss` with respect to each trainable parameter of
/// `model`, as vars on the loss's tape (so they can be differentiated again
/// or penalised), named as [`Module::named_params`] names them. A
/// parameter the loss does not use gets zeros.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use strata_autograd::{Activation, Tape};
/// use strata_nn::{param_grads_graph, Mlp, Module};
/// use strata_tensor::Tensor;
///
/// let model = Mlp::<f64>::new_typed(&[3, 4, 2], Activation::Tanh, &mut StdRng::seed_from_u64(0));
/// let tape = Tape::new();
/// let loss = model.forward(&tape, tape.constant(Tensor::ones([2, 3]))).cross_entropy(&[0, 1]);
/// let grads = param_grads_graph(&loss, &model).unwrap();
/// // ‖∇θ loss‖², itself differentiable: a gradient-norm penalty on the weights.
/// let norm = grads.iter().map(|(_, g)| g.square().sum()).reduce(|a, b| a + b).unwrap();
/// let first = loss.backward();
/// assert_eq!(grads[0].1.value().to_vec(), first.of(&model.layers[0].linear.weight).unwrap().to_vec());
/// assert!(norm.backward().of(&model.layers[0].linear.weight).is_some());
/// ```
///
/// # Errors
/// As [`Var::grad_graph`].
pub fn param_grads_graph<'t, T: Float, M: Module<T> + ?Sized>(
    loss: &Var<'t, T>,
    model: &M,
) -> Result<Vec<(String, Var<'t, T>)>, AutogradError> {
    let mut params = Vec::new();
    model.visit_params(&mut |name, p| {
        if !p.is_frozen() {
            params.push((name.to_string(), p.id(), p.value().shape().clone()));
        }
    });
    let tags: Vec<u64> = params.iter().map(|p| p.1).collect();
    let grads = loss.grad_graph_tagged(&tags)?;
    let tape = loss.tape();
    Ok(params
        .into_iter()
        .zip(grads)
        .map(|((name, _, shape), g)| (name, g.unwrap_or_else(|| tape.constant(Tensor::zeros(shape)))))
        .collect())
}

/// `H·v` for the Hessian `H` of `loss(model)` in `model`'s trainable
/// parameters, with one graph-mode and one ordinary backward (never the
/// Hessian itself): `v` and the result hold one tensor per trainable
/// parameter, in [`Module::visit_params`] order. The loss's value comes too.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use strata_autograd::{Activation, Tape};
/// use strata_nn::{hvp_params, Mlp, Module};
/// use strata_tensor::Tensor;
///
/// let model = Mlp::<f64>::new_typed(&[3, 4, 2], Activation::Tanh, &mut StdRng::seed_from_u64(0));
/// let x = Tensor::ones([2, 3]);
/// let v: Vec<Tensor<f64>> = model.named_params().iter().map(|(_, p)| Tensor::ones(p.value().shape().clone())).collect();
/// let (loss, hv) = hvp_params(&model, |tape, m| m.forward(tape, tape.constant(x.clone())).cross_entropy(&[0, 1]), &v).unwrap();
/// assert!(loss > 0.0);
/// assert_eq!(hv.len(), 4);
/// assert_eq!(hv[0].dims(), [4, 3]);
/// ```
///
/// # Errors
/// As [`Var::grad_graph`].
///
/// # Panics
/// If `v` does not hold one tensor of each trainable parameter's shape.
pub fn hvp_params<T, M, F>(model: &M, loss: F, v: &[Tensor<T>]) -> Result<(T, Vec<Tensor<T>>), AutogradError>
where
    T: Float,
    M: Module<T> + ?Sized,
    F: for<'t> Fn(&'t Tape<T>, &M) -> Var<'t, T>,
{
    let tape = Tape::new();
    let y = loss(&tape, model);
    let grads = param_grads_graph(&y, model)?;
    assert!(grads.len() == v.len(), "hvp_params: {} directions for {} trainable parameters", v.len(), grads.len());
    let mut dot = None;
    for ((name, g), d) in grads.iter().zip(v) {
        assert!(
            g.dims() == d.dims(),
            "hvp_params: direction for `{name}` is {:?}, the parameter {:?}",
            d.dims(),
            g.dims()
        );
        let term = (*g * tape.constant(d.clone())).sum();
        dot = Some(match dot {
            None => term,
            Some(acc) => acc + term,
        });
    }
    let Some(dot) = dot else { return Ok((y.item(), Vec::new())) };
    let hv = dot.backward();
    let mut out = Vec::new();
    model.visit_params(&mut |_, p| {
        if !p.is_frozen() {
            out.push(hv.by_tag(p.id()).cloned().unwrap_or_else(|| Tensor::zeros(p.value().shape().clone())));
        }
    });
    Ok((y.item(), out))
}
