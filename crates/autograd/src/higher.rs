//! Functions of derivatives built on graph-mode backward
//! ([`Var::grad_graph`]): Hessian-vector products, Jacobians and Hessians of
//! small functions, in the shape of PyTorch's `torch.autograd.functional`.
//!
//! Each takes the function as a closure over a fresh tape and its inputs as
//! leaves, so it can be called on any architecture written with `Var` ops.

use strata_tensor::{Float, Tensor};

use crate::error::AutogradError;
use crate::tape::Tape;
use crate::var::Var;

/// The value of a scalar `f` at `x` and the Hessian-vector product
/// `H(x)·v` (one tensor per input, `v` shaped as `x`), with one graph-mode
/// backward and one ordinary backward: `∇ₓ⟨∇ₓf, v⟩`. Costs about twice a
/// gradient, never the `n²` of the Hessian.
///
/// ```
/// use strata_autograd::hvp;
/// use strata_tensor::Tensor;
///
/// // f(x) = Σ x³: H = diag(6x), so H·v = 6·x⊙v.
/// let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], [2]).unwrap();
/// let v = Tensor::from_vec(vec![1.0, -1.0], [2]).unwrap();
/// let (value, hv) = hvp(|_, x| x[0].powi(3).sum(), &[x], &[v]).unwrap();
/// assert_eq!(value, 9.0);
/// assert_eq!(hv[0].to_vec(), vec![6.0, -12.0]);
/// ```
///
/// # Errors
/// As [`Var::grad_graph`].
///
/// # Panics
/// If `f` does not return one element, or `v` does not match `x` in count
/// and shapes.
pub fn hvp<T, F>(f: F, x: &[Tensor<T>], v: &[Tensor<T>]) -> Result<(T, Vec<Tensor<T>>), AutogradError>
where
    T: Float,
    F: for<'t> Fn(&'t Tape<T>, &[Var<'t, T>]) -> Var<'t, T>,
{
    assert!(x.len() == v.len(), "hvp: {} inputs but {} directions", x.len(), v.len());
    for (i, (a, b)) in x.iter().zip(v).enumerate() {
        assert!(a.shape() == b.shape(), "hvp: input {i} is {:?}, its direction {:?}", a.shape(), b.shape());
    }
    let tape = Tape::new();
    let vars: Vec<Var<'_, T>> = x.iter().map(|t| tape.leaf(t.clone())).collect();
    let y = f(&tape, &vars);
    let grads = y.grad_graph(&vars)?;
    let dot = grads.iter().zip(v).map(|(g, d)| (*g * tape.constant(d.clone())).sum()).reduce(|a, b| a + b);
    let Some(dot) = dot else { return Ok((y.item(), Vec::new())) };
    let hv = dot.backward();
    let out = vars.iter().map(|w| hv.wrt(w).cloned().unwrap_or_else(|| Tensor::zeros(w.shape()))).collect();
    Ok((y.item(), out))
}

/// The Jacobian of a vector function at `x`: `(m, n)` for `m` outputs and
/// `n` input elements (both flattened), one backward per output row. For
/// small functions: it is `m` backward passes.
///
/// ```
/// use strata_autograd::jacobian;
/// use strata_tensor::Tensor;
///
/// // f(x) = (x₀·x₁, sin x₀): J = [[x₁, x₀], [cos x₀, 0]].
/// let x = Tensor::<f64>::from_vec(vec![0.5, 3.0], [2]).unwrap();
/// let j = jacobian(|_, x| {
///     let (a, b) = (x.narrow(0, 0, 1), x.narrow(0, 1, 1));
///     strata_autograd::Var::concat(&[a * b, a.sin()], 0)
/// }, &x);
/// assert_eq!(j.dims(), [2, 2]);
/// assert_eq!(j.to_vec(), vec![3.0, 0.5, 0.5f64.cos(), 0.0]);
/// ```
///
/// # Panics
/// If `f`'s output is not on the input's tape.
#[must_use]
pub fn jacobian<T, F>(f: F, x: &Tensor<T>) -> Tensor<T>
where
    T: Float,
    F: for<'t> Fn(&'t Tape<T>, Var<'t, T>) -> Var<'t, T>,
{
    let tape = Tape::new();
    let xv = tape.leaf(x.clone());
    let y = f(&tape, xv);
    one_hot_rows(y, xv)
}

/// The Hessian of a scalar function at `x`: `(n, n)` over the flattened
/// input, one graph-mode backward and then one backward per row. For small
/// functions (a few hundred inputs); for more, use [`hvp`].
///
/// ```
/// use strata_autograd::hessian;
/// use strata_tensor::Tensor;
///
/// // f(x) = x₀²·x₁: H = [[2x₁, 2x₀], [2x₀, 0]].
/// let x = Tensor::<f64>::from_vec(vec![1.5, -2.0], [2]).unwrap();
/// let h = hessian(|_, x| (x.narrow(0, 0, 1).square() * x.narrow(0, 1, 1)).sum(), &x).unwrap();
/// assert_eq!(h.to_vec(), vec![-4.0, 3.0, 3.0, 0.0]);
/// ```
///
/// # Errors
/// As [`Var::grad_graph`].
///
/// # Panics
/// If `f` does not return one element.
pub fn hessian<T, F>(f: F, x: &Tensor<T>) -> Result<Tensor<T>, AutogradError>
where
    T: Float,
    F: for<'t> Fn(&'t Tape<T>, Var<'t, T>) -> Var<'t, T>,
{
    let tape = Tape::new();
    let xv = tape.leaf(x.clone());
    let y = f(&tape, xv);
    let g = y.grad_graph(&[xv])?[0];
    Ok(one_hot_rows(g, xv))
}

/// `(m, n)`: row `i` is the gradient of `y`'s element `i` with respect to
/// `x` (zeros if it does not depend on it), one backward with a one-hot
/// seed per row.
fn one_hot_rows<T: Float>(y: Var<'_, T>, x: Var<'_, T>) -> Tensor<T> {
    let (m, n) = (y.shape().numel(), x.shape().numel());
    let mut rows = Vec::with_capacity(m * n);
    for i in 0..m {
        let mut seed = vec![T::zero(); m];
        seed[i] = T::one();
        match y.backward_with(Tensor::from_vec(seed, y.shape()).expect("one per output")).wrt(&x) {
            Some(g) => rows.extend(g.contiguous_data().iter().copied()),
            None => rows.extend(std::iter::repeat_n(T::zero(), n)),
        }
    }
    Tensor::from_vec(rows, [m, n]).expect("m rows of n")
}
