//! Loss functions on vars. Cross-entropy, BCE with logits and MSE are the
//! autograd crate's fused, closed-form ops; L1 and Huber are built from
//! primitives (their gradients are sign-like and cheap either way).
//! Every loss is the mean over all elements (PyTorch's `reduction='mean'`).

use strata_autograd::Var;
use strata_tensor::{Float, Tensor};

/// Softmax cross-entropy of `logits` `[batch, classes]` against integer labels.
///
/// # Panics
/// If `labels.len()` differs from the batch or a label is out of range.
#[must_use]
#[track_caller]
pub fn cross_entropy<'t, T: Float>(logits: Var<'t, T>, labels: &[usize]) -> Var<'t, T> {
    logits.cross_entropy(labels)
}

/// Binary cross-entropy of `logits` against targets in `[0, 1]` (stable for any logit).
///
/// # Panics
/// If the shapes differ.
#[must_use]
#[track_caller]
pub fn bce_with_logits<'t, T: Float>(logits: Var<'t, T>, targets: &Tensor<T>) -> Var<'t, T> {
    logits.bce_with_logits(targets)
}

/// Mean squared error.
///
/// # Panics
/// If the shapes differ.
#[must_use]
#[track_caller]
pub fn mse<'t, T: Float>(pred: Var<'t, T>, targets: &Tensor<T>) -> Var<'t, T> {
    pred.mse(targets)
}

/// Mean absolute error, `mean |pred − target|` (gradient `sign(pred − target)/n`, 0 at a tie).
///
/// # Panics
/// If the shapes differ.
#[must_use]
#[track_caller]
pub fn l1<'t, T: Float>(pred: Var<'t, T>, targets: &Tensor<T>) -> Var<'t, T> {
    check_same("l1", &pred, targets);
    (pred - pred.tape().constant(targets.clone())).abs().mean()
}

/// Huber loss with threshold `delta` (PyTorch's `HuberLoss`): `½d²` where
/// `|d| ≤ delta`, `delta·(|d| − ½delta)` beyond, averaged.
///
/// Written as `½q² + delta·(|d| − q)` with `q = min(|d|, delta)`, which is
/// both branches at once and gives the gradient `clamp(d, −delta, delta)/n`.
///
/// # Panics
/// If the shapes differ or `delta <= 0`.
#[must_use]
#[track_caller]
pub fn huber<'t, T: Float>(pred: Var<'t, T>, targets: &Tensor<T>, delta: f64) -> Var<'t, T> {
    check_same("huber", &pred, targets);
    assert!(delta > 0.0, "huber: delta = {delta} must be positive");
    let a = (pred - pred.tape().constant(targets.clone())).abs();
    let q = a.hardtanh(-1.0, delta);
    (q.square().mul_scalar(T::of(0.5)) + (a - q).mul_scalar(T::of(delta))).mean()
}

#[track_caller]
fn check_same<T: Float>(op: &str, pred: &Var<'_, T>, targets: &Tensor<T>) {
    assert!(
        &pred.shape() == targets.shape(),
        "{op}: predictions {:?} and targets {:?} differ in shape",
        pred.shape(),
        targets.shape()
    );
}

#[cfg(test)]
mod tests {
    use strata_autograd::{gradcheck, Tape};

    use super::*;

    fn t(v: &[f64]) -> Tensor<f64> {
        Tensor::from_vec(v.to_vec(), [v.len()]).unwrap()
    }

    #[test]
    fn l1_and_huber_values() {
        let tape = Tape::new();
        let p = tape.leaf(t(&[0.0, 2.0, -3.0, 0.5]));
        let y = t(&[0.0, 0.0, 0.0, 0.0]);
        assert!((l1(p, &y).item() - 5.5 / 4.0).abs() < 1e-12);
        // d = 0, 2, -3, 0.5 with delta 1: 0, 1·(2 − .5), 1·(3 − .5), .125
        assert!((huber(p, &y, 1.0).item() - (0.0 + 1.5 + 2.5 + 0.125) / 4.0).abs() < 1e-12);
    }

    #[test]
    fn huber_gradient_is_clamped_difference() {
        let tape = Tape::new();
        let p = tape.leaf(t(&[0.3, 2.0, -3.0]));
        let g = huber(p, &t(&[0.0, 0.0, 0.0]), 1.0).backward();
        let want = [0.3 / 3.0, 1.0 / 3.0, -1.0 / 3.0];
        for (a, b) in g.wrt(&p).unwrap().to_vec().iter().zip(want) {
            assert!((a - b).abs() < 1e-12);
        }
        // Away from the kinks (|d| = 0.5 for Huber, d = 0 for L1) the gradient is exact.
        gradcheck(
            |_, v| huber(v[0], &t(&[0.1, -0.2, 0.4]), 0.5) + l1(v[0], &t(&[1.0, 1.0, 1.0])),
            &[t(&[0.35, 2.0, -3.0])],
        )
        .unwrap();
    }

    #[test]
    #[should_panic(expected = "l1: predictions [3] and targets [2] differ in shape")]
    fn shape_mismatch_names_the_loss() {
        let tape = Tape::<f64>::new();
        let _ = l1(tape.leaf(t(&[1.0, 2.0, 3.0])), &t(&[1.0, 2.0]));
    }
}
