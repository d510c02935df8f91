//! Tensor helpers shared by several backward arms.

use strata_tensor::{Float, Shape, Tensor};

/// `t` summed down to `shape` (a broadcast operand's gradient). Takes the
/// share by value: most shares already have the operand's shape and are
/// passed on as they are, with no clone.
pub(crate) fn reduced<T: Float>(t: Tensor<T>, shape: &Shape) -> Tensor<T> {
    if t.shape() == shape {
        t
    } else {
        t.sum_to(shape)
    }
}

/// `f(x, y, g)` elementwise over three tensors of one shape.
pub(crate) fn map3<T: Float>(x: &Tensor<T>, y: &Tensor<T>, g: &Tensor<T>, f: impl Fn(T, T, T) -> T) -> Tensor<T> {
    let (xs, ys, gs) = (x.contiguous_data(), y.contiguous_data(), g.contiguous_data());
    let values = xs.iter().zip(ys.iter()).zip(gs.iter()).map(|((&x, &y), &g)| f(x, y, g));
    Tensor::from_iter_exact(values, x.shape().clone()).expect("same shape")
}

/// The gradient of a sum over `axis`, broadcast back to the input's shape.
pub(crate) fn sum_axis_grad<T: Float>(g: &Tensor<T>, input: &Tensor<T>, axis: usize, keepdim: bool) -> Tensor<T> {
    let g = if keepdim { g.clone() } else { g.unsqueeze(axis) };
    g.broadcast_to(input.shape().clone()).contiguous()
}

/// Softmax backward along `axis`: `y ⊙ (g − Σ_axis g⊙y)`.
pub(crate) fn softmax_grad<T: Float>(y: &Tensor<T>, g: &Tensor<T>, axis: usize) -> Tensor<T> {
    let dot = g.mul(y).sum_axis(axis as isize, true);
    y.mul(&g.sub(&dot))
}

/// Log-softmax backward along `axis`: `g − e^y ⊙ Σ_axis g`.
pub(crate) fn log_softmax_grad<T: Float>(y: &Tensor<T>, g: &Tensor<T>, axis: usize) -> Tensor<T> {
    g.sub(&y.exp().mul(&g.sum_axis(axis as isize, true)))
}

/// Zeros shaped like `like`, with `src[j]` added at flat index `taken[j]`.
pub(crate) fn scatter<T: Float>(src: &Tensor<T>, taken: &[usize], like: &Tensor<T>) -> Tensor<T> {
    let mut out = vec![T::zero(); like.numel()];
    for (&at, &v) in taken.iter().zip(src.contiguous_data().iter()) {
        out[at] += v;
    }
    Tensor::from_vec(out, like.shape().clone()).expect("the input's size")
}

/// `out[j] = src[taken[j]]`, shaped like `like`.
pub(crate) fn gather<T: Float>(src: &Tensor<T>, taken: &[usize], like: &Tensor<T>) -> Tensor<T> {
    let data = src.contiguous_data();
    Tensor::from_vec(taken.iter().map(|&at| data[at]).collect(), like.shape().clone()).expect("one value per index")
}

/// For `maximum` (`max`) or `minimum`: the share of the gradient the first
/// operand `x` takes against `y` — all if it wins, none if it loses, half
/// on a tie.
pub(crate) fn extremum_share<T: Float>(max: bool) -> impl Fn(T, T) -> T + Copy + Send + Sync {
    move |x: T, y: T| {
        let (x, y) = if max { (x, y) } else { (y, x) };
        if x > y {
            T::one()
        } else if x == y {
            T::of(0.5)
        } else {
            T::zero()
        }
    }
}
