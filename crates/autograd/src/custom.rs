//! Custom differentiable ops: implement [`CustomOp`] in your own crate and
//! record it with [`Tape::apply`](crate::Tape::apply).

use strata_tensor::{Float, Tensor};

use crate::var::Var;

/// A differentiable op defined outside Strata.
///
/// Record it with [`Tape::apply`](crate::Tape::apply), which takes the op by
/// value and keeps it on the tape until backward has run; `Clone` is not
/// required. `forward` and `backward` see plain tensors, which is all the
/// first-order [`Var::backward`] needs. To differentiate through the op more
/// than once ([`Var::grad_graph`]), also implement
/// [`backward_graph`](Self::backward_graph), the same gradient written with
/// recorded ops; without it graph-mode backward stops with
/// [`AutogradError::NotTwiceDifferentiable`](crate::AutogradError::NotTwiceDifferentiable)
/// naming the op, never a silent zero.
///
/// ```
/// use strata_autograd::{CustomOp, Tape};
/// use strata_tensor::Tensor;
///
/// /// y = x³, dy/dx = 3x².
/// struct Cube;
/// impl CustomOp<f64> for Cube {
///     fn name(&self) -> &str { "cube" }
///     fn forward(&self, inputs: &[&Tensor<f64>]) -> Tensor<f64> { inputs[0].powi(3) }
///     fn backward(&self, inputs: &[&Tensor<f64>], _out: &Tensor<f64>, grad: &Tensor<f64>) -> Vec<Tensor<f64>> {
///         vec![grad.mul(&inputs[0].square().mul_scalar(3.0))]
///     }
/// }
///
/// let tape = Tape::<f64>::new();
/// let x = tape.leaf(Tensor::from_vec(vec![2.0], [1]).unwrap());
/// let grads = tape.apply(Cube, &[x]).sum().backward();
/// assert_eq!(grads.wrt(&x).unwrap().to_vec(), vec![12.0]);
/// ```
pub trait CustomOp<T: Float>: 'static {
    /// A name for errors and anomaly reports.
    fn name(&self) -> &str;

    /// The output from the inputs' values.
    fn forward(&self, inputs: &[&Tensor<T>]) -> Tensor<T>;

    /// The gradient with respect to each input (one tensor per input, of that
    /// input's shape), given the inputs, the output and the output's gradient.
    fn backward(&self, inputs: &[&Tensor<T>], output: &Tensor<T>, grad_output: &Tensor<T>) -> Vec<Tensor<T>>;

    /// [`backward`](Self::backward) as recorded ops on the inputs' tape,
    /// so the gradient can itself be differentiated: one var per input, of
    /// that input's shape. `None` (the default) says the op cannot be
    /// differentiated twice.
    ///
    /// ```
    /// use strata_autograd::{CustomOp, Tape, Var};
    /// use strata_tensor::Tensor;
    ///
    /// struct Cube;
    /// impl CustomOp<f64> for Cube {
    ///     fn name(&self) -> &str { "cube" }
    ///     fn forward(&self, inputs: &[&Tensor<f64>]) -> Tensor<f64> { inputs[0].powi(3) }
    ///     fn backward(&self, inputs: &[&Tensor<f64>], _out: &Tensor<f64>, grad: &Tensor<f64>) -> Vec<Tensor<f64>> {
    ///         vec![grad.mul(&inputs[0].square().mul_scalar(3.0))]
    ///     }
    ///     fn backward_graph<'t>(&self, inputs: &[Var<'t, f64>], _out: Var<'t, f64>, grad: Var<'t, f64>) -> Option<Vec<Var<'t, f64>>> {
    ///         Some(vec![grad * inputs[0].square().mul_scalar(3.0)])
    ///     }
    /// }
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.leaf(Tensor::from_vec(vec![2.0], [1]).unwrap());
    /// let dy = tape.apply(Cube, &[x]).sum().grad_graph(&[x]).unwrap()[0];   // 3x² = 12
    /// let d2y = dy.sum().grad_graph(&[x]).unwrap()[0];                       // 6x = 12
    /// assert_eq!((dy.value().to_vec(), d2y.value().to_vec()), (vec![12.0], vec![12.0]));
    /// ```
    fn backward_graph<'t>(
        &self,
        _inputs: &[Var<'t, T>],
        _output: Var<'t, T>,
        _grad_output: Var<'t, T>,
    ) -> Option<Vec<Var<'t, T>>> {
        None
    }
}
